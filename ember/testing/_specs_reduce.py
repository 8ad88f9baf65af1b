"""Spec entries for reductions, normalisations and matrix products
(``functional/reduce.py`` and ``functional/linalg.py``)."""
from __future__ import annotations

import numpy as np

from .sampling import Sample, arr
from .spec import ALL, FLOATS, NUMERIC, OpSpec, reduce_samples, reduction

_FI = FLOATS + ("int32", "int64", "bool")


def _axis(x, dim):
    if x.ndim == 0 or dim is None:
        return None
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _np_red(f, **fixed):
    def ref(x, dim=None, keepdim=False):
        return f(x, axis=_axis(x, dim), keepdims=bool(keepdim and x.ndim), **fixed)
    return ref


def _call(name, **fixed):
    return lambda m, x, **kw: getattr(m, name)(x, **fixed, **kw)


def _sum_ref(x, dim=None, keepdim=False):
    dt = x.dtype if x.dtype.kind == "f" else np.int64
    return np.sum(x, axis=_axis(x, dim), keepdims=bool(keepdim and x.ndim), dtype=dt)


def _prod_ref(x, dim=None, keepdim=False):
    dt = x.dtype if x.dtype.kind == "f" else np.int64
    return np.prod(x, axis=_axis(x, dim), keepdims=bool(keepdim and x.ndim), dtype=dt)


def _prod_samples(rng, dtype):
    out = reduce_samples(dims=(None, 1), low=-1.5, high=1.5)(rng, dtype)
    z = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0], [1.1, -0.7, 2.0]])
    z = (np.abs(z) if np.dtype(dtype).kind in "ub" else z).astype(dtype)
    out += [Sample((z,), {"dim": 1}, "zeros"), Sample((z,), {"dim": 0}, "zeros"),
            Sample((z,), {}, "zeros")]
    return out


def _with_index(fv, fi):
    def ref(x, dim, keepdim=False):
        if x.ndim == 0:
            return fv(x), np.zeros((), np.int64)
        return (fv(x, axis=dim, keepdims=keepdim),
                fi(x, axis=dim, keepdims=keepdim).astype(np.int64))
    return ref


def _arg(fi):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            return np.asarray(fi(x.reshape(-1)), dtype=np.int64)
        if x.ndim == 0:
            return np.zeros((), np.int64)
        return fi(x, axis=dim, keepdims=keepdim).astype(np.int64)
    return ref


def _extreme_samples(rng, dtype):
    """The dtype's own minimum and maximum (where negation overflows)."""
    dtype = np.dtype(dtype)
    import ml_dtypes
    info = np.iinfo(dtype) if dtype.kind in "iu" else ml_dtypes.finfo(dtype)
    x = np.array([1, info.max, 0, info.min, 2], dtype=dtype)
    return [Sample((x,), {}), Sample((x[::-1].copy(),), {"dim": 0}),
            Sample((x.reshape(1, 5),), {"dim": 1, "keepdim": True})]


def _var_ref(correction):
    def ref(x, dim=None, keepdim=False):
        ax = _axis(x, dim)
        n = x.size if ax is None else np.prod([x.shape[a] for a in np.atleast_1d(ax)])
        mu = np.mean(x, axis=ax, keepdims=True)
        ss = np.sum((x - mu) ** 2, axis=ax, keepdims=bool(keepdim and x.ndim))
        with np.errstate(divide="ignore", invalid="ignore"):
            return ss / max(n - correction, 0)
    return ref


def _norm_ref(p):
    def ref(x, dim=None, keepdim=False):
        ax = _axis(x, dim)
        kd = bool(keepdim and x.ndim)
        a = np.abs(x)
        if p == np.inf:
            return np.max(a, axis=ax, keepdims=kd)
        if p == 1:
            return np.sum(a, axis=ax, keepdims=kd)
        return np.sum(a ** p, axis=ax, keepdims=kd) ** (1.0 / p)
    return ref


def _logsumexp_ref(x, dim, keepdim=False):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim)


def _softmax_ref(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax_ref(x, dim):
    z = x - np.max(x, axis=dim, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=dim, keepdims=True))


def _softmax_samples(rng, dtype):
    out = [Sample((arr(rng, (2, 3, 4), dtype, -3, 3),), {"dim": d}) for d in (0, 1, -1)]
    out += [Sample((arr(rng, (5,), dtype, -3, 3),), {"dim": 0}),
            Sample((arr(rng, (1, 3), dtype),), {"dim": 0}),
            Sample((np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0]], dtype),), {"dim": 1},
                   "edge")]
    return out


def _cumsum_ref(x, dim):
    if x.ndim == 0:
        return x.copy() if x.dtype.kind == "f" else x.astype(np.int64)
    return np.cumsum(x, axis=dim, dtype=x.dtype if x.dtype.kind == "f" else np.int64)


def _cumsum_samples(rng, dtype):
    return [Sample((arr(rng, (3, 4), dtype),), {"dim": d}) for d in (0, 1, -1)] + \
        [Sample((arr(rng, (5,), dtype),), {"dim": 0}), Sample((arr(rng, (), dtype),), {"dim": 0}),
         Sample((arr(rng, (2, 3, 2), dtype),), {"dim": 1}),
         Sample((arr(rng, (0, 2), dtype),), {"dim": 0})]


_D = dict(distinct=True)
REDUCTIONS = [
    reduction("sum", _call("sum"), _sum_ref, dtypes=ALL, out_dtype="sum"),
    reduction("mean", _call("mean"), _np_red(np.mean)),
    OpSpec("prod", _call("prod"), _prod_ref, _prod_samples, dtypes=ALL, out_dtype="sum",
           tol={"float32": (1e-5, 1e-6)}),
    reduction("amax", _call("amax"), _np_red(np.max), dtypes=ALL, extra_shapes=((), (3,)), **_D),
    reduction("amin", _call("amin"), _np_red(np.min), dtypes=ALL, extra_shapes=((), (3,)), **_D),
    reduction("max", _call("max"), _np_red(np.max), dtypes=ALL, dims=(None,), keepdims=(False,),
              extra_shapes=((), (3,)), extra_dims=(None,), with_keepdim=False, **_D),
    reduction("min", _call("min"), _np_red(np.min), dtypes=ALL, dims=(None,), keepdims=(False,),
              extra_shapes=((), (3,)), extra_dims=(None,), with_keepdim=False, **_D),
    OpSpec("max_dim", _call("max"), _with_index(np.max, np.argmax),
           reduce_samples(dims=(0, 1, -1), extra_shapes=((), (4,)), extra_dims=(0,), distinct=True),
           dtypes=NUMERIC, out_dtype=("same", "int64"), grad_outputs=(0,)),
    OpSpec("min_dim", _call("min"), _with_index(np.min, np.argmin),
           reduce_samples(dims=(0, 1, -1), extra_shapes=((), (4,)), extra_dims=(0,), distinct=True),
           dtypes=NUMERIC, out_dtype=("same", "int64"), grad_outputs=(0,)),
    reduction("argmax", _call("argmax"), _arg(np.argmax), dtypes=NUMERIC, out_dtype="int64",
              grad=(), dims=(None, 0, -1), extra_shapes=((), (3,)), **_D),
    OpSpec("argmin_extremes", _call("argmin"), _arg(np.argmin), _extreme_samples, dtypes=NUMERIC,
           out_dtype="int64", grad=()),
    OpSpec("argmax_extremes", _call("argmax"), _arg(np.argmax), _extreme_samples, dtypes=NUMERIC,
           out_dtype="int64", grad=()),
    reduction("argmin", _call("argmin"), _arg(np.argmin), dtypes=NUMERIC,
              out_dtype="int64", grad=(), dims=(None, 0, -1), extra_shapes=((), (3,)), **_D),
    reduction("var", _call("var"), _var_ref(1), extra_shapes=((3,), (1,)),
              tol={"float32": (1e-5, 1e-6)}),
    reduction("var_correction0", _call("var", correction=0), _var_ref(0),
              extra_shapes=((3,), ()), tol={"float32": (1e-5, 1e-6)}),
    reduction("std", _call("std"), lambda x, **kw: np.sqrt(_var_ref(1)(x, **kw)),
              extra_shapes=((3,),), tol={"float32": (1e-5, 1e-6)}),
    reduction("norm", _call("norm"), _norm_ref(2), extra_shapes=((3,),), low=0.2, high=2),
    reduction("norm_p1", _call("norm", p=1), _norm_ref(1), extra_shapes=((3,),), low=0.2, high=2),
    reduction("norm_p3", _call("norm", p=3), _norm_ref(3), extra_shapes=((3,),), low=0.2, high=2),
    reduction("norm_inf", _call("norm", p=float("inf")), _norm_ref(np.inf), extra_shapes=((3,),),
              low=0.2, high=3, **_D),
    reduction("all", _call("all"), _np_red(lambda x, **k: np.all(x != 0, **k)), dtypes=ALL,
              out_dtype=None, grad=(), dims=(None, 0, -1), low=0, high=1,
              extra_shapes=((), (0,), (0, 3))),
    reduction("any", _call("any"), _np_red(lambda x, **k: np.any(x != 0, **k)), dtypes=ALL,
              out_dtype=None, grad=(), dims=(None, 0, -1), low=-1, high=0,
              extra_shapes=((), (0,), (0, 3))),
    reduction("nansum", _call("nansum"), _np_red(np.nansum), dims=(None, 1)),
    reduction("count_nonzero", lambda m, x, **kw: m.count_nonzero(x, **kw),
              _np_red(lambda x, axis, keepdims: np.count_nonzero(x, axis=axis).astype(np.int64)),
              dtypes=ALL, out_dtype="int64", grad=(), dims=(None, 1), with_keepdim=False, low=-1,
              high=1, extra_shapes=((3,),), extra_dims=(None,)),
    reduction("nanmean", _call("nanmean"), _np_red(np.nanmean), dims=(None, 1)),
    OpSpec("aminmax", lambda m, x, **kw: m.aminmax(x, **kw),
           lambda x, dim=None, keepdim=False: (_np_red(np.min)(x, dim, keepdim),
                                               _np_red(np.max)(x, dim, keepdim)),
           reduce_samples(dims=(0, -1), distinct=True, extra_shapes=((3,),), extra_dims=(None,)),
           dtypes=NUMERIC),
    OpSpec("var_mean", lambda m, x, **kw: m.var_mean(x, **kw),
           lambda x, dim=None, keepdim=False: (_var_ref(1)(x, dim, keepdim),
                                               _np_red(np.mean)(x, dim, keepdim)),
           # no inf samples: torch's Welford var_mean gives mean(1, inf, 0) = nan, not inf
           reduce_samples(dims=(0, (0, 2)), extra_shapes=((3,),), extra_dims=(None,),
                          special=False),
           tol={"float32": (1e-5, 1e-6)}),
    OpSpec("std_mean", lambda m, x, **kw: m.std_mean(x, **kw),
           lambda x, dim=None, keepdim=False: (np.sqrt(_var_ref(1)(x, dim, keepdim)),
                                               _np_red(np.mean)(x, dim, keepdim)),
           reduce_samples(dims=(1,), extra_shapes=((3,),), extra_dims=(None,), special=False),
           tol={"float32": (1e-5, 1e-6)}),
    OpSpec("logsumexp", lambda m, x, **kw: m.logsumexp(x, **kw), _logsumexp_ref,
           reduce_samples(dims=(0, -1, (0, 2)), low=-5, high=5, extra_shapes=((3,), (0, 3)),
                          extra_dims=(-1,)),
           dtypes=_FI, out_dtype="float"),
    OpSpec("softmax", lambda m, x, dim: m.softmax(x, dim), _softmax_ref, _softmax_samples),
    OpSpec("log_softmax", lambda m, x, dim: m.log_softmax(x, dim), _log_softmax_ref,
           _softmax_samples),
    OpSpec("softmin", lambda m, x, dim: m.softmin(x, dim) if hasattr(m, "softmin")
           else m.nn.functional.softmin(x, dim), lambda x, dim: _softmax_ref(-x, dim),
           lambda rng, d: _softmax_samples(rng, d)[:4]),
    OpSpec("cumsum", lambda m, x, dim: m.cumsum(x, dim), _cumsum_ref, _cumsum_samples,
           dtypes=NUMERIC + ("bool",), out_dtype="sum"),
]


# ---------------------------------------------------------------- matrix products

def _pairs(*shape_pairs, low=-2.0, high=2.0):
    def gen(rng, dtype):
        return [Sample(tuple(arr(rng, s, dtype, low, high) for s in pair)) for pair in shape_pairs]
    return gen


def _mm(name, *pairs, ref=np.matmul, dtypes=FLOATS + ("int64",), **kw):
    return OpSpec(name, lambda m, *xs, _n=name: getattr(m, _n)(*xs), ref, _pairs(*pairs),
                  dtypes=dtypes, grad=tuple(range(len(pairs[0]))),
                  tol={"float32": (1e-5, 1e-5)}, **kw)


def _einsum_samples(rng, dtype):
    cases = (("ij,jk->ik", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
             ("ij->ji", (2, 3)), ("i,i->", (4,), (4,)), ("ij->j", (2, 3)), ("i,j->ij", (2,), (3,)),
             ("bhqd,bhkd->bhqk", (1, 2, 3, 2), (1, 2, 4, 2)))
    return [Sample(tuple(arr(rng, s, dtype) for s in c[1:]), {"eq": c[0]}) for c in cases]


LINALG = [
    _mm("matmul", ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
        ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)),
        ((0, 3), (3, 2)), ((2, 0), (0, 3))),
    _mm("mm", ((2, 3), (3, 4)), ((1, 1), (1, 2)), ((0, 2), (2, 3))),
    _mm("bmm", ((2, 2, 3), (2, 3, 4)), ((1, 1, 2), (1, 2, 1))),
    _mm("mv", ((2, 3), (3,)), ((1, 4), (4,))),
    _mm("dot", ((3,), (3,)), ((1,), (1,)), ((0,), (0,))),
    _mm("outer", ((3,), (2,)), ((1,), (4,)), ref=np.outer),
    _mm("addmm", ((4,), (2, 3), (3, 4)), ((2, 4), (2, 3), (3, 4)), ((), (1, 2), (2, 1)),
        ref=lambda c, a, b: c + a @ b),
    OpSpec("einsum", lambda m, *xs, eq: m.einsum(eq, *xs), lambda *xs, eq: np.einsum(eq, *xs),
           _einsum_samples, grad=(0, 1), tol={"float32": (1e-5, 1e-5)}),
]

SPECS = REDUCTIONS + LINALG
