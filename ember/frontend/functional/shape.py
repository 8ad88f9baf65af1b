"""Shape and movement composites. Views (view, reshape when possible, permute, transpose,
expand, slicing, squeeze/unsqueeze, narrow, chunk/split, select, unflatten) share storage
with their input exactly where PyTorch's do; ``flip``, ``repeat``, ``cat``, ``stack`` copy."""
from __future__ import annotations

import math as _math

import numpy as np

from ...ops import PRIMITIVES as P, bind, current_interpreter
from ..dispatch import EAGER, Tensor, cast
from ..promotion import result_type
from ..tensor import _wrap_dim
from ..autograd.graph import rename_grad_fn as _named
from .inplace import track_view

VIEW_PRIMS = ("reshape", "permute", "expand", "slice")


def make_view(x, name, **attrs):
    """Apply movement primitive ``name``; if the result shares x's storage, record it as
    a view of x's base with the chain of movements that made it."""
    out = bind(P[name], x, **attrs)
    if out is x:
        return out
    if current_interpreter() is not EAGER or np.may_share_memory(out._data, x._data):
        out._base = x._base if x._base is not None else x
        out._view_chain = x._view_chain + ((name, attrs),)
        out._version = x._version
        if out._requires_grad:
            track_view(out)
    return out


def infer_shape(shape, numel, op="view"):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got {shape}")
    if -1 in shape:
        known = _math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if _math.prod(shape) != numel or any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def view(x, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        dt = shape[0]
        raise NotImplementedError(f"view(dtype={dt}) (bit reinterpretation) is not supported "
                                  f"yet in ember")
    shape = infer_shape(_shape_arg(shape), x.numel(), "view")
    if shape == tuple(x.shape):
        return _alias(x)
    out = make_view(x, "reshape", shape=shape)
    if out._base is None and x.numel() > 0:
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                           f"(at least one dimension spans across two contiguous subspaces): "
                           f"cannot view shape {tuple(x.shape)} with strides {x.stride()} as "
                           f"{shape}. Use .reshape(...) instead.")
    return out


def _alias(x):
    """A new tensor object viewing all of x (what PyTorch returns for a no-op view)."""
    return make_view(x, "slice", starts=(0,) * x.ndim, stops=tuple(x.shape),
                     steps=(1,) * x.ndim)


def reshape(x, *shape):
    shape = infer_shape(_shape_arg(shape), x.numel(), "reshape")
    if shape == tuple(x.shape):
        return _alias(x)
    out = make_view(x, "reshape", shape=shape)
    if out._base is None:  # a copy: PyTorch's reshape is clone + _unsafe_view
        _named(out, "UnsafeViewBackward0", x.grad_fn)
    return out


def view_as(x, other):
    return view(x, tuple(other.shape))


def reshape_as(x, other):
    return reshape(x, tuple(other.shape))


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s = _wrap_dim(start_dim, x.ndim, "flatten")
    e = _wrap_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = tuple(x.shape)
    return reshape(x, shp[:s] + (_math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(x, dim, sizes):
    d = _wrap_dim(dim, x.ndim, "unflatten")
    sizes = infer_shape(sizes, x.shape[d], "unflatten")
    return view(x, tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:])) if x.is_contiguous() \
        else reshape(x, tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:]))


def ravel(x):
    return reshape(x, (-1,))


def permute(x, *args, dims=None):
    dims = _shape_arg(args if dims is None else (dims,))
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}")
    perm = tuple(_wrap_dim(d, x.ndim, "permute") for d in dims)
    return make_view(x, "permute", perm=perm)


def transpose(x, dim0, dim1):
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return _alias(x)
    a, b = _wrap_dim(dim0, x.ndim, "transpose"), _wrap_dim(dim1, x.ndim, "transpose")
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return _named(make_view(x, "permute", perm=tuple(perm)), "TransposeBackward0", x.grad_fn)


swapaxes = swapdims = transpose


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return _named(transpose(x, 0, 1) if x.ndim == 2 else _alias(x), "TBackward0", x.grad_fn)


def movedim(x, source, destination):
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_wrap_dim(s, x.ndim) for s in src]
    dst = [_wrap_dim(d, x.ndim) for d in dst]
    rest = [i for i in range(x.ndim) if i not in src]
    perm = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    it = iter(rest)
    perm = [p if p is not None else next(it) for p in perm]
    return permute(x, perm)


moveaxis = movedim


def unsqueeze(x, dim):
    d = _wrap_dim(dim, x.ndim + 1, "unsqueeze")
    s = tuple(x.shape)
    return _named(make_view(x, "reshape", shape=s[:d] + (1,) + s[d:]), "UnsqueezeBackward0",
                  x.grad_fn)


def squeeze(x, dim=None):
    s = tuple(x.shape)
    if dim is None:
        axes = [i for i, n in enumerate(s) if n == 1]
    else:
        dl = [dim] if isinstance(dim, int) else list(dim)
        axes = [_wrap_dim(d, x.ndim, "squeeze") for d in dl]
        axes = [a for a in axes if x.ndim and s[a] == 1]
    name = "SqueezeBackward0" if dim is None else \
        "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
    if not axes:
        return _named(_alias(x), name, x.grad_fn)
    return _named(make_view(x, "reshape", shape=tuple(n for i, n in enumerate(s) if i not in axes)),
                  name, x.grad_fn)


def expand(x, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    cur = tuple(x.shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing "
                                   f"dimension {i}")
            target.append(s)
        else:
            c = cur[i - lead]
            if s == -1:
                s = c
            if c != 1 and s != c:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the "
                                   f"existing size ({c}) at non-singleton dimension {i}.  "
                                   f"Target sizes: {list(sizes)}.  Tensor sizes: {list(cur)}")
            target.append(s)
    target = tuple(target)
    y = x
    if lead:
        y = make_view(x, "reshape", shape=(1,) * lead + cur)
    if tuple(y.shape) == target:
        return y if lead else _alias(x)
    return make_view(y, "expand", shape=target)


def expand_as(x, other):
    return expand(x, tuple(other.shape))


def broadcast_to(x, *shape):
    return expand(x, _shape_arg(shape))


def broadcast_tensors(*tensors):
    from ..promotion import broadcast_shapes
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def slice_dim(x, dim, start, stop, step=1):
    d = _wrap_dim(dim, x.ndim, "slice")
    starts = [0] * x.ndim
    stops = list(x.shape)
    steps = [1] * x.ndim
    starts[d], stops[d], steps[d] = start, stop, step
    return make_view(x, "slice", starts=tuple(starts), stops=tuple(stops), steps=tuple(steps))


def narrow(x, dim, start, length):
    d = _wrap_dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    if isinstance(start, Tensor):
        start = int(start)
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({n}).")
    return slice_dim(x, d, start, start + length)


def select(x, dim, index):
    d = _wrap_dim(dim, x.ndim, "select")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{tuple(x.shape)} at dimension {d}")
    index %= n
    s = slice_dim(x, d, index, index + 1)
    shp = tuple(x.shape)
    return _named(make_view(s, "reshape", shape=shp[:d] + shp[d + 1:]), "SelectBackward0",
                  x.grad_fn)


def split(x, split_size_or_sections, dim=0):
    d = _wrap_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got split_sizes="
                               f"{sizes}")
    name = "SplitBackward0" if isinstance(split_size_or_sections, int) else \
        "SplitWithSizesBackward0"
    out, off = [], 0
    for s in sizes:
        out.append(_named(slice_dim(x, d, off, off + s), name, x.grad_fn))
        off += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[_wrap_dim(dim, x.ndim, "chunk")]
    size = max(1, -(-n // chunks))
    return split(x, size, dim)


def tensor_split(x, sections, dim=0):
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(sections, int):
        q, r = divmod(n, sections)
        sizes = [q + 1] * r + [q] * (sections - r)
        return split(x, sizes, d)
    bounds = [0] + list(sections) + [n]
    return tuple(slice_dim(x, d, a, max(a, b)) for a, b in zip(bounds[:-1], bounds[1:]))


def unbind(x, dim=0):
    d = _wrap_dim(dim, x.ndim, "unbind")
    return tuple(_named(select(x, d, i), "UnbindBackward0", x.grad_fn) for i in range(x.shape[d]))


def contiguous(x, memory_format=None):
    if x.is_contiguous():
        return x
    return clone(x)


def clone(x, memory_format=None):
    """A copy: ``cast`` to the same dtype copies in eager and is dropped by the compiler,
    where values are immutable anyway."""
    return _named(bind(P["cast"], x, dtype=x.dtype), "CloneBackward0", x.grad_fn)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    # PyTorch skips legacy empty 1-D tensors in cat
    nonempty = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = nonempty[0]
    d = _wrap_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(nonempty):
        if t.ndim != ref.ndim:
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got "
                               f"{ref.ndim} and {t.ndim} (tensor {i})")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension "
                                   f"{d}. Expected size {ref.shape[k]} but got size "
                                   f"{t.shape[k]} for tensor number {i} in the list.")
    dt = result_type(*nonempty)
    return bind(P["cat"], *(cast(t, dt) for t in nonempty), axis=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = tuple(tensors[0].shape)
    for i, t in enumerate(tensors):
        if tuple(t.shape) != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {s0} at "
                               f"entry 0 and {tuple(t.shape)} at entry {i}")
    d = _wrap_dim(dim, len(s0) + 1, "stack")
    return _named(cat([unsqueeze(t, d) for t in tensors], d), "StackBackward0")


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim >= 2 else reshape(t, (1, -1)) for t in tensors], 0)


def flip(x, *args, dims=None):
    dims = list(_shape_arg(args if dims is None else (dims,)))
    axes = tuple(sorted(_wrap_dim(d, x.ndim, "flip") for d in dims))
    return bind(P["flip"], x, axes=axes) if axes else clone(x)


def fliplr(x):
    return flip(x, [1])


def flipud(x):
    return flip(x, [0])


def roll(x, shifts, dims=None):
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), tuple(x.shape))
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [dims] if isinstance(dims, int) else list(dims)
    out = x
    for s, d in zip(shifts, dims):
        d = _wrap_dim(d, x.ndim, "roll")
        n = x.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            a, b = slice_dim(out, d, n - s, n), slice_dim(out, d, 0, n - s)
            out = cat([a, b], d)
    return out


def repeat(x, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    lead = len(sizes) - x.ndim
    shp = (1,) * lead + tuple(x.shape)
    y = bind(P["reshape"], x, shape=tuple(v for n in shp for v in (1, n)))
    y = bind(P["expand"], y, shape=tuple(v for r, n in zip(sizes, shp) for v in (r, n)))
    out = bind(P["reshape"], clone(y), shape=tuple(r * n for r, n in zip(sizes, shp)))
    return _named(out, "RepeatBackward0", x.grad_fn)


def tile(x, dims):
    dims = tuple(dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, dims)


def repeat_interleave(x, repeats, dim=None):
    if not isinstance(repeats, int):
        raise NotImplementedError("repeat_interleave with tensor repeats is not supported yet")
    if dim is None:
        x, dim = flatten(x), 0
    d = _wrap_dim(dim, x.ndim)
    y = unsqueeze(x, d + 1)
    shp = list(y.shape)
    shp[d + 1] = repeats
    y = expand(y, shp)
    return reshape(clone(y), tuple(x.shape[:d]) + (x.shape[d] * repeats,) + tuple(x.shape[d + 1:]))
