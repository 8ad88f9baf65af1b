"""``x[idx]`` and ``x[idx] = v`` with PyTorch/NumPy semantics, plus gather/scatter/
index_select/nonzero/masked_select.

Basic indexing (ints, slices with positive steps, None, Ellipsis) makes views. Advanced
indexing (integer tensors or lists, bool masks) becomes one ``gather`` on the advanced
dims flattened together; assignment becomes ``scatter``/``scatter_add`` (or ``where`` for a
full-shape bool mask), applied in place through the in-place machinery so views and
autograd stay consistent.
"""
from __future__ import annotations

import math as _math

import numpy as np

from ...ops import PRIMITIVES as P, bind
from ...ops import dtypes as D
from ..dispatch import Tensor, broadcast_to, cast
from ..autograd.graph import rename_grad_fn
from ..tensor import _wrap_dim
from . import math as M
from . import shape as S


def _normalize(x, idx):
    """Expand Ellipsis; return (entries, n_new_axes) where entries cover source dims plus
    None markers."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, (list, np.ndarray)):
            i = _index_tensor(i)
        elif isinstance(i, (bool, np.bool_)):
            i = bool(i)
        elif isinstance(i, np.integer):
            i = int(i)
        elif isinstance(i, Tensor) and i.ndim == 0 and i.dtype.category == D.INT:
            i = int(i)  # PyTorch treats a 0-d integer tensor as an int (a view)
        elif isinstance(i, Tensor) and i.ndim == 0 and i.dtype is D.bool_:
            i = bool(i._data)
        elif not (i is None or i is Ellipsis or isinstance(i, (int, slice, Tensor))):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(i).__name__})")
        out.append(i)
    # a 0-d bool adds a dim of size 1 (True) or 0 (False): None plus an empty slice
    if any(isinstance(i, bool) for i in out):
        if any(isinstance(i, Tensor) for i in out):
            raise NotImplementedError("indexing with a bool scalar together with tensor "
                                      "indices is not supported yet in ember")
        expanded = []
        for i in out:
            if isinstance(i, bool):
                expanded.append(None)
                if not i:
                    expanded.append(_EMPTY_NEW)
            else:
                expanded.append(i)
        out = expanded
    consumed = sum(_dims_consumed(i) for i in out)
    n_ell = sum(1 for i in out if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if n_ell:
        k = out.index(Ellipsis)
        out = out[:k] + [slice(None)] * (x.ndim - consumed) + out[k + 1:]
    else:
        out += [slice(None)] * (x.ndim - consumed)
    return out


_EMPTY_NEW = "empty-new-dim"   # marker: the preceding None dim is sliced to length 0


def _dims_consumed(i):
    if i is None or i is Ellipsis or i is _EMPTY_NEW:
        return 0
    if isinstance(i, Tensor) and i.dtype is D.bool_:
        return max(i.ndim, 0) if i.ndim else 0
    return 1


def _index_tensor(v):
    arr = np.asarray(v)
    if arr.dtype == bool:
        return Tensor._wrap(arr, D.bool_)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return Tensor._wrap(arr.astype(np.int64), D.int64)


def _slice_bounds(s, n, dim):
    if s.step is not None and s.step <= 0:
        raise ValueError("step must be greater than zero")
    step = 1 if s.step is None else int(s.step)
    start, stop, _ = slice(s.start, s.stop, step).indices(n)
    return start, max(start, stop), step


def _basic(x, entries):
    """Apply ints/slices/None as views; returns (view, [(dim in the view, tensor
    index)] for advanced handling)."""
    y = x
    # None -> a new size-1 dim (a reshape view), so that later steps see only source dims
    if any(e is None for e in entries):
        shape, src, new_entries = [], 0, []
        for e in entries:
            if e is None:
                shape.append(1)
                new_entries.append(slice(None))
            elif e is _EMPTY_NEW:
                new_entries[-1] = slice(0, 0)
            else:
                k = _dims_consumed(e)
                shape.extend(x.shape[src:src + k])
                src += k
                new_entries.append(e)
        y = S.make_view(x, "reshape", shape=tuple(shape))
        entries = new_entries
    starts, stops, steps, drop, adv, dim = [], [], [], [], [], 0
    for e in entries:
        if isinstance(e, Tensor):
            k = e.ndim if e.dtype is D.bool_ else 1
            for j in range(k):
                starts.append(0)
                stops.append(y.shape[dim + j])
                steps.append(1)
            adv.append((dim, e))
            dim += k
            continue
        n = y.shape[dim]
        if isinstance(e, slice):
            a, b, c = _slice_bounds(e, n, dim)
        else:
            i = int(e)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {n}")
            i %= n
            # PyTorch's rule (unlike NumPy's): an int is always a basic select, never an
            # advanced index, so x[0, :, [0, 1]] has shape (4, 2) for x of shape (3, 4, 2)
            a, b, c = i, i + 1, 1
            drop.append(dim)
        starts.append(a)
        stops.append(b)
        steps.append(c)
        dim += 1
    if tuple(starts) != (0,) * y.ndim or tuple(stops) != tuple(y.shape) or any(s != 1 for s in steps):
        y = S.make_view(y, "slice", starts=tuple(starts), stops=tuple(stops), steps=tuple(steps))
    elif y is x and not adv:   # x[...] is a new view of all of x
        y = S._alias(x)
    if drop:
        y = S.make_view(y, "reshape", shape=tuple(n for i, n in enumerate(y.shape) if i not in drop))
        adv = [(d - sum(1 for k in drop if k < d), t) for d, t in adv]
    return y, adv


def _advanced_plan(y, adv):
    """(advanced dims, other dims, flat index into the advanced dims (B-shaped int64),
    broadcast shape B, whether the advanced dims are adjacent, their total size)."""
    dims, idx = [], []
    for d, t in adv:
        if t.dtype is D.bool_:
            if tuple(t.shape) != tuple(y.shape[d:d + t.ndim]):
                raise IndexError(f"The shape of the mask {tuple(t.shape)} does not match the "
                                 f"shape of the indexed tensor {tuple(y.shape)} at dims "
                                 f"{d}..{d + t.ndim - 1}")
            nz = np.nonzero(t._data)
            for j, a in enumerate(nz):
                dims.append(d + j)
                idx.append(Tensor._wrap(a.astype(np.int64), D.int64))
        else:
            if t.dtype.category == D.FLOAT:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            dims.append(d)
            idx.append(cast(t, D.int64))
    from ..promotion import broadcast_shapes
    bshape = broadcast_shapes(*(tuple(i.shape) for i in idx))
    flat = None
    stride = 1
    for d, i in reversed(list(zip(dims, idx))):
        n = y.shape[d]
        arr = i._data
        if type(arr) is not np.ndarray:
            # tracing: values are unknown; wrap negatives in the graph (gather's kernel
            # still rejects out-of-range indices when the program runs)
            i = M.where(M.lt(i, 0), M.add(i, n), i)
        else:
            if arr.size and (arr.min() < -n or arr.max() >= n):
                bad = int(arr.max()) if arr.max() >= n else int(arr.min())
                raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
            i = M.remainder(i, n) if arr.size and arr.min() < 0 else i
        term = M.mul(broadcast_to(i, bshape), stride) if stride != 1 else broadcast_to(i, bshape)
        flat = term if flat is None else M.add(flat, term)
        stride *= n
    rest = tuple(d for d in range(y.ndim) if d not in dims)
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    return tuple(dims), rest, flat, bshape, adjacent, stride


def _flatten_advanced(y, dims, rest):
    """y with its advanced dims moved first and merged: (prod(adv sizes), *rest sizes)."""
    perm = dims + rest
    yp = bind(P["permute"], y, perm=perm) if perm != tuple(range(y.ndim)) else y
    n = _math.prod(y.shape[d] for d in dims)
    return bind(P["reshape"], yp, shape=(n,) + tuple(y.shape[d] for d in rest)), yp, perm


def _row_index(flat, bshape, rest_shape):
    nb = _math.prod(bshape)
    lin = bind(P["reshape"], flat, shape=(nb,) + (1,) * len(rest_shape))
    return bind(P["expand"], lin, shape=(nb,) + rest_shape) if rest_shape else lin


def _basic_name(idx):
    """PyTorch's grad_fn name for basic indexing: that of the last non-trivial step."""
    items = idx if isinstance(idx, tuple) else (idx,)
    for i in reversed(items):
        if i is None:
            return "UnsqueezeBackward0"
        if isinstance(i, slice):
            if i != slice(None):
                return "SliceBackward0"
        elif i is not Ellipsis:
            return "SelectBackward0"
    return "SliceBackward0" if any(isinstance(i, slice) for i in items) else "AliasBackward0"


def getitem(x, idx):
    entries = _normalize(x, idx)
    y, adv = _basic(x, entries)
    if not adv:
        return rename_grad_fn(y, _basic_name(idx), x.grad_fn)
    dims, rest, flat, bshape, adjacent, _ = _advanced_plan(y, adv)
    yf, _, _ = _flatten_advanced(y, dims, rest)
    rest_shape = tuple(yf.shape[1:])
    out = bind(P["gather"], yf, _row_index(flat, bshape, rest_shape), axis=0)
    out = bind(P["reshape"], out, shape=tuple(bshape) + rest_shape)
    first = dims[0]
    if adjacent and first > 0:  # NumPy: adjacent advanced dims stay where they were
        nbd = len(bshape)
        order = tuple(range(nbd, nbd + first)) + tuple(range(nbd)) + \
            tuple(range(nbd + first, nbd + len(rest_shape)))
        out = bind(P["permute"], out, perm=order)
    return rename_grad_fn(out, "IndexBackward0", x.grad_fn)


def setitem(x, idx, value):
    from .inplace import inplace_apply
    if isinstance(value, (list, tuple, np.ndarray)):
        from ..creation import tensor
        value = tensor(value, dtype=x.dtype)
    others = (value,) if isinstance(value, Tensor) else ()
    entries = _normalize(x, idx)
    # fast, data-independent path: a full-shape bool mask
    if len(entries) >= 1 and isinstance(entries[0], Tensor) and entries[0].dtype is D.bool_ \
            and tuple(entries[0].shape) == tuple(x.shape) \
            and (not isinstance(value, Tensor) or value.ndim == 0):
        mask = entries[0]
        return inplace_apply(x, lambda src: _cast_like(M.where(mask, value, src), src),
                             "index_put_", others, "IndexPutBackward0")
    y, adv = _basic(x, entries)
    if not adv:
        return inplace_apply(y, lambda src: _fill_like(src, value), "copy_", others)
    return inplace_apply(y, lambda src: index_put_functional(src, adv, value, False),
                         "index_put_", others, "IndexPutBackward0")


def _cast_like(v, like):
    return v if v.dtype is like.dtype else cast(v, like.dtype)


def _fill_like(src, value):
    if isinstance(value, Tensor):
        v = _cast_like(value, src)
        try:
            return broadcast_to(v, tuple(src.shape))
        except Exception:
            raise RuntimeError(f"shape mismatch: value tensor of shape {tuple(value.shape)} "
                               f"cannot be broadcast to indexing result of shape "
                               f"{tuple(src.shape)}") from None
    from ..dispatch import constant
    return constant(value, tuple(src.shape), src.dtype, src.device)


def index_put_functional(y, adv, value, accumulate):
    from ..dispatch import constant
    dims, rest, flat, bshape, adjacent, _ = _advanced_plan(y, adv)
    yf, yp, perm = _flatten_advanced(y, dims, rest)
    rest_shape = tuple(yf.shape[1:])
    first = dims[0]
    moved = adjacent and first > 0
    # the value is laid out like getitem's result would be
    vshape = (rest_shape[:first] + tuple(bshape) + rest_shape[first:]) if moved else \
        tuple(bshape) + rest_shape
    v = value if isinstance(value, Tensor) else constant(value, vshape, y.dtype, y.device)
    v = broadcast_to(_cast_like(v, y), vshape)
    if moved:
        nbd = len(bshape)
        v = bind(P["permute"], v, perm=tuple(range(first, first + nbd)) + tuple(range(first)) +
                 tuple(range(first + nbd, len(vshape))))
    v = bind(P["reshape"], v, shape=(_math.prod(bshape),) + rest_shape)
    out = bind(P["scatter_add" if accumulate else "scatter"], yf,
               _row_index(flat, bshape, rest_shape), v, axis=0)
    out = bind(P["reshape"], out, shape=tuple(yp.shape))
    if perm == tuple(range(y.ndim)):
        return out
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return bind(P["permute"], out, perm=tuple(inv))


def index_put_(x, indices, values, accumulate=False):
    from .inplace import inplace_apply
    entries = _normalize(x, tuple(indices))
    y, adv = _basic(x, entries)
    others = (values,) if isinstance(values, Tensor) else ()
    return inplace_apply(y, lambda src: index_put_functional(src, adv, values, accumulate),
                         "index_put_", others, "IndexPutBackward0") \
        if adv else inplace_apply(y, lambda src: _fill_like(src, values), "index_put_", others)


def index_put(x, indices, values, accumulate=False):
    entries = _normalize(x, tuple(indices))
    y, adv = _basic(x, entries)
    return index_put_functional(y, adv, values, accumulate)


# ---------------------------------------------------------------- torch-style helpers

def gather(x, dim, index, *, sparse_grad=False):
    d = _wrap_dim(dim, x.ndim, "gather")
    if index.dtype is not D.int64:
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {index.dtype.name}")
    return bind(P["gather"], x, index, axis=d)


def _src_for(x, index, src, dim):
    if isinstance(src, Tensor):
        src = _cast_like(src, x)
        if tuple(src.shape) != tuple(index.shape):
            src = S.make_view(src, "slice", starts=(0,) * src.ndim, stops=tuple(index.shape),
                              steps=(1,) * src.ndim)
        return src
    from ..dispatch import constant
    return constant(src, tuple(index.shape), x.dtype, x.device)


def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = _wrap_dim(dim, x.ndim, "scatter")
    s = _src_for(x, index, src, d)
    if reduce in ("add", "sum"):
        return bind(P["scatter_add"], x, index, s, axis=d)
    if reduce is not None:
        raise NotImplementedError(f"scatter(reduce={reduce!r}) is not supported yet")
    return bind(P["scatter"], x, index, s, axis=d)


def scatter_add(x, dim, index, src):
    d = _wrap_dim(dim, x.ndim, "scatter_add")
    return bind(P["scatter_add"], x, index, _src_for(x, index, src, d), axis=d)


def index_select(x, dim, index):
    d = _wrap_dim(dim, x.ndim, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    idx = [slice(None)] * x.ndim
    idx[d] = index.reshape(-1) if index.ndim == 0 else index
    return getitem(x, tuple(idx))


def take(x, index):
    return getitem(S.reshape(x, (-1,)), index)


def take_along_dim(x, indices, dim):
    return gather(x, dim, indices)


def nonzero(x, *, as_tuple=False):
    """Indices of non-zero elements (data-dependent shape: eager only)."""
    nz = np.nonzero(np.asarray(x._data))
    if as_tuple:
        return tuple(Tensor._wrap(a.astype(np.int64), D.int64) for a in nz)
    return Tensor._wrap(np.stack(nz, axis=1).astype(np.int64) if nz else
                        np.zeros((0, 0), np.int64), D.int64)


def argwhere(x):
    return nonzero(x)


def masked_select(x, mask):
    xb, mb = S.broadcast_tensors(x, mask)
    return getitem(xb, mb)


def masked_scatter(x, mask, source):
    raise NotImplementedError("masked_scatter is not supported yet in ember")
