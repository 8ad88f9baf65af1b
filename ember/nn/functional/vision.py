"""``pad``, ``interpolate``, ``unfold``/``fold``, ``pixel_shuffle``: shape-driven composites.

Interpolation is separable: each resized dim is an ``index_select`` (nearest) or a matmul
with a constant interpolation matrix (linear/bilinear/trilinear), built from shapes only.
"""
from __future__ import annotations

import math

import numpy as np

from ...frontend.creation import tensor
from ...frontend.functional.shape import cat
from ...ops import lax as L
from ._util import check_tensor, ntuple
from .conv import pad_widths


# ---------------------------------------------------------------- pad
def _slice(x, dim, start, stop):
    starts = [0] * x.dim()
    stops = list(x.shape)
    starts[dim], stops[dim] = start, stop
    return L.slice_(x, starts, stops)


def pad(input, pad, mode="constant", value=None):
    """``pad`` lists (lo, hi) widths starting from the last dim. Modes: constant (negative
    widths crop), reflect, replicate, circular."""
    check_tensor(input, "pad")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.dim():
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most "
                         f"2 * input.dim() = {2 * input.dim()} for input of shape "
                         f"{tuple(input.shape)}")
    nd = input.dim()
    pairs = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        pairs[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return pad_widths(input, tuple(pairs), 0.0 if value is None else value)
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (use 'constant', "
                                  f"'reflect', 'replicate' or 'circular')")
    x = input
    for dim in range(nd):
        lo, hi = pairs[dim]
        if lo == 0 and hi == 0:
            continue
        n = x.shape[dim]
        if lo < 0 or hi < 0:
            raise NotImplementedError(f"pad: negative padding is only supported in 'constant' "
                                      f"mode, got {pad}")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"pad: padding size should be less than the corresponding input "
                               f"dimension, but got padding ({lo}, {hi}) at dimension {dim} of "
                               f"input {tuple(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"pad: padding value causes wrapping around more than once "
                               f"(padding ({lo}, {hi}) for dimension {dim} of size {n})")
        parts = []
        if mode == "reflect":
            if lo:
                parts.append(_slice(x, dim, 1, lo + 1).flip([dim]))
            parts.append(x)
            if hi:
                parts.append(_slice(x, dim, n - 1 - hi, n - 1).flip([dim]))
        elif mode == "replicate":
            if lo:
                e = list(x.shape)
                e[dim] = lo
                parts.append(_slice(x, dim, 0, 1).expand(e))
            parts.append(x)
            if hi:
                e = list(x.shape)
                e[dim] = hi
                parts.append(_slice(x, dim, n - 1, n).expand(e))
        else:
            if lo:
                parts.append(_slice(x, dim, n - lo, n))
            parts.append(x)
            if hi:
                parts.append(_slice(x, dim, 0, hi))
        x = cat(parts, dim)
    return x


# ---------------------------------------------------------------- interpolate
def _out_sizes(input, size, scale_factor, nsp, name):
    spatial = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: only one of size or scale_factor should be defined")
    if size is not None:
        out = ntuple(size, nsp, "size")
        scales = tuple(None for _ in range(nsp))
    else:
        sf = tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (list, tuple)) \
            else (float(scale_factor),) * nsp
        if len(sf) != nsp:
            raise ValueError(f"{name}: scale_factor must have {nsp} elements, got "
                             f"{scale_factor!r}")
        out = tuple(int(math.floor(n * s)) for n, s in zip(spatial, sf))
        scales = sf
    if any(o <= 0 for o in out):
        raise ValueError(f"{name}: output size {out} must be positive")
    return spatial, out, scales


def _src_scale(n, o, scale, align_corners):
    if align_corners:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / scale if scale is not None else n / o


def _nearest_index(n, o, scale, exact):
    s = 1.0 / scale if scale is not None else n / o
    d = np.arange(o, dtype=np.float64)
    # PyTorch computes the source index in float32
    src = np.floor((d + 0.5) * s) if exact else np.floor(d.astype(np.float32) * np.float32(s))
    return np.minimum(src.astype(np.int64), n - 1)


def _linear_matrix(n, o, scale, align_corners):
    s = _src_scale(n, o, scale, align_corners)
    d = np.arange(o, dtype=np.float64)
    src = d * s if align_corners else np.maximum((d + 0.5) * s - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    l1 = src - i0
    m = np.zeros((o, n))
    np.add.at(m, (np.arange(o), i0), 1.0 - l1)
    np.add.at(m, (np.arange(o), i1), l1)
    return m


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    check_tensor(input, "interpolate")
    nsp = input.dim() - 2
    if nsp < 1:
        raise ValueError(f"interpolate: expected an input of 3 to 5 dims (N, C, *spatial), got "
                         f"shape {tuple(input.shape)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif mode in _LINEAR_MODES:
        if _LINEAR_MODES[mode] != nsp:
            raise NotImplementedError(f"interpolate: mode {mode!r} expects a "
                                      f"{_LINEAR_MODES[mode] + 2}-D input, got shape "
                                      f"{tuple(input.shape)}")
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, "
                                  f"nearest-exact, area, linear, bilinear, trilinear)")
    spatial, out, scales = _out_sizes(input, size, scale_factor, nsp, "interpolate")
    if recompute_scale_factor:
        scales = tuple(None for _ in scales)
    if mode == "area":
        from .pooling import _adaptive_avg
        return _adaptive_avg(input, out, nsp, "interpolate")
    if mode == "nearest" and nsp == 2 and out == spatial:
        # PyTorch's 2-d nearest kernel copies when the size is unchanged, whatever the scale
        return input.clone()
    x = input
    for i, (n, o, sc) in enumerate(zip(spatial, out, scales)):
        dim = 2 + i
        if mode in ("nearest", "nearest-exact"):
            if n == o and sc is None:
                continue
            # gather with a constant index (no frontend host reads; VJP is scatter_add)
            idx = tensor(_nearest_index(n, o, sc, mode == "nearest-exact"))
            shape = [1] * x.dim()
            shape[dim] = o
            full = list(x.shape)
            full[dim] = o
            x = x.gather(dim, idx.reshape(shape).expand(full))
        else:
            m = tensor(_linear_matrix(n, o, sc, align_corners), dtype=input.dtype)
            x = x.movedim(dim, -1).matmul(m.t()).movedim(-1, dim)
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- unfold / fold
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C*kH*kW, L) via the ``window`` primitive."""
    check_tensor(input, "unfold")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"unfold: expected a 3-D or 4-D input (C, H, W) / (N, C, H, W), got "
                           f"shape {tuple(input.shape)}")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    k, d = ntuple(kernel_size, 2), ntuple(dilation, 2)
    p, s = ntuple(padding, 2), ntuple(stride, 2)
    x = pad_widths(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), 0.0)
    for n, kk, dd in zip(x.shape[2:], k, d):
        if n < dd * (kk - 1) + 1:
            raise RuntimeError(f"unfold: kernel {k} with dilation {d} does not fit padded input "
                               f"of shape {tuple(x.shape)}")
    w = L.window(x, k, s, d)                                    # (N, C, oH, oW, kH, kW)
    nb, c, oh, ow = w.shape[:4]
    out = w.permute(0, 1, 4, 5, 2, 3).reshape(nb, c * k[0] * k[1], oh * ow)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of unfold: overlapping blocks are summed (``fold`` primitive)."""
    check_tensor(input, "fold")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"fold: expected a 2-D or 3-D input (C*k, L) / (N, C*k, L), got "
                           f"shape {tuple(input.shape)}")
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    osz, k = ntuple(output_size, 2), ntuple(kernel_size, 2)
    d, p, s = ntuple(dilation, 2), ntuple(padding, 2), ntuple(stride, 2)
    padded = (osz[0] + 2 * p[0], osz[1] + 2 * p[1])
    blocks = [(n - dd * (kk - 1) - 1) // ss + 1 for n, kk, dd, ss in zip(padded, k, d, s)]
    kk = k[0] * k[1]
    if x.shape[1] % kk or x.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"fold: expected input of shape (N, C*{kk}, {blocks[0] * blocks[1]})"
                           f" for output_size {osz}, kernel_size {k}, got "
                           f"{tuple(input.shape)}")
    nb, c = x.shape[0], x.shape[1] // kk
    w = x.reshape(nb, c, k[0], k[1], blocks[0], blocks[1]).permute(0, 1, 4, 5, 2, 3)
    out = L.fold(w, padded, k, s, d)
    out = pad_widths(out, ((0, 0), (0, 0), (-p[0], -p[0]), (-p[1], -p[1])))
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input, upscale_factor):
    r = int(upscale_factor)
    if input.dim() < 3 or input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle: expected input (*, C*r^2, H, W) with r="
                           f"{r}, got shape {tuple(input.shape)}")
    *lead, c, h, w = tuple(input.shape)
    oc = c // (r * r)
    x = input.reshape(tuple(lead) + (oc, r, r, h, w))
    n = len(lead)
    x = x.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return x.reshape(tuple(lead) + (oc, h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    r = int(downscale_factor)
    if input.dim() < 3 or input.shape[-1] % r or input.shape[-2] % r:
        raise RuntimeError(f"pixel_unshuffle: expected H and W divisible by {r}, got shape "
                           f"{tuple(input.shape)}")
    *lead, c, h, w = tuple(input.shape)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    n = len(lead)
    x = x.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))

