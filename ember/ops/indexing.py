"""Indexing primitives: ``gather``, ``scatter`` (overwrite), ``scatter_add``, ``slice_scatter``.

``gather``/``scatter*`` follow torch.gather/torch.scatter along one ``axis``: the index has
the input's rank and may be smaller than it in every other dim. Advanced indexing,
embeddings, NLL and index assignment are composites over these.
"""
from __future__ import annotations

from . import dtypes as _dt
from . import lax as L
from .movement import slice_shape
from .registry import INDEX, ShapeError, defprim


def _check_index(name, xs, idx_shape, idx_dtype, axis):
    if idx_dtype is not _dt.int64:
        raise TypeError(f"{name}: index must be int64, got {idx_dtype!r}")
    if len(idx_shape) != len(xs):
        raise ShapeError(f"{name}: index rank {len(idx_shape)} must equal input rank "
                         f"{len(xs)} (index {idx_shape}, input {xs})")
    if not 0 <= axis < max(len(xs), 1):
        raise ShapeError(f"{name}: axis {axis} out of range for shape {xs}")
    for d, (a, b) in enumerate(zip(idx_shape, xs)):
        if d != axis and a > b:
            raise ShapeError(f"{name}: index {idx_shape} is larger than input {xs} in dim {d}")


def _region(x, idx_shape, axis):
    """The leading corner of ``x`` that an index of ``idx_shape`` addresses (a view)."""
    return x[tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(idx_shape))]


def _bounds(name, xp, index, n):
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        raise IndexError(f"{name}: index out of range for a dim of size {n} "
                         f"(got values in [{int(index.min())}, {int(index.max())}])")


# ---- gather
def _gather_meta(shapes, dtypes, axis):
    _check_index("gather", shapes[0], shapes[1], dtypes[1], axis)
    return shapes[1], dtypes[0]


def _gather_kernel(xp, x, index, axis):
    _bounds("gather", xp, index, x.shape[axis] if x.ndim else 1)
    if x.ndim == 0:
        return x.copy()
    return xp.take_along_axis(_region(x, index.shape, axis), index, axis=axis)


def _gather_vjp(g, out, x, index, axis):
    return L.scatter_add(L.full(L.shape_of(x), 0, L.dtype_of(g)), index, g, axis), None


defprim("gather", kind=INDEX, meta=_gather_meta, eager=_gather_kernel, vjp=_gather_vjp,
        nargs=2, saves_inputs=(1,), doc="out[i][j] = x[index[i][j]][j] along ``axis`` (torch.gather)")


# ---- scatter / scatter_add
def _scatter_meta(name):
    def meta(shapes, dtypes, axis):
        xs, ids, ss = shapes
        _check_index(name, xs, ids, dtypes[1], axis)
        if ss != ids:
            raise ShapeError(f"{name}: src shape {ss} must equal index shape {ids}")
        if dtypes[2] is not dtypes[0]:
            raise TypeError(f"{name}: src dtype {dtypes[2]!r} must equal input dtype {dtypes[0]!r}")
        return xs, dtypes[0]
    return meta


def _scatter_kernel(xp, x, index, src, axis):
    _bounds("scatter", xp, index, x.shape[axis] if x.ndim else 1)
    out = x.copy()
    if x.ndim == 0:
        return src.copy() if index.size else out
    xp.put_along_axis(_region(out, index.shape, axis), index, src, axis=axis)
    return out


def _scatter_add_kernel(xp, x, index, src, axis):
    _bounds("scatter_add", xp, index, x.shape[axis] if x.ndim else 1)
    out = x.copy()
    if x.ndim == 0:
        return out + src
    xp.scatter_add_along_axis(_region(out, index.shape, axis), index, src, axis)
    return out


def _scatter_vjp(g, out, x, index, src, axis):
    return L.scatter(g, index, L.zeros_like(src), axis), None, L.gather(g, index, axis)


def _scatter_add_vjp(g, out, x, index, src, axis):
    return g, None, L.gather(g, index, axis)


defprim("scatter", kind=INDEX, meta=_scatter_meta("scatter"), eager=_scatter_kernel,
        vjp=_scatter_vjp, nargs=3, saves_inputs=(1,), doc="copy of x with x[index] = src along ``axis``")
defprim("scatter_add", kind=INDEX, meta=_scatter_meta("scatter_add"), eager=_scatter_add_kernel,
        vjp=_scatter_add_vjp, nargs=3, saves_inputs=(1,), doc="copy of x with x[index] += src along ``axis``")


# ---- slice_scatter
def _slice_scatter_meta(shapes, dtypes, starts, stops, steps):
    xs, ss = shapes
    want = slice_shape("slice_scatter", xs, starts, stops, steps)
    if ss != want:
        raise ShapeError(f"slice_scatter: src shape {ss} must equal the slice's shape {want} "
                         f"(input {xs})")
    if dtypes[0] is not dtypes[1]:
        raise TypeError(f"slice_scatter: src dtype {dtypes[1]!r} must equal {dtypes[0]!r}")
    return xs, dtypes[0]


def _slice_scatter_kernel(xp, x, src, starts, stops, steps):
    out = x.copy()
    out[tuple(slice(a, b, c) for a, b, c in zip(starts, stops, steps))] = src
    return out


def _slice_scatter_vjp(g, out, x, src, starts, stops, steps):
    return (L.slice_scatter(g, L.zeros_like(src), starts, stops, steps),
            L.slice_(g, starts, stops, steps))


defprim("slice_scatter", kind=INDEX, meta=_slice_scatter_meta, eager=_slice_scatter_kernel,
        vjp=_slice_scatter_vjp, saves_inputs=False, nargs=2,
        doc="copy of x with x[starts:stops:steps] = src")
