"""Reductions and the normalisations built on them (softmax, log_softmax, logsumexp, var)."""
from __future__ import annotations

from collections import namedtuple

from ...ops import PRIMITIVES as P, bind
from ...ops import dtypes as D
from ..dispatch import Tensor, cast
from ..promotion import get_default_dtype
from . import math as M

values_indices = namedtuple("return_types", ["values", "indices"])


def dims(x, dim, op="reduce"):
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple of axes."""
    n = x.ndim
    m = n if n else 1  # a 0-d tensor accepts dim 0 and -1, like PyTorch
    if dim is None:
        return tuple(range(n))
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        if not -m <= d < m:
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                             f"[{-m}, {m - 1}], but got {d})")
        out.append(d % m)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return tuple(sorted(out)) if n else ()


def _reduce(name, x, axes, keepdim):
    return bind(P[name], x, axes=axes, keepdim=bool(keepdim))


def _accumulate_as(x, dtype):
    """sum/prod's input cast: to ``dtype`` if given, else integers and bools to int64."""
    if dtype is not None:
        return cast(x, dtype)
    if x.dtype.category != D.FLOAT:
        return cast(x, D.int64)
    return x


def sum(x, dim=None, keepdim=False, *, dtype=None):
    return _reduce("sum", _accumulate_as(x, dtype), dims(x, dim, "sum"), keepdim)


def nansum(x, dim=None, keepdim=False, *, dtype=None):
    return sum(M.where(M.isnan(x), 0, x), dim, keepdim, dtype=dtype)


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def mean(x, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        x = cast(x, dtype)
    if x.dtype.category != D.FLOAT:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype.name}")
    axes = dims(x, dim, "mean")
    return M._named(M.div(_reduce("sum", x, axes, keepdim), _count(x, axes)),
                    "MeanBackward0" if dim is None else "MeanBackward1", x)


def nanmean(x, dim=None, keepdim=False):
    keep = M.logical_not(M.isnan(x))
    return M.div(nansum(x, dim, keepdim), sum(keep, dim, keepdim))


def prod(x, dim=None, keepdim=False, *, dtype=None):
    return _reduce("prod", _accumulate_as(x, dtype), dims(x, dim, "prod"), keepdim)


def amax(x, dim=None, keepdim=False):
    if dim == () or dim == []:
        dim = None
    return _reduce("reduce_max", x, dims(x, dim, "amax"), keepdim)


def amin(x, dim=None, keepdim=False):
    if dim == () or dim == []:
        dim = None
    return _reduce("reduce_min", x, dims(x, dim, "amin"), keepdim)


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        flat = bind(P["reshape"], x, shape=(x.numel(),))
        out = bind(P["argmax"], flat, axis=0, keepdim=False)
        # torch: keepdim without a dim keeps every dim, as size 1
        return bind(P["reshape"], out, shape=(1,) * x.ndim) if keepdim and x.ndim else out
    return bind(P["argmax"], x, axis=dims(x, dim, "argmax")[0] if x.ndim else 0,
                keepdim=bool(keepdim))


def argmin(x, dim=None, keepdim=False):
    """argmax of an order-reversing map: -x for floats, ~x for integers (-x overflows at
    the minimum of a signed type; ~x = -x - 1 never does), not x for bools."""
    if x.dtype is D.bool_:
        x = M.logical_not(x)
    elif x.dtype.category == D.INT:
        x = M.bitwise_xor(x, -1)
    else:
        x = M.neg(x)
    return argmax(x, dim, keepdim)


def _extreme_with_indices(x, dim, keepdim, find):
    if x.ndim == 0:  # torch: a 0-d input is its own max, at index 0 (dim must be 0 or -1)
        dims(x, dim, "max")
        return values_indices(bind(P["cast"], x, dtype=x.dtype),
                              bind(P["full"], shape=(), value=0, dtype=D.int64))
    (axis,) = dims(x, dim, "max")
    idx = find(x, axis, True)
    vals = bind(P["gather"], x, idx, axis=axis) if x.ndim else x
    if not keepdim and x.ndim:
        shape = tuple(n for i, n in enumerate(x.shape) if i != axis)
        vals = bind(P["reshape"], vals, shape=shape)
        idx = bind(P["reshape"], idx, shape=shape)
    return values_indices(vals, idx)


def max(x, dim=None, keepdim=False):
    """``max(x)`` (ties share the gradient), ``max(x, dim)`` -> (values, indices) (the
    gradient goes to the returned index), or ``max(x, other)`` elementwise."""
    if isinstance(dim, Tensor):
        return M.maximum(x, dim)
    if dim is None:
        return amax(x)
    return _extreme_with_indices(x, dim, keepdim, lambda t, a, k: argmax(t, a, k))


def min(x, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        return M.minimum(x, dim)
    if dim is None:
        return amin(x)
    return _extreme_with_indices(x, dim, keepdim, lambda t, a, k: argmin(t, a, k))


def aminmax(x, *, dim=None, keepdim=False):
    return namedtuple("aminmax", ["min", "max"])(amin(x, dim, keepdim), amax(x, dim, keepdim))


def _uint8_like(out, x):
    """torch keeps uint8 for all/any of uint8 inputs (a legacy rule)."""
    return cast(out, D.uint8) if x.dtype is D.uint8 else out


def all(x, dim=None, keepdim=False):
    b = M._as_bool(x)
    out = _reduce("reduce_min", b, dims(b, dim, "all"), keepdim) if b.numel() else \
        M.eq(sum(b, dim, keepdim), sum(b, dim, keepdim))
    return _uint8_like(out, x)


def any(x, dim=None, keepdim=False):
    b = M._as_bool(x)
    out = _reduce("reduce_max", b, dims(b, dim, "any"), keepdim) if b.numel() else \
        M.ne(sum(b, dim, keepdim), sum(b, dim, keepdim))
    return _uint8_like(out, x)


def count_nonzero(x, dim=None):
    return sum(M._as_bool(x), dim)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if unbiased is not None and correction is not None:
        raise RuntimeError("var: pass either unbiased or correction, not both")
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        unbiased, dim = dim, None
    c = correction if correction is not None else (0 if unbiased is False else 1)
    if x.dtype.category != D.FLOAT:
        raise RuntimeError(f"var(): expected a floating point input, got {x.dtype.name}")
    axes = dims(x, dim, "var")
    n = _count(x, axes)
    mu = M.div(_reduce("sum", x, axes, True), n)
    d = M.sub(x, mu)
    return M._named(M.div(_reduce("sum", M.mul(d, d), axes, keepdim),
                          float(n - c) if n - c > 0 else 0.0), "VarBackward0", x)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return M._named(M.sqrt(var(x, dim, unbiased, keepdim, correction=correction)),
                    "StdBackward0", x)


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def _stable_max(x, axes):
    """The row max, cut from the graph (its gradient contributions cancel), with infinite
    maxima replaced by 0 so all -inf rows give -inf rather than nan."""
    m = _reduce("reduce_max", x, axes, True).detach()
    return M.where(M.isinf(m), 0.0, m)


def logsumexp(x, dim, keepdim=False):
    if x.dtype.category != D.FLOAT:
        x = cast(x, get_default_dtype())
    axes = dims(x, dim, "logsumexp")
    m = _stable_max(x, axes)
    s = M.log(_reduce("sum", M.exp(M.sub(x, m)), axes, True))
    out = M.add(s, m)
    if not keepdim:
        out = bind(P["reshape"], out, shape=tuple(n for i, n in enumerate(x.shape) if i not in axes))
    return M._named(out, "LogsumexpBackward0", x)


def _softmax_input(x, dim, dtype):
    if dtype is not None:
        x = cast(x, dtype)
    elif x.dtype.category != D.FLOAT:
        x = cast(x, get_default_dtype())
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit-dim choice
    return x, dims(x, dim, "softmax")


def softmax(x, dim=None, dtype=None):
    x, axes = _softmax_input(x, dim, dtype)
    e = M.exp(M.sub(x, _stable_max(x, axes)))
    return M._named(M.div(e, _reduce("sum", e, axes, True)), "SoftmaxBackward0", x)


def log_softmax(x, dim=None, dtype=None):
    x, axes = _softmax_input(x, dim, dtype)
    z = M.sub(x, _stable_max(x, axes))
    return M._named(M.sub(z, M.log(_reduce("sum", M.exp(z), axes, True))),
                    "LogSoftmaxBackward0", x)


def softmin(x, dim=None, dtype=None):
    return softmax(M.neg(x), dim, dtype)


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = cast(x, dtype)
    if p in ("fro", 2, 2.0):
        return _root_at_zero_safe(sum(M.mul(x, x), dim, keepdim), 0.5)
    if p in (float("inf"), "inf"):
        return amax(M.abs(x), dim, keepdim)
    if p in (float("-inf"),):
        return amin(M.abs(x), dim, keepdim)
    if p == 1:
        return sum(M.abs(x), dim, keepdim)
    if p == 0:
        return sum(cast(M.ne(x, 0), x.dtype), dim, keepdim)
    return _root_at_zero_safe(sum(M.pow(M.abs(x), p), dim, keepdim), 1.0 / p)


def _root_at_zero_safe(s, e):
    """s ** e for e < 1 with PyTorch's zero gradient at s = 0 (an all-zero vector) instead
    of inf * 0 = nan: the root only ever sees the 1 substituted at zeros, and the outer
    where sends no gradient into that branch (the double-where trick)."""
    zero = M.eq(s, 0)
    root = M.pow(M.where(zero, 1.0, s), e) if e != 0.5 else M.sqrt(M.where(zero, 1.0, s))
    return M.where(zero, 0.0, root)


def cumsum(x, dim, *, dtype=None):
    """Running sum along ``dim`` as a matmul with a triangular ones matrix (O(n^2) work:
    fine for the sequence lengths tutorials use; a scan primitive can replace it)."""
    from ..creation import triu_ones
    if dtype is not None:
        x = cast(x, dtype)
    elif x.dtype.category != D.FLOAT:
        x = cast(x, D.int64)
    if x.ndim == 0:
        dims(x, dim, "cumsum")
        return bind(P["cast"], x, dtype=x.dtype)
    (axis,) = dims(x, dim, "cumsum")
    n = x.shape[axis]
    xt = x.transpose(axis, -1) if axis != x.ndim - 1 else x
    tri = triu_ones(n, x.dtype, x.device)
    out = bind(P["matmul"], xt if xt.ndim >= 2 else bind(P["reshape"], xt, shape=(1, n)), tri)
    if xt.ndim < 2:
        out = bind(P["reshape"], out, shape=(n,))
    return out.transpose(axis, -1) if axis != x.ndim - 1 else out
