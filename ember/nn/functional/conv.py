"""Convolutions as composites over the ``conv_general`` primitive.

``conv_general`` is JAX's conv_general_dilated (NC[spatial] x OI[spatial]); transposed
convolution is the same primitive with ``lhs_dilation = stride`` and the kernel flipped
and transposed per group, so every gradient is again ``conv_general``.
"""
from __future__ import annotations

from ...ops import lax as L
from ._util import check_tensor, ntuple


def pad_widths(x, pads, value=0.0):
    """Pad (or, for negative widths, crop) each dim by ``pads[d] = (lo, hi)``."""
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        starts = tuple(max(-lo, 0) for lo, _ in pads)
        stops = tuple(n - max(-hi, 0) for n, (_, hi) in zip(x.shape, pads))
        x = L.slice_(x, starts, stops)
        pads = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pads)
    if any(p != (0, 0) for p in pads):
        x = L.pad(x, pads, value)
    return x


def _batched(input, nsp, name, weight_shape=None):
    """Add the batch dim to an unbatched input; returns (input, was_unbatched)."""
    if input.dim() == nsp + 1:
        return input.unsqueeze(0), True
    if input.dim() != nsp + 2:
        raise RuntimeError(f"{name}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D "
                           f"(batched) input, got shape {tuple(input.shape)}")
    return input, False


def conv_padding(padding, kernel, dilation, stride, nsp, name):
    """PyTorch's padding argument (int, tuple, 'same', 'valid') as (lo, hi) pairs."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                         f"'valid', 'same'")
    p = ntuple(padding, nsp, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{name}: negative padding {p} is not supported")
    return tuple((v, v) for v in p)


def _check_dtypes(input, weight, name):
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"{name}: input type ({input.dtype.name}) and weight type "
                           f"({weight.dtype.name}) should be the same")


def _conv(input, weight, bias, stride, padding, dilation, groups, nsp, name):
    check_tensor(input, name)
    check_tensor(weight, name, "weight")
    if weight.dim() != nsp + 2:
        raise RuntimeError(f"{name}: weight must be {nsp + 2}-D (out, in/groups, *kernel), got "
                           f"shape {tuple(weight.shape)}")
    x, unbatched = _batched(input, nsp, name)
    _check_dtypes(x, weight, name)
    if groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(f"{name}: out_channels {weight.shape[0]} must be divisible by "
                           f"groups={groups}")
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"{name}: expected input{list(input.shape)} to have "
                           f"{weight.shape[1] * groups} channels (weight of shape "
                           f"{tuple(weight.shape)}, groups={groups}), but got {x.shape[1]} "
                           f"channels instead")
    stride = ntuple(stride, nsp, "stride")
    dilation = ntuple(dilation, nsp, "dilation")
    kernel = tuple(weight.shape[2:])
    pads = conv_padding(padding, kernel, dilation, stride, nsp, name)
    for n, k, d, (lo, hi) in zip(x.shape[2:], kernel, dilation, pads):
        if n + lo + hi < d * (k - 1) + 1:
            raise RuntimeError(f"{name}: calculated padded input size per channel "
                               f"{tuple(a + b + c for a, (b, c) in zip(x.shape[2:], pads))} is "
                               f"smaller than the (dilated) kernel size "
                               f"{tuple(dd * (kk - 1) + 1 for kk, dd in zip(kernel, dilation))}"
                               f" for input of shape {tuple(input.shape)}")
    out = L.conv_general(x, weight, stride, pads, (1,) * nsp, dilation, groups)
    if bias is not None:
        out = out + bias.reshape((-1,) + (1,) * nsp)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    nsp, name):
    check_tensor(input, name)
    if weight.dim() != nsp + 2:
        raise RuntimeError(f"{name}: weight must be {nsp + 2}-D (in, out/groups, *kernel), "
                           f"got shape {tuple(weight.shape)}")
    x, unbatched = _batched(input, nsp, name)
    _check_dtypes(x, weight, name)
    cin, cout_g = weight.shape[0], weight.shape[1]
    if groups < 1 or cin % groups:
        raise RuntimeError(f"{name}: in_channels {cin} must be divisible by groups={groups}")
    if x.shape[1] != cin:
        raise RuntimeError(f"{name}: expected input{list(input.shape)} to have {cin} channels "
                           f"(weight of shape {tuple(weight.shape)}), but got {x.shape[1]} "
                           f"channels instead")
    stride = ntuple(stride, nsp, "stride")
    dilation = ntuple(dilation, nsp, "dilation")
    padding = ntuple(padding, nsp, "padding")
    output_padding = ntuple(output_padding, nsp, "output_padding")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(f"{name}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={output_padding}, "
                               f"stride={stride}, dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    cin_g = cin // groups
    sp = tuple(range(2, 2 + nsp))
    # (Cin, Cout/G, *k) -> (G*Cout/G, Cin/G, *k), flipped: the adjoint of the forward conv
    w = weight.reshape((groups, cin_g, cout_g) + kernel)
    w = w.permute((0, 2, 1) + tuple(i + 1 for i in sp))
    w = w.reshape((groups * cout_g, cin_g) + kernel).flip(list(sp))
    pads = tuple((d * (k - 1) - p, d * (k - 1) - p + op)
                 for k, d, p, op in zip(kernel, dilation, padding, output_padding))
    out_sp = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                   zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out_sp):
        raise RuntimeError(f"{name}: output size {out_sp} is not positive for input of shape "
                           f"{tuple(input.shape)}")
    out = L.conv_general(x, w, (1,) * nsp, pads, stride, dilation, groups)
    if bias is not None:
        out = out + bias.reshape((-1,) + (1,) * nsp)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3, "conv_transpose3d")
