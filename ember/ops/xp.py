"""The array-module surface eager kernels may use, plus the few shims they need.

Eager kernels receive an ``ArrayNamespace`` as ``xp``. It exposes only the names in
``ALLOWED`` (taken from numpy now, from cupy on CUDA later) and the shims below, so a new
array module slots in by building one more namespace, never by editing kernel entries.
"""
from __future__ import annotations

import numpy as np

ALLOWED = (
    # creation / conversion
    "asarray", "zeros", "ones", "full", "empty", "arange", "broadcast_to", "ascontiguousarray",
    "concatenate", "pad", "where", "copyto", "result_type", "dtype", "float32", "float64",
    "int64", "uint32", "uint64", "bool_", "errstate", "iinfo", "finfo", "stack", "indices",
    # elementwise
    "negative", "exp", "expm1", "log", "log1p", "sqrt", "reciprocal", "sin", "cos", "tanh",
    "abs", "sign", "floor", "ceil", "round", "trunc", "add", "subtract", "multiply", "divide",
    "floor_divide", "power", "maximum", "minimum", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "right_shift", "left_shift", "isnan",
    # reductions
    "sum", "max", "min", "prod", "argmax", "argmin", "any", "all",
    # movement / indexing
    "reshape", "transpose", "flip", "take_along_axis", "put_along_axis", "expand_dims",
    # linear algebra
    "matmul", "einsum", "tensordot",
)


class ArrayNamespace:
    """``xp`` for eager kernels: the allowed subset of one array module, plus shims."""

    def __init__(self, module, name):
        self.name = name
        self.module = module
        for attr in ALLOWED:
            setattr(self, attr, getattr(module, attr))

    # ------------------------------------------------------------ shims

    def erf(self, x):
        """Error function; numpy lacks it. Abramowitz-Stegun 7.1.26 is too coarse, so use
        the complementary-series form via float64 and math.erf vectorised."""
        import math
        xd = np.asarray(x, dtype=np.float64)
        out = np.frompyfunc(math.erf, 1, 1)(xd).astype(np.float64) if xd.size else xd.copy()
        return out.astype(x.dtype)

    def scatter_add_along_axis(self, target, index, src, axis):
        """target[..., index[...], ...] += src along ``axis`` (duplicates accumulate)."""
        idx = list(np.indices(index.shape, sparse=True))
        idx[axis] = index
        np.add.at(target, tuple(idx), src)
        return target

    def windows(self, x, window, strides, dilation):
        """A read-only view of sliding windows over the last ``len(window)`` dims:
        shape ``x.shape[:-k] + out_spatial + window``."""
        k = len(window)
        lead, spatial = x.shape[:-k], x.shape[-k:]
        out_sp = tuple((n - d * (w - 1) - 1) // s + 1
                       for n, w, s, d in zip(spatial, window, strides, dilation))
        st = x.strides
        lead_st, sp_st = st[:-k], st[-k:]
        shape = lead + out_sp + tuple(window)
        strides_ = lead_st + tuple(a * s for a, s in zip(sp_st, strides)) + \
            tuple(a * d for a, d in zip(sp_st, dilation))
        return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides_, writeable=False)

    def fold_add(self, target, win, window, strides, dilation):
        """Overlap-add: the adjoint of ``windows``. ``win`` has ``windows``' layout; adds
        every window element back to the input position it was read from."""
        k = len(window)
        out_sp = win.shape[-2 * k:-k]
        for pos in np.ndindex(*window):
            sl = tuple(slice(p * d, p * d + (o - 1) * s + 1, s)
                       for p, d, o, s in zip(pos, dilation, out_sp, strides))
            target[(Ellipsis,) + sl] += win[(Ellipsis,) + tuple(slice(None) for _ in out_sp) + pos]
        return target

    def philox4x32(self, seed, counter_start, nblocks):
        """Philox4x32-10 (Salmon et al. 2011) in plain integer ops: ``nblocks`` blocks of
        four 32-bit words for counters ``counter_start + i``, key = the 64-bit seed.
        Returns uint32 of shape (nblocks, 4)."""
        u64, mask = np.uint64, np.uint64(0xFFFFFFFF)
        ctr = np.arange(nblocks, dtype=np.uint64) + u64(int(counter_start) & 0xFFFFFFFFFFFFFFFF)
        c0, c1 = ctr & mask, ctr >> u64(32)
        c2 = np.zeros_like(c0)
        c3 = np.zeros_like(c0)
        s = int(seed) & 0xFFFFFFFFFFFFFFFF
        k0, k1 = s & 0xFFFFFFFF, s >> 32
        for _ in range(10):
            p0 = u64(0xD2511F53) * c0
            p1 = u64(0xCD9E8D57) * c2
            hi0, lo0 = p0 >> u64(32), p0 & mask
            hi1, lo1 = p1 >> u64(32), p1 & mask
            c0, c1, c2, c3 = hi1 ^ c1 ^ u64(k0), lo1, hi0 ^ c3 ^ u64(k1), lo0
            k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
            k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
        return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


_NUMPY = None


def numpy_namespace() -> ArrayNamespace:
    global _NUMPY
    if _NUMPY is None:
        _NUMPY = ArrayNamespace(np, "numpy")
    return _NUMPY
