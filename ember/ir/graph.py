"""The graph IR: ``Node`` (one SSA value), ``Group`` (a fusion group) and ``Graph``.

A node is one application of a primitive from ``ember.ops.PRIMITIVES``, or one of three
graph markers:

* ``input``          a named graph input (``attrs['name']``); no operands;
* ``constant``       a small literal (``attrs['value']``: flat tuple of Python scalars);
* ``stop_gradient``  identity whose cotangent is dropped (``Tensor.detach`` while tracing).

Every primitive has exactly one result, so a node *is* its value: it carries ``shape``
(tuple of ints), ``dtype`` (an ``ember.ops.dtypes.DType``) and ``device``, which is all
``ember.ops.lax`` needs, so VJP rules run on nodes directly (see ``builder.py``).
``loc`` is the user's "file:line"; ``meta`` is free-form pass metadata. Neither is part
of the structural hash.

Passes never mutate a graph in place: they build a new one (``GraphBuilder``), so a
graph handed out stays valid.
"""
from __future__ import annotations

import math

from ..ops import PRIMITIVES

INPUT, CONSTANT, STOP_GRADIENT = "input", "constant", "stop_gradient"
MARKERS = (INPUT, CONSTANT, STOP_GRADIENT)


class Node:
    __slots__ = ("id", "op", "inputs", "attrs", "shape", "dtype", "device", "loc", "meta")

    def __init__(self, id, op, inputs, attrs, shape, dtype, device, loc=None, meta=None):
        self.id = id
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs) if attrs else {}
        self.shape = tuple(shape)
        self.dtype = dtype
        self.device = device
        self.loc = loc
        self.meta = dict(meta) if meta else {}

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def numel(self):
        return math.prod(self.shape)

    @property
    def nbytes(self):
        return self.numel * self.dtype.itemsize

    @property
    def prim(self):
        """The primitive, or None for a marker node."""
        return PRIMITIVES.get(self.op)

    @property
    def kind(self):
        """The primitive's kind (``elementwise``, ``reduction`` ...) or the marker name."""
        p = PRIMITIVES.get(self.op)
        return p.kind if p is not None else self.op

    @property
    def name(self):
        """The input name for ``input`` nodes, else ``%<id>``."""
        return self.attrs["name"] if self.op == INPUT else f"%{self.id}"

    def __repr__(self):
        return f"<ir.Node %{self.id} = {self.op} : {self.dtype.name}{list(self.shape)}>"


class Group:
    """A fusion group: nodes that become one kernel. ``kind`` is ``pointwise``,
    ``reduction`` (row-local, possibly several reductions over the same axes), ``extern``
    (matmul/conv: a library call) or ``opaque`` (one node run by its own kernel).
    ``hints`` holds advice for code generators (e.g. a bias add that BLAS could fold)."""

    __slots__ = ("name", "kind", "nodes", "hints")

    def __init__(self, name, kind, nodes, hints=None):
        self.name = name
        self.kind = kind
        self.nodes = list(nodes)
        self.hints = dict(hints) if hints else {}

    def __repr__(self):
        return f"<ir.Group {self.name} ({self.kind}, {len(self.nodes)} nodes)>"


class Graph:
    """Ordered nodes (a topological order), named inputs, named outputs, and the calling
    convention ``updates``: output name -> input name whose storage the output overwrites
    after a call (in-place updates of parameters, optimizer state, generator offsets).

    ``groups`` is empty before fusion; after it, every non-input node is in exactly one
    group, groups are contiguous in ``nodes`` and listed in execution order."""

    def __init__(self, nodes, outputs, updates=None, groups=None, name="graph"):
        self.nodes = list(nodes)
        self.outputs = [(str(n), v) for n, v in outputs]
        self.updates = dict(updates) if updates else {}
        self.groups = list(groups) if groups else []
        self.name = name

    # ---------------------------------------------------------------- views
    @property
    def inputs(self):
        return [n for n in self.nodes if n.op == INPUT]

    @property
    def input_names(self):
        return [n.attrs["name"] for n in self.nodes if n.op == INPUT]

    @property
    def output_names(self):
        return [n for n, _ in self.outputs]

    def output(self, name):
        for n, v in self.outputs:
            if n == name:
                return v
        raise KeyError(f"graph {self.name!r} has no output named {name!r}; "
                       f"outputs: {self.output_names}")

    def input(self, name):
        for n in self.nodes:
            if n.op == INPUT and n.attrs["name"] == name:
                return n
        raise KeyError(f"graph {self.name!r} has no input named {name!r}; "
                       f"inputs: {self.input_names}")

    def users(self):
        """node -> list of nodes using it (one entry per use)."""
        us = {n: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                us.setdefault(i, []).append(n)
        return us

    def group_of(self):
        """node -> its Group (fused graphs only)."""
        return {n: g for g in self.groups for n in g.nodes}

    def group_inputs(self, group):
        """Values a group reads that are defined outside it, in first-use order."""
        inside = set(group.nodes)
        seen, res = set(), []
        for n in group.nodes:
            for i in n.inputs:
                if i not in inside and i not in seen:
                    seen.add(i)
                    res.append(i)
        return res

    def group_outputs(self, group, users=None):
        """Values of a group that are used after it (by other groups or as outputs)."""
        users = users if users is not None else self.users()
        inside = set(group.nodes)
        outs = {v for _, v in self.outputs}
        return [n for n in group.nodes
                if n in outs or any(u not in inside for u in users.get(n, ()))]

    @property
    def num_kernels(self):
        """Kernels a backend launches: one per group (unfused: one per non-marker node)."""
        if self.groups:
            return len(self.groups)
        return sum(1 for n in self.nodes if n.op not in MARKERS)

    # ---------------------------------------------------------------- forms
    def __str__(self):
        from .printer import format_graph
        return format_graph(self)

    def __repr__(self):
        return (f"<ir.Graph {self.name!r}: {len(self.nodes)} nodes, "
                f"{len(self.outputs)} outputs, {len(self.groups)} groups>")

    def verify(self):
        from .verify import verify
        verify(self)
        return self

    def structural_hash(self):
        from .serialize import structural_hash
        return structural_hash(self)

    def to_json(self, indent=None):
        from .serialize import to_json
        return to_json(self, indent=indent)

    @staticmethod
    def from_json(text):
        from .serialize import from_json
        return from_json(text)

    def to_networkx(self):
        from .nxconv import to_networkx
        return to_networkx(self)

    def to_dot(self):
        from .nxconv import to_dot
        return to_dot(self)
