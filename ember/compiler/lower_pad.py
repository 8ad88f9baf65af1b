"""``pad`` inside a fused group: materialised into its own buffer by two small kernels.

Kernel-IR loads are affine and proven in bounds, so a padded value cannot be read through
a conditional load. Instead each ``pad`` node of a group gets its own buffer: a kernel
fills it with the padding value, and a second kernel computes the pad's input (the
group's work up to the pad, e.g. ReLU before a padded max pool) and stores it into the
interior at offset ``lo``. The rest of the group then reads the pad as a plain buffer
(through any affine map, e.g. ``window``), so the group still lowers natively; the cost
is one write and one read of the padded tensor.
"""
from __future__ import annotations

from ..ir import Group
from . import kernel_ir as K
from .kernel_views import IndexMap
from .lower import REDUCTIONS, Unsupported, _Builder, _finish, _scalar, dtype_name


def split_pads(grp, outs, buffers, unique):
    """(steps as [(kind, kernel, keys)], group without its pad nodes, outputs without them),
    or None when the group has no pad."""
    pads = [n for n in grp.nodes if n.op == "pad"]
    if not pads:
        return None
    members = set(grp.nodes) - set(pads)
    steps = []
    for p in pads:
        x = p.inputs[0]
        dt = dtype_name(p)
        shape, xs = tuple(p.shape), tuple(x.shape)
        if not xs or 0 in shape:
            raise Unsupported(f"pad {p.name} of shape {xs} -> {shape}")
        if _reads_reduction(x, members):
            raise Unsupported(f"pad {p.name} of a value computed from a reduction")
        cs = K.contiguous_strides(shape)
        fill = _Builder(unique(f"pad_fill_{p.id}"), set(), buffers)
        fp = fill.param(p, "out")
        body = [K.Store(K.Access(fp, cs, 0), K.Const(_scalar(p.attrs["value"], dt), dt))]
        steps.append(("kernel",) + _finish(fill.name, fill, shape, (), body))
        b = _Builder(unique(f"pad_copy_{p.id}"), members, buffers)
        v = b.value(x, IndexMap.identity(xs))
        off = sum(lo * c for (lo, _), c in zip(p.attrs["pads"], cs))
        body = [K.Store(K.Access(b.param(p, "out"), cs, off), v)]
        steps.append(("kernel",) + _finish(b.name, b, xs, (), body))
    rest = Group(grp.name, grp.kind, [n for n in grp.nodes if n not in pads], grp.hints)
    return steps, rest, [o for o in outs if o not in pads]


def _reads_reduction(x, members):
    stack, seen = [x], set()
    while stack:
        n = stack.pop()
        if n in seen or n not in members:
            continue
        seen.add(n)
        if n.op in REDUCTIONS:
            return True
        stack.extend(n.inputs)
    return False


__all__ = ["split_pads"]
