"""Independent numpy references for the primitives whose numpy form is not one call:
convolution, sliding windows and their overlap-add, casts, Philox4x32-10, erf.

Written as plain loops on purpose: they share no code with the eager kernels they check.
"""
from __future__ import annotations

import itertools
import math

import numpy as np


def _dilate(x, dil, first_axis=2):
    if all(d == 1 for d in dil):
        return x
    shape = list(x.shape)
    for i, d in enumerate(dil):
        n = shape[first_axis + i]
        shape[first_axis + i] = 0 if n == 0 else (n - 1) * d + 1
    out = np.zeros(shape, dtype=x.dtype)
    out[(slice(None),) * first_axis + tuple(slice(None, None, d) for d in dil)] = x
    return out


def _pad_signed(x, padding, first_axis=2):
    """Pad with zeros (positive widths) or crop (negative widths)."""
    for i, (lo, hi) in enumerate(padding):
        ax = first_axis + i
        if lo < 0:
            x = np.take(x, range(-lo, x.shape[ax]), axis=ax)
        if hi < 0:
            x = np.take(x, range(0, x.shape[ax] + hi), axis=ax)
        widths = [(0, 0)] * x.ndim
        widths[ax] = (max(lo, 0), max(hi, 0))
        x = np.pad(x, widths)
    return x


def conv_ref(x, w, stride, padding, lhs_dilation, rhs_dilation, groups):
    """conv_general_dilated by direct summation over output positions and kernel taps."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nsp = x.ndim - 2
    xp = _pad_signed(_dilate(x, lhs_dilation), padding)
    wd = _dilate(w, rhs_dilation)
    n, c = x.shape[:2]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    out_sp = tuple((xp.shape[2 + i] - wd.shape[2 + i]) // stride[i] + 1 for i in range(nsp))
    out = np.zeros((n, o) + out_sp)
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for pos in itertools.product(*(range(s) for s in out_sp)):
            acc = np.zeros((n, og))
            for tap in itertools.product(*(range(k) for k in w.shape[2:])):
                idx = tuple(p * s + t * d for p, s, t, d in zip(pos, stride, tap, rhs_dilation))
                acc += xs[(slice(None), slice(None)) + idx] @ ws[(slice(None), slice(None)) + tap].T
            out[(slice(None), slice(g * og, (g + 1) * og)) + pos] = acc
    return out


def window_ref(x, window, strides, dilation):
    k = len(window)
    lead, sp = x.shape[:x.ndim - k], x.shape[x.ndim - k:]
    out_sp = tuple((n - d * (w - 1) - 1) // s + 1 for n, w, s, d in zip(sp, window, strides,
                                                                     dilation))
    out = np.zeros(lead + out_sp + tuple(window), dtype=x.dtype)
    for pos in itertools.product(*(range(o) for o in out_sp)):
        for tap in itertools.product(*(range(w) for w in window)):
            src = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, dilation))
            out[(Ellipsis,) + pos + tap] = x[(Ellipsis,) + src]
    return out


def fold_ref(win, spatial, window, strides, dilation):
    k = len(window)
    lead = win.shape[:win.ndim - 2 * k]
    out_sp = win.shape[win.ndim - 2 * k:win.ndim - k]
    out = np.zeros(lead + tuple(spatial), dtype=np.float64)
    for pos in itertools.product(*(range(o) for o in out_sp)):
        for tap in itertools.product(*(range(w) for w in window)):
            dst = tuple(p * s + t * d for p, s, t, d in zip(pos, strides, tap, dilation))
            out[(Ellipsis,) + dst] += win[(Ellipsis,) + pos + tap]
    return out


def cast_ref(x, np_dtype):
    """PyTorch-like conversion, made deterministic: float -> int truncates toward zero,
    saturates at the integer range and maps nan to 0."""
    np_dtype = np.dtype(np_dtype)
    if np_dtype.kind in "iu" and np.asarray(x).dtype.kind == "f":
        info = np.iinfo(np_dtype)
        out = np.empty(np.shape(x), dtype=np_dtype)
        for i, v in np.ndenumerate(np.asarray(x, dtype=np.float64)):
            out[i] = 0 if math.isnan(v) else int(min(max(math.trunc(v) if math.isfinite(v) else v,
                                                           info.min), info.max))
        return out
    if np_dtype == np.bool_:
        return np.asarray(x) != 0
    return np.asarray(x).astype(np_dtype)


# ---------------------------------------------------------------- Philox4x32-10
PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def philox4x32_10(counter, key, rounds=10):
    """One block of Philox4x32 (Salmon, Moraes, Dror, Shaw, SC'11) in Python integers,
    following the Random123 reference: four 32-bit counter words, two key words."""
    c = [int(v) & 0xFFFFFFFF for v in counter]
    k = [int(v) & 0xFFFFFFFF for v in key]
    for r in range(rounds):
        p0 = PHILOX_M[0] * c[0]
        p1 = PHILOX_M[1] * c[2]
        hi0, lo0 = p0 >> 32, p0 & 0xFFFFFFFF
        hi1, lo1 = p1 >> 32, p1 & 0xFFFFFFFF
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0]
        k = [(k[0] + PHILOX_W[0]) & 0xFFFFFFFF, (k[1] + PHILOX_W[1]) & 0xFFFFFFFF]
    return tuple(c)


def random_bits_ref(state, shape):
    """What ``random_bits`` must return: counters (offset+i low, high, 0, 0), key (seed low,
    high), words in block order, truncated to the requested size, as int64."""
    seed, offset = int(state[0]) & (2 ** 64 - 1), int(state[1]) & (2 ** 64 - 1)
    n = math.prod(shape)
    words = []
    i = 0
    while len(words) < n:
        ctr = (offset + i) & (2 ** 64 - 1)
        words.extend(philox4x32_10((ctr & 0xFFFFFFFF, ctr >> 32, 0, 0),
                                   (seed & 0xFFFFFFFF, seed >> 32)))
        i += 1
    return np.array(words[:n], dtype=np.int64).reshape(shape)


def erf_ref(x):
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, dtype=np.float64))
