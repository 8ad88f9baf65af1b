"""The verifier: a graph is well formed or ``VerifyError`` says which node is not and why.

Checks: unique node ids and input names; def-before-use (so no cycles); every primitive
node's shape and dtype equal what its meta rule re-derives from its operands (which also
rejects mixed-dtype binary nodes: dispatch inserts the casts); markers are well formed;
outputs are defined and uniquely named; in-place updates name a real output and input of
the same shape and dtype; and, for fused graphs, that groups partition the non-input
nodes, are contiguous and ordered, and form an acyclic group graph (checked with
networkx, independently of the fusion pass's own bookkeeping).
"""
from __future__ import annotations

import math

from ..ops import PRIMITIVES
from ..ops import dtypes as _dt
from .graph import CONSTANT, INPUT, STOP_GRADIENT
from .printer import format_node


class VerifyError(ValueError):
    """The graph is malformed; the message names the node and the rule it breaks."""


def _fail(n, msg):
    raise VerifyError(f"node {format_node(n)}: {msg}")


def _check_node(n, defined):
    for k, i in enumerate(n.inputs):
        if i not in defined:
            _fail(n, f"operand {k} ({i!r}) is used before it is defined (or not in the graph)")
    if not isinstance(n.dtype, _dt.DType):
        _fail(n, f"dtype {n.dtype!r} is not an ember dtype")
    if n.op == INPUT:
        if n.inputs or "name" not in n.attrs:
            _fail(n, "an input node has a name and no operands")
        return
    if n.op == CONSTANT:
        v = n.attrs.get("value")
        if n.inputs or not isinstance(v, tuple) or len(v) != math.prod(n.shape):
            _fail(n, f"a constant holds a flat tuple of {math.prod(n.shape)} values")
        return
    if n.op == STOP_GRADIENT:
        if len(n.inputs) != 1 or n.shape != n.inputs[0].shape or n.dtype is not n.inputs[0].dtype:
            _fail(n, "stop_gradient is an identity on one operand")
        return
    prim = PRIMITIVES.get(n.op)
    if prim is None:
        _fail(n, f"unknown op {n.op!r}")
    if prim.nargs is not None and len(n.inputs) != prim.nargs:
        _fail(n, f"{n.op} takes {prim.nargs} operands, got {len(n.inputs)}")
    if prim.kind == "elementwise" and len({i.dtype for i in n.inputs[-2:]}) > 1:
        ds = ", ".join(repr(i.dtype) for i in n.inputs)
        _fail(n, f"mixed operand dtypes ({ds}): the IR is dtype-homogeneous, insert a cast")
    try:
        shape, dtype = prim.meta(tuple(i.shape for i in n.inputs),
                                 tuple(i.dtype for i in n.inputs), n.attrs)
    except (ValueError, TypeError) as e:
        _fail(n, f"meta rule rejects it: {e}")
    if tuple(shape) != n.shape or dtype is not n.dtype:
        _fail(n, f"recorded {n.dtype.name}{list(n.shape)} but the meta rule gives "
                 f"{dtype.name}{list(shape)}")


def _check_groups(g):
    import networkx as nx
    seen = {}
    pos = {n: k for k, n in enumerate(g.nodes)}
    last = -1
    for grp in g.groups:
        if not grp.nodes:
            raise VerifyError(f"group {grp.name} is empty")
        idx = sorted(pos[n] for n in grp.nodes if n in pos)
        if len(idx) != len(grp.nodes):
            raise VerifyError(f"group {grp.name} holds nodes that are not in the graph")
        if idx != list(range(idx[0], idx[0] + len(idx))) or idx[0] <= last:
            raise VerifyError(f"group {grp.name} is not contiguous and in order in the node "
                              f"list (positions {idx})")
        last = idx[-1]
        for n in grp.nodes:
            if n.op == INPUT:
                raise VerifyError(f"group {grp.name} contains input {n.name}")
            if n in seen:
                raise VerifyError(f"node {n.name} is in groups {seen[n]} and {grp.name}")
            seen[n] = grp.name
    missing = [n.name for n in g.nodes if n.op != INPUT and n not in seen]
    if missing:
        raise VerifyError(f"nodes {missing[:8]} are in no group")
    dg = nx.DiGraph()
    dg.add_nodes_from(grp.name for grp in g.groups)
    for n in g.nodes:
        for i in n.inputs:
            if i in seen and seen[i] != seen[n]:
                dg.add_edge(seen[i], seen[n])
    if not nx.is_directed_acyclic_graph(dg):
        raise VerifyError(f"the group graph has a cycle: {nx.find_cycle(dg)}")


def verify(g):
    """Raise ``VerifyError`` unless ``g`` is well formed; return None."""
    defined, ids, names = set(), set(), set()
    for n in g.nodes:
        if n.id in ids:
            _fail(n, f"duplicate node id {n.id}")
        ids.add(n.id)
        _check_node(n, defined)
        if n.op == INPUT:
            if n.attrs["name"] in names:
                _fail(n, f"duplicate input name {n.attrs['name']!r}")
            names.add(n.attrs["name"])
        defined.add(n)
    onames = set()
    for name, v in g.outputs:
        if name in onames:
            raise VerifyError(f"duplicate output name {name!r}")
        onames.add(name)
        if v not in defined:
            raise VerifyError(f"output {name!r} refers to {v!r}, which is not in the graph")
    for oname, iname in g.updates.items():
        if oname not in onames:
            raise VerifyError(f"update {oname!r} -> {iname!r}: no output named {oname!r}")
        if iname not in names:
            raise VerifyError(f"update {oname!r} -> {iname!r}: no input named {iname!r}")
        o, i = g.output(oname), g.input(iname)
        if o.shape != i.shape or o.dtype is not i.dtype:
            raise VerifyError(f"update {oname!r} -> {iname!r}: output {o.dtype.name}"
                              f"{list(o.shape)} cannot be written into input {i.dtype.name}"
                              f"{list(i.shape)}")
    if len(set(g.updates.values())) != len(g.updates):
        raise VerifyError(f"two outputs update the same input: {g.updates}")
    if g.groups:
        _check_groups(g)
