"""Reduction primitives over a sorted tuple of axes, with ``keepdim``.

Every reduction keeps its input dtype (dispatch casts ints/bools to int64 for ``sum``
and ``prod`` first, as PyTorch does); ``argmax`` returns int64.
"""
from __future__ import annotations

from . import dtypes as _dt
from . import lax as L
from .registry import REDUCTION, ShapeError, defprim


def _reduced_shape(name, shape, axes, keepdim):
    for a in axes:
        if not 0 <= a < max(len(shape), 1):
            raise ShapeError(f"{name}: axis {a} out of range for shape {shape}")
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _reduce_meta(name, empty_ok=True):
    def meta(shapes, dtypes, axes, keepdim):
        shape = shapes[0]
        if not empty_ok and any(shape[a] == 0 for a in axes if a < len(shape)):
            raise ShapeError(f"{name}: cannot reduce over a zero-size axis (shape {shape}); "
                             f"the operation has no identity")
        return _reduced_shape(name, shape, axes, keepdim), dtypes[0]
    return meta


def _np_axes(x, axes):
    return axes if x.ndim else None


def acc_dtype(xp, x):
    """float16/bfloat16 accumulate in float32 and round once at the end, as PyTorch does
    (numpy would accumulate in the 2-byte type: 4096 bfloat16 ones sum to 256)."""
    return xp.float32 if x.dtype.itemsize == 2 and x.dtype.kind in "fV" else x.dtype


def _sum_kernel(xp, x, axes, keepdim):
    out = xp.sum(x, axis=_np_axes(x, axes), keepdims=keepdim, dtype=acc_dtype(xp, x))
    return xp.asarray(out).astype(x.dtype, copy=False)


def _prod_kernel(xp, x, axes, keepdim):
    out = xp.prod(x, axis=_np_axes(x, axes), keepdims=keepdim, dtype=acc_dtype(xp, x))
    return xp.asarray(out).astype(x.dtype, copy=False)


def _max_kernel(xp, x, axes, keepdim):
    return xp.asarray(xp.max(x, axis=_np_axes(x, axes), keepdims=keepdim))


def _min_kernel(xp, x, axes, keepdim):
    return xp.asarray(xp.min(x, axis=_np_axes(x, axes), keepdims=keepdim))


def _sum_vjp(g, out, x, axes, keepdim):
    return (L.unreduce(g, L.shape_of(x), axes, keepdim),)


def _extreme_vjp(g, out, x, axes, keepdim):
    """amax/amin: the cotangent is split evenly among tied extremes (PyTorch's rule)."""
    shape = L.shape_of(x)
    o = L.unreduce(out, shape, axes, keepdim)
    mask = L.cast(L.eq(x, o), L.dtype_of(g))
    count = L.sum_(mask, axes, keepdim=True)
    share = L.div(L.unreduce(g, shape, axes, keepdim), L.expand(count, shape))
    return (L.mul(share, mask),)


def _prod_vjp(g, out, x, axes, keepdim):
    """d prod / d x_i = product of the others; exact with zeros (one zero: only it gets a
    gradient; two or more: none)."""
    shape = L.shape_of(x)
    zero, one = L.zeros_like(x), L.scalar_like(x, 1)
    is_zero = L.eq(x, zero)
    nz = L.sum_(L.cast(is_zero, L.dtype_of(x)), axes, keepdim=True)
    prod_nonzero = L.prod(L.where(is_zero, one, x), axes, keepdim=True)
    only_one = L.eq(nz, L.scalar_like(nz, 1))
    at_zero = L.expand(L.where(only_one, prod_nonzero, L.zeros_like(prod_nonzero)), shape)
    o = L.unreduce(out, shape, axes, keepdim)
    d = L.where(is_zero, at_zero, L.div(o, L.where(is_zero, one, x)))
    return (L.mul(L.unreduce(g, shape, axes, keepdim), d),)


def _argmax_meta(shapes, dtypes, axis, keepdim):
    shape = shapes[0]
    if shape and shape[axis] == 0:
        raise ShapeError(f"argmax: cannot reduce over a zero-size axis (shape {shape})")
    return _reduced_shape("argmax", shape, (axis,) if shape else (), keepdim), _dt.int64


def _argmax_kernel(xp, x, axis, keepdim):
    if x.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    return xp.asarray(xp.argmax(x, axis=axis, keepdims=keepdim)).astype(xp.int64)


defprim("sum", kind=REDUCTION, meta=_reduce_meta("sum"), eager=_sum_kernel, vjp=_sum_vjp,
        saves_inputs=False, nargs=1, doc="sum over ``axes`` (pairwise in float)")
defprim("prod", kind=REDUCTION, meta=_reduce_meta("prod"), eager=_prod_kernel, vjp=_prod_vjp,
        uses_output=True, nargs=1, doc="product over ``axes``")
defprim("reduce_max", kind=REDUCTION, meta=_reduce_meta("reduce_max", False), eager=_max_kernel,
        vjp=_extreme_vjp, uses_output=True, nargs=1, grad_name="AmaxBackward0",
        doc="max over ``axes``; nan propagates")
defprim("reduce_min", kind=REDUCTION, meta=_reduce_meta("reduce_min", False), eager=_min_kernel,
        vjp=_extreme_vjp, uses_output=True, nargs=1, grad_name="AminBackward0",
        doc="min over ``axes``; nan propagates")
defprim("argmax", kind=REDUCTION, meta=_argmax_meta, eager=_argmax_kernel, vjp=None, nargs=1,
        doc="index of the first maximum along ``axis`` (int64)")
