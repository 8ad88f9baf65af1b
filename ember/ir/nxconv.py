"""Conversion to a networkx DiGraph (for analysis and tests) and DOT export (for viewing).

networkx is used here and in the verifier only; passes keep their own index-based
bookkeeping so compile time does not depend on it.
"""
from __future__ import annotations

from .graph import INPUT
from .printer import short_loc, type_str


def to_networkx(g):
    """A DiGraph keyed by node id; node attributes op, shape, dtype, attrs, loc, group;
    edge attribute ``args``: the operand positions the edge feeds."""
    import networkx as nx
    dg = nx.DiGraph(name=g.name)
    group = {n: grp.name for grp in g.groups for n in grp.nodes}
    for n in g.nodes:
        dg.add_node(n.id, op=n.op, shape=n.shape, dtype=n.dtype.name, attrs=dict(n.attrs),
                    loc=n.loc, group=group.get(n), label=n.name)
        for k, i in enumerate(n.inputs):
            if dg.has_edge(i.id, n.id):
                dg.edges[i.id, n.id]["args"].append(k)
            else:
                dg.add_edge(i.id, n.id, args=[k])
    for name, v in g.outputs:
        dg.nodes[v.id].setdefault("outputs", []).append(name)
    return dg


def _q(s):
    return '"' + str(s).replace('"', '\\"') + '"'  # labels carry DOT's own \n escapes


def to_dot(g):
    """Graphviz DOT text; fusion groups are clusters, outputs are double octagons."""
    lines = [f"digraph {_q(g.name)} {{", "  node [shape=box, fontname=monospace];"]
    outs = {}
    for name, v in g.outputs:
        outs.setdefault(v, []).append(name)

    def decl(n, indent):
        label = f"{n.name} = {n.op}\\n{type_str(n)}"
        if n.loc:
            label += f"\\n{short_loc(n.loc)}"
        shape = "ellipse" if n.op == INPUT else "box"
        if n in outs:
            label += "\\n-> " + ", ".join(outs[n])
            shape = "doubleoctagon"
        lines.append(f"{indent}n{n.id} [label={_q(label)}, shape={shape}];")

    grouped = set()
    for k, grp in enumerate(g.groups):
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f"    label={_q(grp.name + ' (' + grp.kind + ')')};")
        for n in grp.nodes:
            decl(n, "    ")
            grouped.add(n)
        lines.append("  }")
    for n in g.nodes:
        if n not in grouped:
            decl(n, "  ")
    for n in g.nodes:
        for i in n.inputs:
            lines.append(f"  n{i.id} -> n{n.id};")
    lines.append("}")
    return "\n".join(lines)
