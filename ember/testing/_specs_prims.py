"""Spec entries for every primitive in ``ember.ops.PRIMITIVES``, called through ``bind``.

Samples satisfy the primitives' own contracts (one shape and one dtype for elementwise
operands, sorted axes for reductions); broadcasting and promotion are dispatch's job and
are tested through the composites."""
from __future__ import annotations

import numpy as np

from . import refs
from .sampling import Sample, arr, distinct, int_index, perm_index
from .spec import ALL, FLOATS, INTS, NUMERIC, OpSpec, unary_samples

_ELEM_SHAPES = [(), (1,), (5,), (2, 3), (0, 2)]
_BOOL_INT = INTS + ("bool",)


def _bind(name):
    def op(m, *args, **attrs):
        from ember import ops
        return ops.bind(ops.PRIMITIVES[name], *args, **attrs)
    return op


def _prim(name, ref, samples, **kw):
    kw.setdefault("out_dtype", "same")
    return OpSpec(f"prim.{name}", _bind(name), ref, samples, kind="primitive", torch_ok=False,
                  prim=name, **kw)


def _same_shape(low=-2.0, high=2.0, low_b=None, high_b=None, avoid_b=(), n=2, ties=False):
    def gen(rng, dtype):
        out = []
        for s in _ELEM_SHAPES:
            args = [arr(rng, s, dtype, low, high)]
            for _ in range(n - 1):
                args.append(arr(rng, s, dtype, low if low_b is None else low_b,
                                high if high_b is None else high_b, avoid_b))
            out.append(Sample(tuple(args)))
        if ties:
            a = arr(rng, (2, 3), dtype, low, high)
            out.append(Sample((a, a.copy()), desc="ties"))
        return out
    return gen


_SPECIAL = ([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 1e30, -1e30],)


def _unary(name, ref, low=-2.0, high=2.0, avoid=(), dtypes=FLOATS, grad=(0,), out="same", **kw):
    return _prim(name, ref, unary_samples(low, high, avoid, shapes=_ELEM_SHAPES, extra=_SPECIAL),
                 dtypes=dtypes,
                 grad=grad, out_dtype=out, **kw)


def _binary(name, ref, dtypes=FLOATS, grad=(0, 1), out="same", **kw):
    sample_kw = {k: kw.pop(k) for k in ("low", "high", "low_b", "high_b", "avoid_b", "ties")
                 if k in kw}
    return _prim(name, ref, _same_shape(**sample_kw), dtypes=dtypes, grad=grad, out_dtype=out, **kw)


def _floordiv_ref(a, b):
    return np.floor_divide(a, b)


def _pow_ref(a, b):
    return np.power(a, b)


ELEMENTWISE = [
    _unary("neg", np.negative, dtypes=NUMERIC),
    _unary("exp", np.exp),
    _unary("expm1", np.expm1),
    _unary("log", np.log, 0.05, 3.0),
    _unary("log1p", np.log1p, -0.9, 3.0),
    _unary("sqrt", np.sqrt, 0.05, 3.0),
    _unary("recip", lambda x: 1.0 / x, avoid=(0.0,)),
    _unary("sin", np.sin, -4, 4),
    _unary("cos", np.cos, -4, 4),
    _unary("tanh", np.tanh, -3, 3),
    _unary("erf", refs.erf_ref, -3, 3),
    _unary("abs", np.abs, avoid=(0.0,), dtypes=NUMERIC),
    _unary("sign", lambda x: np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype), dtypes=NUMERIC),
    _unary("floor", np.floor, dtypes=NUMERIC, avoid=(-2, -1, 0, 1, 2)),
    _unary("ceil", np.ceil, dtypes=NUMERIC, avoid=(-2, -1, 0, 1, 2)),
    _unary("round", np.round, dtypes=NUMERIC, avoid=(-1.5, -0.5, 0.5, 1.5)),
    _unary("trunc", np.trunc, dtypes=NUMERIC, avoid=(-2, -1, 0, 1, 2)),
    _unary("logical_not", np.logical_not, dtypes=ALL, grad=(), out="bool"),
    _binary("add", np.add, dtypes=ALL),
    _binary("sub", np.subtract, dtypes=NUMERIC),
    _binary("mul", np.multiply, dtypes=ALL),
    _binary("div", np.divide, avoid_b=(0.0,)),
    _binary("floordiv", _floordiv_ref, dtypes=NUMERIC, low_b=1, high_b=3,
            grad=(0, 1)),
    _binary("pow", _pow_ref, dtypes=NUMERIC, low=0.2, high=2.0, low_b=0, high_b=3),
    _binary("maximum", np.maximum, dtypes=ALL, ties=True),
    _binary("minimum", np.minimum, dtypes=ALL, ties=True),
    _binary("and", lambda a, b: np.logical_and(a, b) if a.dtype == bool else a & b,
            dtypes=_BOOL_INT, grad=()),
    _binary("or", lambda a, b: np.logical_or(a, b) if a.dtype == bool else a | b,
            dtypes=_BOOL_INT, grad=()),
    _binary("xor", lambda a, b: np.logical_xor(a, b) if a.dtype == bool else a ^ b,
            dtypes=_BOOL_INT, grad=()),
] + [_binary(n, f, dtypes=ALL, grad=(), out="bool", ties=True)
     for n, f in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                  ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal))]


def _where_samples(rng, dtype):
    out = []
    for s in _ELEM_SHAPES:
        out.append(Sample((rng.random(s) < 0.5, arr(rng, s, dtype), arr(rng, s, dtype))))
    return out


def _cast_samples(rng, dtype):
    import ember
    out = []
    for target in ("float32", "float64", "int64", "int32", "uint8", "bool"):
        x = arr(rng, (2, 3), dtype, -3, 3)
        out.append(Sample((x,), {"dtype": getattr(ember, target)}))
    if np.dtype(dtype).kind == "f":
        edge = np.array([np.nan, np.inf, -np.inf, 1e10, -1e10, -2.7, 2.7, -0.5], dtype=dtype)
        for target in ("int64", "int32", "uint8"):
            out.append(Sample((edge,), {"dtype": getattr(ember, target)}, "saturate"))
    return out


MISC = [
    _prim("where", lambda c, a, b: np.where(c, a, b), _where_samples, dtypes=ALL, grad=(1, 2),
          out_dtype=(None,)),
    _prim("cast", lambda x, dtype: refs.cast_ref(x, dtype.np), _cast_samples, dtypes=ALL,
          out_dtype=None, grad=(0,), grad_filter=lambda s: s.kwargs["dtype"].name == "float64"),
]


# ---------------------------------------------------------------- reductions

def _axes_samples(distinct_values=False, allow_empty_axis=True):
    def gen(rng, dtype):
        mk = distinct if distinct_values else arr
        out = []
        for axes in ((), (0,), (2,), (0, 2), (0, 1, 2)):
            for keep in (False, True):
                out.append(Sample((mk(rng, (2, 3, 4), dtype),), {"axes": axes, "keepdim": keep}))
        out.append(Sample((mk(rng, (), dtype),), {"axes": (), "keepdim": False}))
        if allow_empty_axis:
            out.append(Sample((mk(rng, (0, 3), dtype),), {"axes": (0,), "keepdim": False}))
        else:
            out.append(Sample((mk(rng, (0, 3), dtype),), {"axes": (1,), "keepdim": True}))
        return out
    return gen


def _np_reduce(f):
    def ref(x, axes, keepdim):
        if x.ndim == 0:
            return f(x, axis=None)
        return f(x, axis=axes, keepdims=keepdim)
    return ref


def _sum_ref(x, axes, keepdim):
    return np.sum(x, axis=axes if x.ndim else None, keepdims=keepdim and x.ndim > 0,
                  dtype=x.dtype)


def _prod_ref(x, axes, keepdim):
    return np.prod(x, axis=axes if x.ndim else None, keepdims=keepdim and x.ndim > 0,
                   dtype=x.dtype)


def _argmax_samples(rng, dtype):
    out = []
    for axis in (0, 1, 2):
        for keep in (False, True):
            out.append(Sample((distinct(rng, (2, 3, 4), dtype),), {"axis": axis, "keepdim": keep}))
    out.append(Sample((distinct(rng, (), dtype),), {"axis": 0, "keepdim": False}))
    if np.dtype(dtype).kind == "f":
        out.append(Sample((np.array([1.0, 3.0, 3.0, 2.0], dtype),), {"axis": 0, "keepdim": False},
                          "first of ties"))
    return out


def _argmax_ref(x, axis, keepdim):
    if x.ndim == 0:
        return np.zeros((), np.int64)
    return np.argmax(x, axis=axis, keepdims=keepdim).astype(np.int64)


REDUCTIONS = [
    _prim("sum", _sum_ref, _axes_samples(), dtypes=("float32", "float64", "int64")),
    _prim("prod", _prod_ref, _axes_samples(), dtypes=("float32", "float64", "int64"),
          tol={"float32": (1e-4, 1e-6)}),
    _prim("reduce_max", _np_reduce(np.max), _axes_samples(True, False), dtypes=ALL),
    _prim("reduce_min", _np_reduce(np.min), _axes_samples(True, False), dtypes=ALL),
    _prim("argmax", _argmax_ref, _argmax_samples, dtypes=NUMERIC, grad=(), out_dtype="int64"),
]


# ---------------------------------------------------------------- movement

def _fixed(*samples_fn):
    def gen(rng, dtype):
        return [s for f in samples_fn for s in f(rng, dtype)]
    return gen


def _mv(in_shape, **kw):
    return lambda rng, dtype: [Sample((arr(rng, in_shape, dtype),), dict(kw))]


def _slice_ref(x, starts, stops, steps):
    return x[tuple(slice(a, b, c) for a, b, c in zip(starts, stops, steps))]


def _pad_ref(x, pads, value):
    if not pads:
        return x.copy()
    return np.pad(x, pads, constant_values=value)


def _cat_samples(rng, dtype):
    return [Sample((arr(rng, (2, 3), dtype), arr(rng, (1, 3), dtype), arr(rng, (0, 3), dtype)),
                   {"axis": 0}),
            Sample((arr(rng, (2, 3), dtype), arr(rng, (2, 1), dtype)), {"axis": 1}),
            Sample((arr(rng, (4,), dtype),), {"axis": 0})]


MOVEMENT = [
    _prim("reshape", lambda x, shape: np.reshape(x, shape),
          _fixed(_mv((2, 3), shape=(3, 2)), _mv((2, 3), shape=(6,)), _mv((), shape=(1, 1)),
                 _mv((1,), shape=()), _mv((0, 3), shape=(3, 0))), dtypes=ALL),
    _prim("permute", lambda x, perm: np.transpose(x, perm),
          _fixed(_mv((2, 3, 4), perm=(2, 0, 1)), _mv((2, 3), perm=(1, 0)), _mv((), perm=())),
          dtypes=ALL),
    _prim("expand", lambda x, shape: np.broadcast_to(x, shape),
          _fixed(_mv((2, 1), shape=(2, 3)), _mv((1, 1), shape=(4, 2)), _mv((1, 3), shape=(0, 3))),
          dtypes=ALL),
    _prim("slice", _slice_ref,
          _fixed(_mv((5, 4), starts=(1, 0), stops=(4, 4), steps=(2, 1)),
                 _mv((5, 4), starts=(0, 1), stops=(5, 3), steps=(3, 2)),
                 _mv((3,), starts=(2,), stops=(2,), steps=(1,))), dtypes=ALL),
    _prim("flip", lambda x, axes: np.flip(x, axes) if axes else x,
          _fixed(_mv((2, 3), axes=(0,)), _mv((2, 3, 2), axes=(0, 2)), _mv((3,), axes=())),
          dtypes=ALL),
    _prim("pad", _pad_ref,
          _fixed(_mv((2, 3), pads=((1, 0), (2, 1)), value=0.0),
                 _mv((2, 3), pads=((0, 0), (0, 2)), value=1.5), _mv((), pads=(), value=0.0)),
          dtypes=FLOATS),
    _prim("cat", lambda *xs, axis: np.concatenate(xs, axis), _cat_samples, dtypes=ALL,
          grad=(0, 1, 2)),
]


# ---------------------------------------------------------------- indexing

def _gather_samples(rng, dtype):
    x = arr(rng, (3, 4), dtype)
    return [Sample((x, int_index(rng, (2, 4), 3)), {"axis": 0}),
            Sample((x, int_index(rng, (3, 5), 4)), {"axis": 1}),
            Sample((x, int_index(rng, (2, 2), 4)), {"axis": 1}, "index smaller than input"),
            Sample((arr(rng, (4,), dtype), int_index(rng, (0,), 4)), {"axis": 0})]


def _gather_ref(x, index, axis):
    region = x[tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))]
    return np.take_along_axis(region, index, axis)


def _scatter_samples(unique):
    def gen(rng, dtype):
        out = []
        for xs, ish, axis in (((3, 4), (2, 4), 0), ((3, 4), (3, 2), 1), ((4,), (3,), 0)):
            idx = (perm_index(rng, ish, axis, xs[axis]) if unique
                   else int_index(rng, ish, xs[axis]))
            out.append(Sample((arr(rng, xs, dtype), idx, arr(rng, ish, dtype)), {"axis": axis}))
        return out
    return gen


def _scatter_ref(add):
    def ref(x, index, src, axis):
        out = np.array(x, copy=True)
        for pos in np.ndindex(*index.shape):
            dst = list(pos)
            dst[axis] = index[pos]
            if add:
                out[tuple(dst)] += src[pos]
            else:
                out[tuple(dst)] = src[pos]
        return out
    return ref


def _slice_scatter_samples(rng, dtype):
    return [Sample((arr(rng, (5, 4), dtype), arr(rng, (2, 4), dtype)),
                   {"starts": (1, 0), "stops": (4, 4), "steps": (2, 1)}),
            Sample((arr(rng, (3, 4), dtype), arr(rng, (3, 2), dtype)),
                   {"starts": (0, 0), "stops": (3, 4), "steps": (1, 2)})]


def _slice_scatter_ref(x, src, starts, stops, steps):
    out = np.array(x, copy=True)
    out[tuple(slice(a, b, c) for a, b, c in zip(starts, stops, steps))] = src
    return out


INDEXING = [
    _prim("gather", _gather_ref, _gather_samples, dtypes=ALL),
    _prim("scatter", _scatter_ref(False), _scatter_samples(True), dtypes=ALL, grad=(0, 2)),
    _prim("scatter_add", _scatter_ref(True), _scatter_samples(False), dtypes=NUMERIC, grad=(0, 2)),
    _prim("slice_scatter", _slice_scatter_ref, _slice_scatter_samples, dtypes=ALL, grad=(0, 1)),
]


# ---------------------------------------------------------------- extern, window, creation

def _matmul_samples(rng, dtype):
    return [Sample((arr(rng, a, dtype), arr(rng, b, dtype)))
            for a, b in (((2, 3), (3, 4)), ((2, 2, 3), (3, 1)), ((2, 1, 2, 3), (3, 3, 2)),
                         ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 1)))]


CONV_CASES = [
    # x shape, w shape, stride, padding, lhs_dilation, rhs_dilation, groups
    ((2, 3, 7), (4, 3, 3), (1,), ((0, 0),), (1,), (1,), 1),
    ((1, 2, 8), (2, 2, 3), (2,), ((1, 2),), (1,), (2,), 1),
    ((1, 4, 6), (4, 1, 2), (1,), ((-1, 1),), (2,), (1,), 4),
    ((2, 2, 5, 4), (4, 1, 2, 3), (2, 1), ((1, 0), (2, 1)), (1, 1), (1, 2), 2),
    ((1, 2, 3, 3), (3, 2, 2, 2), (1, 1), ((1, 1), (1, 1)), (2, 2), (1, 1), 1),
]


def _conv_samples(rng, dtype):
    return [Sample((arr(rng, xs, dtype), arr(rng, ws, dtype)),
                   {"stride": st, "padding": pd, "lhs_dilation": ld, "rhs_dilation": rd,
                    "groups": g})
            for xs, ws, st, pd, ld, rd, g in CONV_CASES]


def _window_samples(rng, dtype):
    return [Sample((arr(rng, (2, 6), dtype),), {"window": (3,), "strides": (1,), "dilation": (1,)}),
            Sample((arr(rng, (1, 5, 6), dtype),),
                   {"window": (2, 3), "strides": (2, 1), "dilation": (1, 2)}),
            Sample((arr(rng, (4, 4), dtype),), {"window": (2, 2), "strides": (2, 2),
                                                "dilation": (1, 1)})]


def _fold_samples(rng, dtype):
    out = []
    for lead, sp, win, st, dil in (((2,), (6,), (3,), (1,), (1,)),
                                   ((1,), (5, 6), (2, 3), (2, 1), (1, 2)),
                                   ((), (4, 4), (2, 2), (2, 2), (1, 1))):
        o = tuple((n - d * (w - 1) - 1) // s + 1 for n, w, s, d in zip(sp, win, st, dil))
        out.append(Sample((arr(rng, lead + o + win, dtype),),
                          {"spatial": sp, "window": win, "strides": st, "dilation": dil}))
    return out


def _full_samples(rng, dtype):
    import ember
    d = getattr(ember, str(np.dtype(dtype)) if np.dtype(dtype) != np.bool_ else "bool")
    wrap = [Sample((), {"shape": (2,), "value": -3, "dtype": d}, "wraps")] \
        if np.dtype(dtype) == np.uint8 else []
    return wrap + [Sample((), {"shape": (2, 3), "value": 1, "dtype": d}),
            Sample((), {"shape": (), "value": 0, "dtype": d}),
            Sample((), {"shape": (0, 2), "value": 1, "dtype": d})]


def _iota_samples(rng, dtype):
    import ember
    d = getattr(ember, str(np.dtype(dtype)))
    return [Sample((), {"n": 5, "dtype": d}), Sample((), {"n": 0, "dtype": d})]


def _bits_samples(rng, dtype):
    return [Sample((np.array(st, dtype=np.int64),), {"shape": sh})
            for st, sh in (((0, 0), (4,)), ((42, 7), (2, 3)), ((-1, 2 ** 40), (5,)),
                           ((123, 0), ()), ((5, 1), (0,)))]


EXTERN = [
    _prim("matmul", np.matmul, _matmul_samples, dtypes=FLOATS + ("int64", "int32"), grad=(0, 1),
          tol={"float32": (1e-5, 1e-5)}),
    _prim("conv_general", refs.conv_ref, _conv_samples, grad=(0, 1),
          tol={"float32": (1e-5, 1e-5)}),
    _prim("window", refs.window_ref, _window_samples, dtypes=NUMERIC),
    _prim("fold", refs.fold_ref, _fold_samples, dtypes=FLOATS),
    _prim("full", lambda shape, value, dtype: np.full(shape, np.asarray(value).astype(dtype.np)),
          _full_samples,
          dtypes=ALL, grad=(), out_dtype=None),
    _prim("iota", lambda n, dtype: np.arange(n, dtype=dtype.np), _iota_samples,
          dtypes=("float32", "float64", "int32", "int64"), grad=(), out_dtype=None),
    _prim("random_bits", refs.random_bits_ref, _bits_samples, dtypes=("int64",), grad=(),
          out_dtype="int64"),
]

SPECS = ELEMENTWISE + MISC + REDUCTIONS + MOVEMENT + INDEXING + EXTERN
