"""The one way passes change a graph: copy it node by node through a ``GraphBuilder``,
letting a rule replace nodes. Replacements are built with the replaced node's source
location, and every new node's shape and dtype is re-derived by its meta rule."""
from __future__ import annotations

from ..ir import GraphBuilder


def rebuild(graph, rule=None, name=None):
    """Copy ``graph``; ``rule(node, new_inputs, builder)`` returns a node of the new graph
    to stand for ``node``, or None to copy it. Returns (new graph, old -> new mapping).
    Fusion groups are dropped (passes that keep groups rebuild them)."""
    b = GraphBuilder(name or graph.name, capture_locations=False)
    m = {}
    for n in graph.nodes:
        ins = [m[i] for i in n.inputs]
        r = None
        if rule is not None:
            with b.located(n.loc):
                r = rule(n, ins, b)
        m[n] = r if r is not None else b.copy(n, ins)
    for oname, v in graph.outputs:
        b.output(oname, m[v])
    b.updates.update(graph.updates)
    return b.build(), m
