"""Index maps: how the lowering turns chains of movement primitives into kernel-IR accesses.

An ``IndexMap`` says which element of a tensor an iteration point reads:
``tensor_index[k] = offset[k] + sum_d rows[k][d] * i[d]``. Starting from the identity map of
a value at the kernel's iteration space, ``pull`` walks a movement primitive backwards
(from its output to its input) - ``permute``, ``expand``, ``slice``, ``flip``, ``reshape`` -
and ``to_access`` finally turns the map on a buffer into an ``Access`` (element strides and
offset). So ``x.t()[1:, ::2].expand(...)`` read inside a fused kernel costs nothing.

``reshape`` stays affine per dimension when every iteration axis's contribution lands
inside a single input dimension (splitting or merging dims that the map walks contiguously,
the usual case). Otherwise only the row-major linear form is known: ``pull`` returns a
*flat* map, which ``to_access`` still turns into an access when the reshape's input is a
contiguous buffer; pulling a flat map through a further movement op returns None, and the
lowering must then materialise that input (end the kernel there).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .kernel_ir import Access, contiguous_strides


@dataclass(frozen=True)
class IndexMap:
    shape: tuple      # the tensor's shape
    rows: tuple       # rows[k][d]: coefficient of iteration index d in tensor index k
    offset: tuple     # per tensor dim
    space: tuple      # the iteration extents
    flat: bool = False  # only the row-major linear form is known (``shape`` is (numel,))

    @classmethod
    def identity(cls, shape, order=None):
        """The tensor is the iteration space, its axes walked in ``order`` (iteration axis
        j is tensor axis order[j]; e.g. reduced axes moved last)."""
        r = len(shape)
        order = tuple(range(r)) if order is None else tuple(order)
        rows = tuple(tuple(1 if order[d] == k else 0 for d in range(r)) for k in range(r))
        return cls(tuple(shape), rows, (0,) * r, tuple(shape[o] for o in order))

    @property
    def iter_rank(self):
        return len(self.space)


def pull(m: IndexMap, prim: str, attrs: dict, in_shape) -> IndexMap | None:
    """The map on the input of movement primitive ``prim`` whose output is read by ``m``,
    or None when no affine map exists (the lowering then materialises that input)."""
    in_shape = tuple(in_shape)
    if m.flat:
        return None
    if prim == "permute":
        perm = attrs["perm"]
        rows, off = [None] * len(perm), [0] * len(perm)
        for j, p in enumerate(perm):          # out axis j is input axis p
            rows[p], off[p] = m.rows[j], m.offset[j]
        return IndexMap(in_shape, tuple(rows), tuple(off), m.space)
    if prim == "expand":
        zero = (0,) * m.iter_rank
        rows = tuple(zero if n == 1 and o != 1 else r
                     for n, o, r in zip(in_shape, m.shape, m.rows))
        off = tuple(0 if n == 1 and o != 1 else c for n, o, c in zip(in_shape, m.shape, m.offset))
        return IndexMap(in_shape, rows, off, m.space)
    if prim == "slice":
        st, sp = attrs["starts"], attrs["steps"]
        rows = tuple(tuple(s * c for c in r) for s, r in zip(sp, m.rows))
        off = tuple(a + s * c for a, s, c in zip(st, sp, m.offset))
        return IndexMap(in_shape, rows, off, m.space)
    if prim == "flip":
        axes = set(attrs["axes"])
        rows = tuple(tuple(-c for c in r) if k in axes else r for k, r in enumerate(m.rows))
        off = tuple(n - 1 - c if k in axes else c
                    for k, (n, c) in enumerate(zip(in_shape, m.offset)))
        return IndexMap(in_shape, rows, off, m.space)
    if prim == "reshape":
        return _pull_reshape(m, in_shape)
    return None


def _pull_reshape(m, in_shape):
    """Flatten through the output's row-major order, then split the linear form over the
    input's dims if every term stays inside one dim."""
    cs_out = contiguous_strides(m.shape)
    lin = [sum(cs_out[k] * m.rows[k][d] for k in range(len(m.shape))) for d in range(m.iter_rank)]
    base = sum(c * s for c, s in zip(m.offset, cs_out))
    extents = m.space
    cs_in = contiguous_strides(in_shape)
    if not in_shape:
        return IndexMap((), (), (), m.space) if not any(lin) and base == 0 else None
    rows = [[0] * m.iter_rank for _ in in_shape]
    off = []
    rem = base
    for s in cs_in:                           # unravel the constant part
        off.append(rem // s if s else 0)
        rem = rem - off[-1] * s if s else rem
    flat = IndexMap((max(1, math.prod(in_shape)),), (tuple(lin),), (base,), m.space, True)
    for d, a in enumerate(lin):
        if a == 0 or extents[d] <= 1:
            continue
        k = _dim_of(a, cs_in, in_shape)
        if k is None:
            return flat
        rows[k][d] = a // cs_in[k]
    # every input index must stay inside its dim over the whole iteration space
    for k, n in enumerate(in_shape):
        lo = hi = off[k]
        for d, c in enumerate(rows[k]):
            lo += min(0, c * (extents[d] - 1))
            hi += max(0, c * (extents[d] - 1))
        if lo < 0 or hi >= n:
            return flat
    return IndexMap(in_shape, tuple(tuple(r) for r in rows), tuple(off), m.space)


def _dim_of(a, cs_in, in_shape):
    for k, s in enumerate(cs_in):
        if s and abs(a) % s == 0 and abs(a) < s * in_shape[k]:
            return k
    return None


def to_access(m: IndexMap, param: int, strides=None) -> Access | None:
    """The kernel-IR access of a map on a buffer (contiguous unless ``strides`` given);
    None for a flat map on a strided buffer."""
    if m.flat and strides is not None:
        return None
    cs = contiguous_strides(m.shape) if strides is None else tuple(strides)
    it = tuple(sum(cs[k] * m.rows[k][d] for k in range(len(m.shape)))
               for d in range(len(m.space)))
    return Access(param, it, sum(c * s for c, s in zip(m.offset, cs)))
