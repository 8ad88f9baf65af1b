"""The array-module surface eager kernels may use, plus the few shims they need.

Eager kernels receive an ``ArrayNamespace`` as ``xp``. It exposes only the names in
``ALLOWED`` (taken from numpy now, from cupy on CUDA later) and the shims below, so a new
array module slots in by building one more namespace, never by editing kernel entries.
"""
from __future__ import annotations

import math

import numpy as np

_RSQRT_PI = 1.0 / math.sqrt(math.pi)

# W. J. Cody's erf/erfc coefficients (netlib specfun CALERF), highest degree first
_ERF_A = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
          3.77485237685302021e02, 3.20937758913846947e03)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
          6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
          1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
          1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)


def _horner(coeffs, z, monic=False):
    """sum c_i z^(n-i) for coefficients highest degree first; ``monic`` prepends a 1."""
    acc = z + coeffs[0] if monic else coeffs[0] * z + coeffs[1]
    for c in coeffs[1 if monic else 2:]:
        acc = acc * z + c
    return acc

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
        """Error function (numpy lacks it), vectorised in float64 from array ops only, with
        W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969; the
        coefficients of netlib specfun CALERF):

        * |x| <= 0.46875: erf(x) = x * P(x^2) / Q(x^2);
        * 0.46875 < |x| <= 4: erfc(|x|) = exp(-x^2) * P(|x|) / Q(|x|);
        * |x| > 4: erfc(|x|) = exp(-x^2) / |x| * (1/sqrt(pi) - R(1/x^2) / x^2).

        exp(-x^2) is exp(-hi^2) * exp(-lo (hi + x)) with hi = x rounded to 26 bits (so hi^2
        is exact): rounding x^2 first would cost up to x^2 ulps. Max relative error vs
        math.erf below 6e-16; erf(+-inf) = +-1, nan -> nan, erf(-0) = -0."""
        m = self.module
        xd = m.asarray(x, dtype=m.float64)
        out = m.zeros(xd.shape, dtype=m.float64)
        a = m.abs(xd)
        small, mid, big = a <= 0.46875, (a > 0.46875) & (a <= 4.0), a > 4.0  # nan: none
        with m.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            if small.any():  # (empty branches are skipped: small tensors pay per call)
                t = xd[small]
                z = t * t
                out[small] = t * (_horner(_ERF_A, z) / _horner(_ERF_B, z, monic=True))
            if mid.any():
                y = a[mid]
                erfc = self._exp_neg_square(y) * (_horner(_ERF_C, y) /
                                                  _horner(_ERF_D, y, monic=True))
                out[mid] = m.where(xd[mid] < 0, erfc - 1.0, 1.0 - erfc)
            if big.any():
                y = a[big]
                z = 1.0 / (y * y)
                r = z * (_horner(_ERF_P, z) / _horner(_ERF_Q, z, monic=True))
                erfc = m.where(m.isinf(y), 0.0, self._exp_neg_square(y) * ((_RSQRT_PI - r) / y))
                out[big] = m.where(xd[big] < 0, erfc - 1.0, 1.0 - erfc)
        if not (small.all() or (mid | big).all()):  # some nan (or an empty input)
            out = m.where(m.isnan(xd), xd, out)
        return out.astype(x.dtype, copy=False)

    def _exp_neg_square(self, x):
        """exp(-x*x) without the rounding error of x*x (x finite or inf)."""
        m = self.module
        c = x * 134217729.0                       # 2**27 + 1
        fin = m.isfinite(c)                       # |x| > ~1e300: exp(-x^2) is 0 anyway
        hi = m.where(fin, c - (c - x), x)
        corr = m.where(fin, (x - hi) * (hi + x), 0.0)
        return m.exp(-(hi * hi)) * m.exp(-corr)

    def select(self, c, a, b):
        """``where(c, a, b)`` for equal shapes. Large 4- and 8-byte operands use a bitwise
        blend, ``b ^ ((a ^ b) & -c)``: exact for every bit pattern (nan, -0.0) and free of
        the branch mispredictions that make ``np.where`` ~8x slower on random masks."""
        size = a.dtype.itemsize
        if c.size < 4096 or size not in (4, 8) or a.dtype != b.dtype:
            return np.where(c, a, b)
        it = np.int32 if size == 4 else np.int64
        mask = np.negative(c, dtype=it)
        ai, bi = a.view(it), b.view(it)
        r = np.bitwise_xor(ai, bi)
        r &= mask
        r ^= bi
        return r.view(a.dtype)

    def scatter_add_along_axis(self, target, index, src, axis):
        """target[..., index[...], ...] += src along ``axis`` (duplicates accumulate)."""
        idx = list(np.indices(index.shape, sparse=True))
        idx[axis] = index
        if index.shape[axis] == 1:
            # one index per row (NLL's one-hot, max pooling's gradient): the positions are
            # distinct, so a fancy-indexed += is exactly add.at, and ~10x faster
            target[tuple(idx)] += src
        else:
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
