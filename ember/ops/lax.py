"""Thin functions over ``bind``: how VJP rules (and composites) call primitives.

Every function here binds exactly the primitives it names, in whatever interpreter is
active, so a VJP written with them works for eager tensors, tracers and IR builders.
Values only need ``.shape`` and ``.dtype``.
"""
from __future__ import annotations

from . import dtypes as _dt
from .registry import PRIMITIVES as _P, bind


def dtype_of(v):
    d = v.dtype
    return d if isinstance(d, _dt.DType) else _dt.from_numpy(d)


def shape_of(v):
    return tuple(v.shape)


def _b(name, *args, **attrs):
    return bind(_P[name], *args, **attrs)


# ---- creation
def full(shape, value, dtype):
    return _b("full", shape=tuple(shape), value=value, dtype=dtype)


def zeros_like(v):
    return full(shape_of(v), 0, dtype_of(v))


def full_like(v, value):
    return full(shape_of(v), value, dtype_of(v))


def iota(n, dtype):
    return _b("iota", n=int(n), dtype=dtype)


def random_bits(state, shape):
    return _b("random_bits", state, shape=tuple(shape))


# ---- elementwise
def _unary(name):
    def f(x):
        return _b(name, x)
    f.__name__ = name
    return f


def _binary(name):
    def f(a, b):
        return _b(name, a, b)
    f.__name__ = name
    return f


neg, exp, expm1, log, log1p, sqrt, recip = map(_unary, ("neg", "exp", "expm1", "log", "log1p",
                                                       "sqrt", "recip"))
sin, cos, tanh, abs_, sign, erf = map(_unary, ("sin", "cos", "tanh", "abs", "sign", "erf"))
floor, ceil, round_, trunc, logical_not = map(_unary, ("floor", "ceil", "round", "trunc",
                                                       "logical_not"))
add, sub, mul, div, floordiv, pow_ = map(_binary, ("add", "sub", "mul", "div", "floordiv", "pow"))
maximum, minimum = _binary("maximum"), _binary("minimum")
eq, ne, lt, le, gt, ge = map(_binary, ("eq", "ne", "lt", "le", "gt", "ge"))
and_, or_, xor = map(_binary, ("and", "or", "xor"))


def where(c, a, b):
    return _b("where", c, a, b)


def cast(x, dtype):
    if dtype_of(x) is dtype:
        return x
    return _b("cast", x, dtype=dtype)


def scalar_like(v, value):
    """``value`` as a tensor of v's shape and dtype (a broadcast constant)."""
    return full(shape_of(v), value, dtype_of(v))


# ---- reductions
def _norm_axes(axes, ndim):
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def sum_(x, axes, keepdim=False):
    axes = _norm_axes(axes, len(x.shape))
    if not axes and not keepdim:
        return x
    return _b("sum", x, axes=axes, keepdim=bool(keepdim))


def reduce_max(x, axes, keepdim=False):
    return _b("reduce_max", x, axes=_norm_axes(axes, len(x.shape)), keepdim=bool(keepdim))


def reduce_min(x, axes, keepdim=False):
    return _b("reduce_min", x, axes=_norm_axes(axes, len(x.shape)), keepdim=bool(keepdim))


def prod(x, axes, keepdim=False):
    return _b("prod", x, axes=_norm_axes(axes, len(x.shape)), keepdim=bool(keepdim))


def argmax(x, axis, keepdim=False):
    return _b("argmax", x, axis=axis % max(len(x.shape), 1), keepdim=bool(keepdim))


# ---- movement
def reshape(x, shape):
    shape = tuple(shape)
    if shape_of(x) == shape:
        return x
    return _b("reshape", x, shape=shape)


def permute(x, perm):
    perm = tuple(perm)
    if perm == tuple(range(len(perm))):
        return x
    return _b("permute", x, perm=perm)


def expand(x, shape):
    """Broadcast ``x`` to ``shape`` (leading dims are added with a reshape first)."""
    shape = tuple(shape)
    xs = shape_of(x)
    if xs == shape:
        return x
    if len(xs) < len(shape):
        x = reshape(x, (1,) * (len(shape) - len(xs)) + xs)
        if shape_of(x) == shape:
            return x
    return _b("expand", x, shape=shape)


def slice_(x, starts, stops, steps=None):
    steps = tuple(steps) if steps is not None else (1,) * len(starts)
    return _b("slice", x, starts=tuple(starts), stops=tuple(stops), steps=steps)


def pad(x, pads, value=0):
    return _b("pad", x, pads=tuple(tuple(p) for p in pads), value=value)


def cat(xs, axis):
    return _b("cat", *xs, axis=axis)


def flip(x, axes):
    return _b("flip", x, axes=tuple(axes))


# ---- indexing
def gather(x, index, axis):
    return _b("gather", x, index, axis=axis)


def scatter(x, index, src, axis):
    return _b("scatter", x, index, src, axis=axis)


def scatter_add(x, index, src, axis):
    return _b("scatter_add", x, index, src, axis=axis)


def slice_scatter(x, src, starts, stops, steps):
    return _b("slice_scatter", x, src, starts=tuple(starts), stops=tuple(stops),
              steps=tuple(steps))


# ---- linear algebra, windows
def matmul(a, b):
    return _b("matmul", a, b)


def conv_general(x, w, stride, padding, lhs_dilation, rhs_dilation, groups):
    return _b("conv_general", x, w, stride=tuple(stride), padding=tuple(tuple(p) for p in padding),
              lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(rhs_dilation), groups=groups)


def window(x, window_shape, strides, dilation):
    return _b("window", x, window=tuple(window_shape), strides=tuple(strides),
              dilation=tuple(dilation))


def fold(w, spatial, window_shape, strides, dilation):
    return _b("fold", w, spatial=tuple(spatial), window=tuple(window_shape),
              strides=tuple(strides), dilation=tuple(dilation))


# ---- helpers used by several VJP rules
def sum_to_shape(g, shape):
    """Reduce a broadcast cotangent back to ``shape`` (leading dims dropped, 1-dims kept)."""
    gs = shape_of(g)
    shape = tuple(shape)
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and gs[i + lead] != 1)
    r = sum_(g, axes, keepdim=True)
    return reshape(r, shape)


def keepdim_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def unreduce(g, in_shape, axes, keepdim):
    """Broadcast a reduction's cotangent back over the reduced axes."""
    if not keepdim:
        g = reshape(g, keepdim_shape(in_shape, axes))
    return expand(g, in_shape)
