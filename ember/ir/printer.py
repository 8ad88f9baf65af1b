"""The text form of a graph: one line per node, jaxpr/FX style, with the user's file:line.

    graph f(x: float32[4, 8]) {
      %1: float32[4, 8] = full(shape=(4, 8), value=1.5, dtype=float32)
      %2: float32[4, 8] = mul(x, %1)                          # model.py:12
      return (y=%2)
    }

Inputs are referred to by name, other values as ``%<id>``. Fused graphs print each group
as a block headed by its name and kind.
"""
from __future__ import annotations

import os

from ..ops import dtypes as _dt
from .graph import INPUT

_LOC_COLUMN = 64


def type_str(n):
    return f"{n.dtype.name}[{', '.join(map(str, n.shape))}]"


def _attr(v):
    if isinstance(v, _dt.DType):
        return v.name
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, tuple) and len(v) > 8:
        return "(" + ", ".join(_attr(x) for x in v[:8]) + f", ... {len(v)} items)"
    if isinstance(v, tuple):
        return "(" + ", ".join(_attr(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def short_loc(loc):
    if not loc:
        return ""
    path, _, line = loc.rpartition(":")
    return f"{os.path.basename(path)}:{line}"


def format_node(n):
    args = [i.name for i in n.inputs]
    args += [f"{k}={_attr(v)}" for k, v in sorted(n.attrs.items())]
    text = f"{n.name}: {type_str(n)} = {n.op}({', '.join(args)})"
    if n.device != "cpu":
        text += f" @{n.device}"
    loc = short_loc(n.loc)
    if loc:
        text = f"{text:<{_LOC_COLUMN}} # {loc}"
    return text


def format_graph(g):
    ins = ", ".join(f"{n.attrs['name']}: {type_str(n)}" for n in g.nodes if n.op == INPUT)
    lines = [f"graph {g.name}({ins}) {{"]
    grouped = {n for grp in g.groups for n in grp.nodes}
    for n in g.nodes:
        if n.op != INPUT and n not in grouped:
            lines.append("  " + format_node(n))
    for grp in g.groups:
        hint = f" hints={grp.hints}" if grp.hints else ""
        lines.append(f"  group {grp.name} ({grp.kind}){hint} {{")
        lines.extend("    " + format_node(n) for n in grp.nodes)
        lines.append("  }")
    lines.append("  return (" + ", ".join(f"{name}={v.name}" for name, v in g.outputs) + ")")
    if g.updates:
        lines.append("  updates: " + ", ".join(f"{o} -> {i}" for o, i in g.updates.items()))
    lines.append("}")
    return "\n".join(lines)


__all__ = ["format_graph", "format_node", "type_str", "short_loc"]
