"""Pooling as composites over the ``window`` primitive.

Max pooling pads with -inf, takes ``argmax`` over each flattened window and ``gather``s
the value, so the gradient goes to exactly one input element per window (as PyTorch's).
Average pooling sums windows and divides by a count that is itself a window-sum of a
constant mask, so nothing depends on host reads and the whole thing traces.
"""
from __future__ import annotations

import math

from ...frontend.creation import arange, ones, tensor
from ...ops import lax as L
from ._util import check_tensor, ntuple
from .conv import pad_widths


def _pool_out(n, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = n + 2 * p - eff
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def _prepare(input, kernel_size, stride, padding, dilation, ceil_mode, nsp, name):
    check_tensor(input, name)
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{name}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D "
                           f"(batched) input, got shape {tuple(input.shape)}")
    k = ntuple(kernel_size, nsp, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else ntuple(stride, nsp, "stride")
    p = ntuple(padding, nsp, "padding")
    d = ntuple(dilation, nsp, "dilation")
    if any(v <= 0 for v in k + s + d):
        raise ValueError(f"{name}: kernel_size {k}, stride {s} and dilation {d} must be "
                         f"positive")
    if any(pp > kk // 2 for pp, kk in zip(p, k)):
        raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, but "
                           f"got pad={p}, kernel_size={k}")
    spatial = tuple(input.shape[-nsp:])
    out = tuple(_pool_out(n, kk, ss, pp, dd, ceil_mode)
                for n, kk, ss, pp, dd in zip(spatial, k, s, p, d))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{name}: output size {out} is too small for input of shape "
                           f"{tuple(input.shape)} (kernel_size={k}, stride={s}, padding={p}, "
                           f"dilation={d})")
    # lo = padding; hi = exactly what the last window needs (may crop in floor mode)
    pads = tuple((pp, (o - 1) * ss + dd * (kk - 1) + 1 - n - pp)
                 for n, kk, ss, pp, dd, o in zip(spatial, k, s, p, d, out))
    return k, s, p, d, out, pads


def _full_pads(x, pads):
    return ((0, 0),) * (x.dim() - len(pads)) + tuple(pads)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nsp,
              name):
    k, s, p, d, out, pads = _prepare(input, kernel_size, stride, padding, dilation, ceil_mode,
                                     nsp, name)
    fill = float("-inf") if input.dtype.is_floating_point else _int_min(input.dtype)
    xp = pad_widths(input, _full_pads(input, pads), fill)
    w = L.window(xp, k, s, d)                                   # (..., *out, *k)
    lead = tuple(w.shape[:w.dim() - nsp])
    w = w.reshape(lead + (math.prod(k),))
    idx = w.argmax(-1, keepdim=True)
    values = w.gather(-1, idx).squeeze(-1)
    if not return_indices:
        return values
    return values, _flat_indices(idx.squeeze(-1), input, k, s, p, d, out, nsp)


def _int_min(dtype):
    import numpy as np
    return int(np.iinfo(dtype.np).min)


def _flat_indices(widx, input, k, s, p, d, out, nsp):
    """PyTorch's indices: positions in the flattened (unpadded) spatial plane."""
    spatial = tuple(input.shape[-nsp:])
    flat = None
    rem = widx
    stride_in = 1
    coords = []  # window offset along each dim, innermost first
    for i in reversed(range(nsp)):
        kk = rem.remainder(k[i])
        rem = rem.floor_divide(k[i])
        coords.append((i, kk))
    for i, kk in coords:  # innermost dim first
        start = arange(out[i], dtype=widx.dtype) * s[i] - p[i]
        start = start.reshape((out[i],) + (1,) * (nsp - 1 - i))
        pos = start + kk * d[i]
        term = pos * stride_in
        flat = term if flat is None else flat + term
        stride_in *= spatial[i]
    return flat


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     3, "max_pool3d")


max_pool1d_with_indices = max_pool1d
max_pool2d_with_indices = max_pool2d


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nsp, name):
    k, s, p, d, out, pads = _prepare(input, kernel_size, stride, padding, 1, ceil_mode, nsp,
                                     name)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating-point input, got {input.dtype!r}")
    xp = pad_widths(input, _full_pads(input, pads), 0.0)
    w = L.window(xp, k, s, d)
    axes = tuple(range(w.dim() - nsp, w.dim()))
    total = w.sum(axes)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{name}: divisor must be not zero")
        return total / divisor_override
    spatial = tuple(input.shape[-nsp:])
    if count_include_pad:
        # the padded input counts, the extra ceil_mode overhang beyond it does not
        mask = ones(tuple(n + 2 * pp for n, pp in zip(spatial, p)), dtype=input.dtype)
        mpads = tuple((0, hi - pp) for (lo, hi), pp in zip(pads, p))
    else:
        mask = ones(spatial, dtype=input.dtype)
        mpads = pads
    count = L.window(pad_widths(mask, mpads, 0.0), k, s, d).sum(tuple(range(nsp, 2 * nsp)))
    return total / count


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3, "avg_pool3d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    k = ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k[0] * k[1]).pow(1.0 / norm_type)


# ---------------------------------------------------------------- adaptive pooling
def _adaptive_sizes(output_size, spatial, name):
    nsp = len(spatial)
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nsp:
            raise ValueError(f"{name}: output_size must have {nsp} elements, got "
                             f"{output_size!r}")
        out = tuple(n if o is None else int(o) for o, n in zip(output_size, spatial))
    else:
        out = (int(output_size),) * nsp
    if any(o <= 0 for o in out):
        raise ValueError(f"{name}: output_size must be positive, got {out}")
    return out


def _bins(n, o):
    return [((i * n) // o, -(-((i + 1) * n) // o)) for i in range(o)]


def _check_adaptive(input, nsp, name):
    check_tensor(input, name)
    if input.dim() not in (nsp + 1, nsp + 2) or any(n == 0 for n in input.shape[-nsp:]):
        raise RuntimeError(f"{name}: expected a {nsp + 1}-D or {nsp + 2}-D input with non-zero "
                           f"spatial size, got shape {tuple(input.shape)}")


def _adaptive_avg(input, output_size, nsp, name):
    """Each output dim is a matmul with a constant averaging matrix (separable, exact)."""
    _check_adaptive(input, nsp, name)
    spatial = tuple(input.shape[-nsp:])
    out = _adaptive_sizes(output_size, spatial, name)
    x = input
    nd = input.dim()
    for i, (n, o) in enumerate(zip(spatial, out)):
        if n == o:
            continue
        rows = []
        for a, b in _bins(n, o):
            rows.append([1.0 / (b - a) if a <= j < b else 0.0 for j in range(n)])
        a_mat = tensor(rows, dtype=input.dtype)                 # (o, n)
        dim = nd - nsp + i
        x = x.movedim(dim, -1).matmul(a_mat.t()).movedim(-1, dim)
    return x


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def _adaptive_max(input, output_size, return_indices, nsp, name):
    _check_adaptive(input, nsp, name)
    spatial = tuple(input.shape[-nsp:])
    out = _adaptive_sizes(output_size, spatial, name)
    if all(n % o == 0 for n, o in zip(spatial, out)):
        k = tuple(n // o for n, o in zip(spatial, out))
        return _max_pool(input, k, k, 0, 1, False, return_indices, nsp, name)
    if return_indices:
        raise NotImplementedError(f"{name}: return_indices=True is only supported when the "
                                  f"input size is divisible by the output size")
    # uneven bins: one slice-and-max per output cell (small outputs only in practice)
    from ...frontend.functional.shape import stack
    lead = tuple(input.shape[:-nsp])
    cells = []
    import itertools
    for idx in itertools.product(*(_bins(n, o) for n, o in zip(spatial, out))):
        sl = (Ellipsis,) + tuple(slice(a, b) for a, b in idx)
        patch = input[sl].reshape(lead + (-1,))
        cells.append(patch.max(-1)[0])
    return stack(cells, -1).reshape(lead + out)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


# ---------------------------------------------------------------- unpooling
def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nsp, name):
    check_tensor(input, name)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}: indices of shape {tuple(indices.shape)} must match input "
                           f"of shape {tuple(input.shape)}")
    k = ntuple(kernel_size, nsp, "kernel_size")
    s = k if stride is None else ntuple(stride, nsp, "stride")
    p = ntuple(padding, nsp, "padding")
    spatial_in = tuple(input.shape[-nsp:])
    default = tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(spatial_in, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(output_size)[-nsp:]
        for o, dflt, ss in zip(out, default, s):
            if not dflt - ss < o < dflt + ss:
                raise ValueError(f"{name}: invalid output_size {tuple(output_size)} (expected "
                                 f"sizes between {tuple(d - x + 1 for d, x in zip(default, s))}"
                                 f" and {tuple(d + x - 1 for d, x in zip(default, s))})")
    lead = tuple(input.shape[:-nsp])
    flat_in = input.reshape(lead + (-1,))
    flat_idx = indices.reshape(lead + (-1,)).long()
    target = flat_in.new_zeros(lead + (math.prod(out),))
    return target.scatter(-1, flat_idx, flat_in).reshape(lead + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")
