"""Spec entries for shape and indexing composites (``functional/shape.py``,
``functional/indexing.py``) and the Tensor indexing operators."""
from __future__ import annotations

import numpy as np

from .sampling import Sample, arr, int_index, perm_index
from .spec import ALL, FLOATS, NUMERIC, OpSpec


def _one(in_shape, **kw):
    return lambda rng, dtype: [Sample((arr(rng, in_shape, dtype),), dict(kw))]


def _gen(*parts):
    def gen(rng, dtype):
        return [s for p in parts for s in p(rng, dtype)]
    return gen


def _s(name, op, ref, *parts, dtypes=ALL, grad=(0,), **kw):
    return OpSpec(name, op, ref, _gen(*parts), dtypes=dtypes, grad=grad, **kw)


def _split_ref(x, split_size_or_sections, dim):
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        bounds = list(range(split_size_or_sections, n, split_size_or_sections))
    else:
        bounds = list(np.cumsum(split_size_or_sections)[:-1])
    return tuple(np.split(x, bounds, axis=dim))


def _chunk_ref(x, chunks, dim):
    n = x.shape[dim]
    size = -(-n // chunks)
    return tuple(np.split(x, list(range(size, n, size)), axis=dim))


def _roll_ref(x, shifts, dims=None):
    return np.roll(x, shifts, axis=dims)


def _repeat_interleave_ref(x, repeats, dim=None):
    return np.repeat(x, repeats, axis=dim)


def _squeeze_ref(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=dim) if x.shape[dim] == 1 else x


def _unflatten_ref(x, dim, sizes):
    return x.reshape(x.shape[:dim] + tuple(sizes) + x.shape[dim + 1:])


def _narrow_ref(x, dim, start, length):
    return np.take(x, range(start, start + length), axis=dim)


SHAPE = [
    _s("reshape", lambda m, x, shape: m.reshape(x, shape), lambda x, shape: x.reshape(shape),
       _one((2, 3), shape=(3, 2)), _one((2, 3), shape=(-1,)), _one((), shape=(1, 1)),
       _one((4,), shape=(2, -1)), _one((0, 3), shape=(3, 0))),
    _s("view", lambda m, x, shape: x.view(shape), lambda x, shape: x.reshape(shape),
       _one((2, 3, 2), shape=(6, 2)), _one((4,), shape=(2, 2))),
    _s("flatten", lambda m, x, **kw: m.flatten(x, **kw),
       lambda x, start_dim=0, end_dim=-1: x.reshape(x.shape[:start_dim] + (-1,) + (
           x.shape[end_dim:][1:] if end_dim != -1 else ())),
       _one((2, 3, 4)), _one((2, 3, 4), start_dim=1), _one((2, 3, 4), start_dim=0, end_dim=1),
       _one((3,))),
    _s("unflatten", lambda m, x, dim, sizes: m.unflatten(x, dim, sizes), _unflatten_ref,
       _one((2, 6), dim=1, sizes=(2, 3)), _one((6,), dim=0, sizes=(3, 2))),
    _s("permute", lambda m, x, dims: m.permute(x, dims), lambda x, dims: np.transpose(x, dims),
       _one((2, 3, 4), dims=(2, 0, 1)), _one((2, 3), dims=(1, 0)),
       _one((2, 3, 4), dims=(-1, 0, 1))),
    _s("transpose", lambda m, x, a, b: m.transpose(x, a, b), lambda x, a, b: np.swapaxes(x, a, b),
       _one((2, 3, 4), a=0, b=2), _one((2, 3), a=-1, b=0)),
    _s("t", lambda m, x: m.t(x), lambda x: x.T, _one((2, 3)), _one((3,))),
    _s("movedim", lambda m, x, src, dst: m.movedim(x, src, dst),
       lambda x, src, dst: np.moveaxis(x, src, dst), _one((2, 3, 4), src=0, dst=2),
       _one((2, 3, 4), src=(0, 1), dst=(2, 0))),
    _s("unsqueeze", lambda m, x, dim: m.unsqueeze(x, dim), lambda x, dim: np.expand_dims(x, dim),
       _one((2, 3), dim=0), _one((2, 3), dim=-1), _one((), dim=0)),
    _s("squeeze", lambda m, x, **kw: m.squeeze(x, **kw), _squeeze_ref,
       _one((2, 1, 3, 1)), _one((2, 1, 3), dim=1), _one((2, 1, 3), dim=0), _one((1,))),
    _s("expand", lambda m, x, size: x.expand(*size), lambda x, size: np.broadcast_to(
        x, tuple(s if s != -1 else x.shape[i - len(size) + x.ndim] for i, s in enumerate(size))),
       _one((2, 1), size=(2, 3)), _one((3,), size=(2, 3)), _one((1, 3), size=(4, -1)),
       _one((), size=(2,))),
    _s("broadcast_to", lambda m, x, shape: m.broadcast_to(x, shape),
       lambda x, shape: np.broadcast_to(x, shape), _one((3, 1), shape=(2, 3, 4))),
    _s("narrow", lambda m, x, **kw: m.narrow(x, **kw), _narrow_ref,
       _one((4, 3), dim=0, start=1, length=2), _one((4, 3), dim=1, start=0, length=0)),
    _s("select", lambda m, x, dim, index: m.select(x, dim, index),
       lambda x, dim, index: np.take(x, index, axis=dim), _one((3, 4), dim=1, index=2),
       _one((3, 4), dim=0, index=-1)),
    _s("split", lambda m, x, **kw: m.split(x, **kw), _split_ref,
       _one((5, 2), split_size_or_sections=2, dim=0),
       _one((2, 6), split_size_or_sections=(1, 2, 3), dim=1)),
    _s("chunk", lambda m, x, chunks, dim: m.chunk(x, chunks, dim), _chunk_ref,
       _one((5, 2), chunks=3, dim=0), _one((2, 6), chunks=2, dim=1)),
    _s("unbind", lambda m, x, dim: m.unbind(x, dim),
       lambda x, dim: tuple(np.moveaxis(x, dim, 0)), _one((2, 3), dim=1), _one((3,), dim=0)),
    _s("flip", lambda m, x, dims: m.flip(x, dims), lambda x, dims: np.flip(x, dims),
       _one((2, 3, 4), dims=(0, 2)), _one((3,), dims=(0,)), _one((2, 3), dims=(-1,))),
    _s("roll", lambda m, x, **kw: m.roll(x, **kw), _roll_ref,
       _one((2, 5), shifts=2, dims=1), _one((2, 5), shifts=(1, -2), dims=(0, 1)),
       _one((2, 3), shifts=4)),
    _s("repeat", lambda m, x, sizes: x.repeat(*sizes), lambda x, sizes: np.tile(x, sizes),
       _one((2, 3), sizes=(2, 1)), _one((3,), sizes=(2, 2)), _one((), sizes=(3,))),
    _s("tile", lambda m, x, dims: m.tile(x, dims), lambda x, dims: np.tile(x, dims),
       _one((2, 3), dims=(2,)), _one((2,), dims=(2, 2))),
    _s("repeat_interleave", lambda m, x, **kw: m.repeat_interleave(x, **kw),
       _repeat_interleave_ref, _one((2, 3), repeats=2, dim=1), _one((2, 2), repeats=3)),
    _s("ravel", lambda m, x: m.ravel(x), lambda x: x.reshape(-1), _one((2, 3)), _one(())),
    _s("tensor_split", lambda m, x, sections, dim: m.tensor_split(x, sections, dim),
       lambda x, sections, dim: tuple(np.array_split(x, sections, axis=dim)),
       _one((7, 2), sections=3, dim=0), _one((2, 5), sections=(1, 3), dim=1),
       _one((2, 5), sections=(4, 2), dim=1)),
    _s("expand_as", lambda m, x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape),
       lambda rng, d: [Sample((arr(rng, (3, 1), d), arr(rng, (2, 3, 4), d)))], grad=(0,)),
    _s("view_as", lambda m, x, y: x.view_as(y), lambda x, y: x.reshape(y.shape),
       lambda rng, d: [Sample((arr(rng, (3, 2), d), arr(rng, (6,), d)))], grad=(0,)),
    _s("broadcast_tensors", lambda m, *xs: m.broadcast_tensors(*xs),
       lambda *xs: tuple(np.broadcast_arrays(*xs)),
       lambda rng, d: [Sample((arr(rng, (3, 1), d), arr(rng, (4,), d), arr(rng, (), d)))],
       grad=(0, 1, 2)),
    _s("clone", lambda m, x: m.clone(x), lambda x: x.copy(), _one((2, 3)), _one(())),
    _s("contiguous", lambda m, x: x.t().contiguous(), lambda x: x.T.copy(), _one((2, 3))),
    _s("tril", lambda m, x, **kw: m.tril(x, **kw), lambda x, diagonal=0: np.tril(x, diagonal),
       _one((3, 4)), _one((4, 3), diagonal=-1), _one((2, 3, 3), diagonal=1)),
    _s("triu", lambda m, x, **kw: m.triu(x, **kw), lambda x, diagonal=0: np.triu(x, diagonal),
       _one((3, 4)), _one((4, 3), diagonal=1)),
]


# ---------------------------------------------------------------- joins

def _list(*shapes, **kw):
    return lambda rng, dtype: [Sample(tuple(arr(rng, s, dtype) for s in shapes), dict(kw))]


JOINS = [
    _s("cat", lambda m, *xs, dim: m.cat(list(xs), dim), lambda *xs, dim: np.concatenate(xs, dim),
       _list((2, 3), (1, 3), dim=0), _list((2, 1), (2, 3), (2, 2), dim=-1), _list((3,), dim=0),
       _list((0, 3), (2, 3), dim=0), grad=(0, 1, 2)),
    _s("stack", lambda m, *xs, dim: m.stack(list(xs), dim), lambda *xs, dim: np.stack(xs, dim),
       _list((2, 3), (2, 3), dim=0), _list((2,), (2,), (2,), dim=1), _list((), (), dim=0),
       grad=(0, 1, 2)),
    _s("hstack", lambda m, *xs: m.hstack(list(xs)), lambda *xs: np.hstack(xs),
       _list((2, 3), (2, 1)), _list((3,), (2,)), grad=(0, 1)),
    _s("vstack", lambda m, *xs: m.vstack(list(xs)), lambda *xs: np.vstack(xs),
       _list((2, 3), (1, 3)), _list((3,), (3,)), grad=(0, 1)),
]


# ---------------------------------------------------------------- indexing

def _with_index(xshape, ishape, n_of, axis=None, unique=False):
    def gen(rng, dtype):
        x = arr(rng, xshape, dtype)
        n = xshape[n_of] if n_of is not None else int(np.prod(xshape))
        idx = perm_index(rng, ishape, axis, n) if unique else int_index(rng, ishape, n)
        return [Sample((x, idx))]
    return gen


def _gather_ref(x, dim, index):
    dim %= x.ndim
    region = x[tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))]
    return np.take_along_axis(region, index, dim)


def _scatter_ref(add):
    def ref(x, index, src, dim):
        out = np.array(x, copy=True)
        for pos in np.ndindex(*index.shape):
            dst = list(pos)
            dst[dim] = index[pos]
            out[tuple(dst)] = out[tuple(dst)] + src[pos] if add else src[pos]
        return out
    return ref


def _scatter_samples(unique):
    def gen(rng, dtype):
        out = []
        for xs, ish, dim in (((3, 4), (2, 4), 0), ((3, 4), (3, 2), 1), ((4,), (3,), 0)):
            idx = perm_index(rng, ish, dim, xs[dim]) if unique else int_index(rng, ish, xs[dim])
            out.append(Sample((arr(rng, xs, dtype), idx, arr(rng, ish, dtype)), {"dim": dim}))
        return out
    return gen


def _idx_samples(rng, dtype):
    return [Sample((arr(rng, (4, 3), dtype), int_index(rng, (2,), 4))),
            Sample((arr(rng, (4, 3), dtype), int_index(rng, (2, 2), 4))),
            Sample((arr(rng, (4,), dtype), np.array([-1, 0, 2, 2], np.int64)))]


def _mask_samples(rng, dtype):
    return [Sample((arr(rng, (3, 4), dtype), rng.random((3, 4)) < 0.5)),
            Sample((arr(rng, (3, 4), dtype), rng.random((4,)) < 0.5)),
            Sample((arr(rng, (3,), dtype), np.zeros(3, bool)))]


def _np_mask_select(x, mask):
    xb, mb = np.broadcast_arrays(x, mask)
    return xb[mb]


def _basic_index(*cases):
    """x[key] for basic keys (ints, slices with steps, None, Ellipsis)."""
    return lambda rng, dtype: [Sample((arr(rng, s, dtype),), {"key": k}) for s, k in cases]


_BASIC = ((((4, 5), (1, slice(None, None, 2)))), (((4, 5), (slice(1, 3), None))),
          (((2, 3, 4), (Ellipsis, 1))), (((4, 5), (slice(None, None, 3), -1))),
          (((4,), (slice(5, 1),))), (((2, 3), ())))


def _np_masked_scatter(x, mask, src):
    xb, mb = np.broadcast_arrays(x, mask)
    out = np.array(xb, copy=True)
    out[mb] = src.reshape(-1)[:int(mb.sum())]
    return out


def _np_index_add(x, i, v):
    out = np.array(x, copy=True)
    np.add.at(out, i, v)
    return out


def _np_set(x, key, v):
    y = np.array(x, copy=True)
    y[key] = v
    return y


def _setitem_op(key):
    def op(m, x, v):
        y = x * 1
        y[key] = v
        return y
    return op


INDEXING = [
    _s("gather", lambda m, x, index, dim: m.gather(x, dim, index), lambda x, index, dim:
       _gather_ref(x, dim, index),
       lambda rng, d: [Sample((arr(rng, (3, 4), d), int_index(rng, (2, 4), 3)), {"dim": 0}),
                       Sample((arr(rng, (3, 4), d), int_index(rng, (3, 5), 4)), {"dim": 1}),
                       Sample((arr(rng, (3, 4), d), int_index(rng, (2, 2), 4)), {"dim": -1})]),
    _s("scatter", lambda m, x, index, src, dim: m.scatter(x, dim, index, src), _scatter_ref(False),
       _scatter_samples(True), grad=(0, 2)),
    _s("scatter_value", lambda m, x, index, dim: m.scatter(x, dim, index, value=1.5),
       lambda x, index, dim: _scatter_ref(False)(x, index, np.full(index.shape, 1.5), dim),
       lambda rng, d: [Sample(s.args[:2], s.kwargs) for s in _scatter_samples(True)(rng, d)],
       dtypes=FLOATS),
    _s("scatter_add", lambda m, x, index, src, dim: m.scatter_add(x, dim, index, src),
       _scatter_ref(True), _scatter_samples(False), dtypes=NUMERIC, grad=(0, 2)),
    _s("index_select", lambda m, x, index, dim: m.index_select(x, dim, index),
       lambda x, index, dim: np.take(x, index, axis=dim),
       lambda rng, d: [Sample((arr(rng, (4, 3), d), int_index(rng, (5,), 4)), {"dim": 0}),
                       Sample((arr(rng, (4, 3), d), int_index(rng, (2,), 3)), {"dim": 1})]),
    _s("take", lambda m, x, index: m.take(x, index), lambda x, index: np.take(x.reshape(-1), index),
       _with_index((3, 4), (2, 3), None)),
    _s("take_along_dim", lambda m, x, index, dim: m.take_along_dim(x, index, dim),
       lambda x, index, dim: np.take_along_axis(x, index, dim),
       lambda rng, d: [Sample((arr(rng, (3, 4), d), int_index(rng, (3, 2), 4)), {"dim": 1})]),
    _s("masked_select", lambda m, x, mask: m.masked_select(x, mask), _np_mask_select,
       _mask_samples),
    _s("nonzero", lambda m, x: m.nonzero(x), lambda x: np.argwhere(x).astype(np.int64),
       lambda rng, d: [Sample((arr(rng, (3, 4), d, -1, 1),)), Sample((arr(rng, (5,), d, -1, 1),))],
       grad=(), out_dtype="int64"),
    _s("argwhere", lambda m, x: m.argwhere(x), lambda x: np.argwhere(x).astype(np.int64),
       lambda rng, d: [Sample((arr(rng, (3, 4), d, -1, 1),))], grad=(), out_dtype="int64"),
    _s("index_put", lambda m, x, i, v: m.index_put(x, (i,), v),
       lambda x, i, v: _np_set(x, (i,), v),
       lambda rng, d: [Sample((arr(rng, (5, 3), d), np.array([0, 3], np.int64),
                               arr(rng, (2, 3), d))),
                       Sample((arr(rng, (5,), d), np.array([4, 1, 2], np.int64),
                               arr(rng, (), d)))], dtypes=NUMERIC, grad=(0, 2)),
    _s("index_put_accumulate", lambda m, x, i, v: m.index_put(x, (i,), v, accumulate=True),
       _np_index_add,
       lambda rng, d: [Sample((arr(rng, (5, 3), d), np.array([0, 3, 0], np.int64),
                               arr(rng, (3, 3), d)))], dtypes=NUMERIC, grad=(0, 2)),
    _s("getitem_basic", lambda m, x, key: x[key], lambda x, key: x[key],
       _basic_index(*_BASIC)),
    _s("getitem_tensor", lambda m, x, i: x[i], lambda x, i: x[i], _idx_samples),
    _s("getitem_mixed", lambda m, x, i: x[1:, i], lambda x, i: x[1:, i],
       lambda rng, d: [Sample((arr(rng, (3, 4), d), np.array([0, 3, 3], np.int64)))]),
    _s("getitem_two_tensors", lambda m, x, i, j: x[i, j], lambda x, i, j: x[i, j],
       lambda rng, d: [Sample((arr(rng, (3, 4), d), int_index(rng, (2, 2), 3),
                               int_index(rng, (2,), 4)))]),
    _s("getitem_mask", lambda m, x, mask: x[mask], lambda x, mask: x[mask],
       lambda rng, d: [Sample((arr(rng, (3, 4), d), rng.random((3, 4)) < 0.5)),
                       Sample((arr(rng, (3, 4), d), rng.random((3,)) < 0.5))]),
    _s("setitem_slice", _setitem_op((slice(None), slice(1, 3))),
       lambda x, v: _np_set(x, (slice(None), slice(1, 3)), v),
       lambda rng, d: [Sample((arr(rng, (3, 4), d), arr(rng, (3, 2), d))),
                       Sample((arr(rng, (3, 4), d), arr(rng, (2,), d)))],
       dtypes=NUMERIC, grad=(0, 1)),
    _s("setitem_int", _setitem_op((1,)), lambda x, v: _np_set(x, (1,), v),
       lambda rng, d: [Sample((arr(rng, (3, 4), d), arr(rng, (4,), d)))], dtypes=NUMERIC,
       grad=(0, 1)),
]


SPECS = SHAPE + JOINS + INDEXING
