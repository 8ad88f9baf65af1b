"""The array-module surface eager kernels may use, plus the few shims they need.

Eager kernels receive an ``ArrayNamespace`` as ``xp``. It exposes only the names in
``ALLOWED`` (taken from numpy now, from cupy on CUDA later) and the shims below, so a new
array module slots in by building one more namespace, never by editing kernel entries.
"""
from __future__ import annotations

import math

import numpy as np

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI = math.sqrt(math.pi)

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
        """Error function (numpy lacks it), vectorised in float64 from array ops only:

        * |x| < 1: erf(x) = 2/sqrt(pi) * x * exp(-x^2) * sum_n (2x^2)^n / (2n+1)!!, a series
          of positive terms (no cancellation), summed backwards (Horner), 25 terms;
        * |x| >= 1: erf(x) = 1 - erfc(x), erfc from its continued fraction
          exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), 250 levels (it
          converges like exp(-2 x sqrt(2 n)): 3 ulp at x = 1, far fewer levels needed above).

        exp(-x^2) is formed as exp(-hi^2) * exp(-lo (hi + x)) with hi = x rounded to 26 bits
        (Veltkamp split, so hi^2 is exact): rounding x^2 first would cost up to x^2 ulp.
        Max relative error vs math.erf is about 5e-16; erf(+-inf) = +-1, nan -> nan,
        erf(-0) = -0."""
        m = self.module
        xd = m.asarray(x, dtype=m.float64)
        out = m.zeros(xd.shape, dtype=m.float64)
        a = m.abs(xd)
        small, big = a < 1.0, a >= 1.0            # nan is in neither
        with m.errstate(over="ignore", under="ignore", invalid="ignore"):
            t = xd[small]
            t2 = t * t
            acc = m.ones(t.shape, dtype=m.float64)
            for n in range(25, 0, -1):
                acc = acc * (2.0 * t2 / (2 * n + 1)) + 1.0
            # t multiplies last, so a subnormal result is rounded once
            out[small] = t * (_TWO_OVER_SQRT_PI * self._exp_neg_square(t) * acc)
            z = a[big]
            cf = z
            for k in range(250, 0, -1):
                cf = z + (0.5 * k) / cf
            tail = 1.0 - self._exp_neg_square(z) / (_SQRT_PI * cf)
            out[big] = m.where(xd[big] < 0, -tail, tail)
        out = m.where(m.isnan(xd), xd, out)
        return out.astype(x.dtype)

    def _exp_neg_square(self, x):
        """exp(-x*x) without the rounding error of x*x (x finite or inf)."""
        m = self.module
        c = x * 134217729.0                       # 2**27 + 1
        fin = m.isfinite(c)                       # |x| > ~1e300: exp(-x^2) is 0 anyway
        hi = m.where(fin, c - (c - x), x)
        corr = m.where(fin, (x - hi) * (hi + x), 0.0)
        return m.exp(-(hi * hi)) * m.exp(-corr)

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
        """Philox4x32-10 (Salmon et al. 2011): ``nblocks`` blocks of four 32-bit words for
        counters (c + i low 32 bits, c + i high 32 bits, 0, 0) with c = ``counter_start``,
        key = (seed low 32 bits, seed high 32 bits). Returns uint32 of shape (nblocks, 4)."""
        u64, mask = np.uint64, np.uint64(0xFFFFFFFF)
        ctr = np.arange(nblocks, dtype=np.uint64) + u64(int(counter_start) & 0xFFFFFFFFFFFFFFFF)
        s = int(seed) & 0xFFFFFFFFFFFFFFFF
        zero = np.zeros_like(ctr)
        return self.philox4x32_rounds((ctr & mask, ctr >> u64(32), zero, zero),
                                      (s & 0xFFFFFFFF, s >> 32))

    def philox4x32_rounds(self, counter, key, rounds=10):
        """The Philox4x32 bijection on arrays of counter words (four uint64 arrays holding
        32-bit values) under a two-word key; the Random123 reference round structure."""
        u64, mask = np.uint64, np.uint64(0xFFFFFFFF)
        c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & mask for c in counter)
        k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
        for _ in range(rounds):
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
