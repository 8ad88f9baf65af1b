"""Movement primitives: index remappings (free inside a fused kernel) plus ``pad``/``cat``.

``reshape``/``permute``/``expand``/``slice`` are the ops views are made of: the frontend
records a view's chain of these so in-place updates can be replayed on its base.
"""
from __future__ import annotations

import math

from . import lax as L
from .registry import MOVEMENT, ShapeError, defprim


def _same_dtype(dtypes):
    return dtypes[0]


# ---- reshape
def _reshape_meta(shapes, dtypes, shape):
    if math.prod(shapes[0]) != math.prod(shape) or any(n < 0 for n in shape):
        raise ShapeError(f"reshape: cannot reshape {shapes[0]} ({math.prod(shapes[0])} elements) "
                         f"to {shape}")
    return shape, dtypes[0]


defprim("reshape", kind=MOVEMENT, meta=_reshape_meta, saves_inputs=False, nargs=1,
        eager=lambda xp, x, shape: xp.reshape(x, shape),
        vjp=lambda g, out, x, shape: (L.reshape(g, L.shape_of(x)),),
        grad_name="ViewBackward0", doc="same elements in row-major order, new shape")


# ---- permute
def _permute_meta(shapes, dtypes, perm):
    s = shapes[0]
    if sorted(perm) != list(range(len(s))):
        raise ShapeError(f"permute: {perm} is not a permutation of the {len(s)} dims of {s}")
    return tuple(s[p] for p in perm), dtypes[0]


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


defprim("permute", kind=MOVEMENT, meta=_permute_meta, saves_inputs=False, nargs=1,
        eager=lambda xp, x, perm: xp.transpose(x, perm),
        vjp=lambda g, out, x, perm: (L.permute(g, _inverse(perm)),),
        doc="reorder dims: out.shape[i] = x.shape[perm[i]]")


# ---- expand
def _expand_meta(shapes, dtypes, shape):
    s = shapes[0]
    if len(s) != len(shape) or any(a != b and a != 1 for a, b in zip(s, shape)):
        raise ShapeError(f"expand: cannot expand shape {s} to {shape} (only size-1 dims "
                         f"can grow, and the rank must match)")
    return shape, dtypes[0]


def _expand_vjp(g, out, x, shape):
    xs = L.shape_of(x)
    axes = tuple(i for i, (a, b) in enumerate(zip(xs, shape)) if a == 1 and b != 1)
    return (L.sum_(g, axes, keepdim=True) if axes else g,)


defprim("expand", kind=MOVEMENT, meta=_expand_meta, saves_inputs=False, nargs=1,
        eager=lambda xp, x, shape: xp.broadcast_to(x, shape), vjp=_expand_vjp,
        doc="broadcast size-1 dims to ``shape`` (a stride-0 view)")


# ---- slice (positive steps; flip is separate)
def slice_shape(name, s, starts, stops, steps):
    if not (len(starts) == len(stops) == len(steps) == len(s)):
        raise ShapeError(f"{name}: starts/stops/steps need one entry per dim of {s}")
    out = []
    for n, a, b, st in zip(s, starts, stops, steps):
        if st <= 0:
            raise ShapeError(f"{name}: step must be positive, got {st}")
        if not (0 <= a <= n and a <= b <= n):
            raise ShapeError(f"{name}: range [{a}:{b}] out of bounds for a dim of size {n}")
        out.append(max(0, (b - a + st - 1) // st))
    return tuple(out)


def _slice_meta(shapes, dtypes, starts, stops, steps):
    return slice_shape("slice", shapes[0], starts, stops, steps), dtypes[0]


def _slice_kernel(xp, x, starts, stops, steps):
    return x[tuple(slice(a, b, c) for a, b, c in zip(starts, stops, steps))]


def _slice_vjp(g, out, x, starts, stops, steps):
    return (L.slice_scatter(L.full(L.shape_of(x), 0, L.dtype_of(g)), g, starts, stops, steps),)


defprim("slice", kind=MOVEMENT, meta=_slice_meta, eager=_slice_kernel, vjp=_slice_vjp,
        saves_inputs=False, nargs=1, doc="x[starts:stops:steps] per dim (a view)")


# ---- flip
def _flip_meta(shapes, dtypes, axes):
    if any(not 0 <= a < len(shapes[0]) for a in axes):
        raise ShapeError(f"flip: axes {axes} out of range for shape {shapes[0]}")
    return shapes[0], dtypes[0]


defprim("flip", kind=MOVEMENT, meta=_flip_meta, saves_inputs=False, nargs=1,
        eager=lambda xp, x, axes: xp.flip(x, axes).copy() if axes else x.copy(),
        vjp=lambda g, out, x, axes: (L.flip(g, axes),), doc="reverse the order along ``axes``")


# ---- pad (constant value, non-negative widths; negative widths are slices)
def _pad_meta(shapes, dtypes, pads, value):
    s = shapes[0]
    if len(pads) != len(s) or any(lo < 0 or hi < 0 for lo, hi in pads):
        raise ShapeError(f"pad: need one non-negative (lo, hi) pair per dim of {s}, got {pads}")
    return tuple(n + lo + hi for n, (lo, hi) in zip(s, pads)), dtypes[0]


def _pad_kernel(xp, x, pads, value):
    if not pads:  # a 0-d input: numpy rejects an empty pad_width
        return x.copy()
    return xp.pad(x, pads, mode="constant", constant_values=value)


def _pad_vjp(g, out, x, pads, value):
    xs = L.shape_of(x)
    return (L.slice_(g, tuple(lo for lo, _ in pads), tuple(lo + n for (lo, _), n in zip(pads, xs))),)


defprim("pad", kind=MOVEMENT, meta=_pad_meta, eager=_pad_kernel, vjp=_pad_vjp,
        saves_inputs=False, nargs=1, grad_name="ConstantPadNdBackward0",
        doc="pad each dim with (lo, hi) copies of ``value``")


# ---- cat
def _cat_meta(shapes, dtypes, axis):
    if not shapes:
        raise ShapeError("cat: expected a non-empty list of tensors")
    s0 = shapes[0]
    for s, d in zip(shapes, dtypes):
        if len(s) != len(s0) or any(a != b for i, (a, b) in enumerate(zip(s, s0)) if i != axis):
            raise ShapeError(f"cat: sizes must match except in dim {axis}; got {s0} and {s}")
        if d is not dtypes[0]:
            raise TypeError(f"cat: one dtype expected, got {dtypes[0]!r} and {d!r}")
    return s0[:axis] + (sum(s[axis] for s in shapes),) + s0[axis + 1:], dtypes[0]


def _cat_vjp(g, out, *xs, axis):
    grads, off = [], 0
    gs = L.shape_of(g)
    for x in xs:
        n = L.shape_of(x)[axis]
        starts = tuple(off if i == axis else 0 for i in range(len(gs)))
        stops = tuple(off + n if i == axis else m for i, m in enumerate(gs))
        grads.append(L.slice_(g, starts, stops))
        off += n
    return tuple(grads)


defprim("cat", kind=MOVEMENT, meta=_cat_meta, saves_inputs=False,
        eager=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis), vjp=_cat_vjp,
        doc="concatenate along ``axis``")
