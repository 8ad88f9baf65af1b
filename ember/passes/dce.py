"""Dead-code elimination: drop every node no output depends on. Inputs always stay (they
are the calling convention), so do nodes the outputs need, random draws included (a
random draw nobody reads is dead like any other value: the generator offset update is a
separate node that an output keeps alive)."""
from __future__ import annotations

from ..ir import INPUT
from .rewrite import rebuild


def live_nodes(graph):
    live = {v for _, v in graph.outputs}
    for n in reversed(graph.nodes):
        if n in live:
            live.update(n.inputs)
    return live


def dce(graph):
    live = live_nodes(graph)
    keep = [n for n in graph.nodes if n in live or n.op == INPUT]
    if len(keep) == len(graph.nodes):
        return graph if not graph.groups else rebuild(graph)[0]
    from ..ir import Graph
    return rebuild(Graph(keep, graph.outputs, graph.updates, name=graph.name))[0]
