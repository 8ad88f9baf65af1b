"""Building graphs: ``GraphBuilder`` appends nodes, and is also an ``ops.Interpreter``.

Under ``with ops.interpreter(builder):`` every ``ops.bind`` (so every ``ember.ops.lax``
call, so every VJP rule) appends a node instead of computing, which is how the symbolic
backward pass turns VJP rules into graphs::

    b = GraphBuilder()
    x = b.input("x", (4, 8), dtypes.float32)
    with ops.interpreter(b):
        y = lax.exp(lax.neg(x))
    b.output("y", y)
    g = b.build()

Each node's shape and dtype come from the primitive's meta rule, so an ill-formed node
cannot be built. Source locations are the innermost frame outside the ember package
(or what ``located()`` sets, which the tracer uses).
"""
from __future__ import annotations

import contextlib
import os
import sys

from ..ops import PRIMITIVES, Interpreter, Primitive
from ..ops import dtypes as _dt
from .graph import CONSTANT, INPUT, STOP_GRADIENT, Graph, Node

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_location(skip=2):
    """'file:line' of the innermost frame outside the ember package, or None."""
    f = sys._getframe(skip)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_EMBER_DIR):
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return None


class GraphBuilder(Interpreter):
    """Appends nodes to a new graph; ``build()`` returns it."""

    def __init__(self, name="graph", device="cpu", capture_locations=True):
        self.name = name
        self.device = device
        self.capture_locations = capture_locations
        self.nodes: list[Node] = []
        self.outputs: list[tuple[str, Node]] = []
        self.updates: dict[str, str] = {}
        self._ids = 0
        self._names = set()
        self._node_set = set()
        self._loc = None
        self._meta = None

    # ------------------------------------------------------------ context
    @contextlib.contextmanager
    def located(self, loc):
        """Nodes built inside get source location ``loc`` ("file:line")."""
        old, self._loc = self._loc, loc
        try:
            yield
        finally:
            self._loc = old

    @contextlib.contextmanager
    def scope(self, fn):
        """Nodes built inside record the user-level op ``fn`` (e.g. "relu") in
        ``meta['fn']``; fusion names groups after these."""
        old = self._meta
        self._meta = dict(old or {}, fn=fn)
        try:
            yield
        finally:
            self._meta = old

    # ------------------------------------------------------------ nodes
    def _new(self, op, inputs, attrs, shape, dtype, device, loc, meta):
        if loc is None:
            loc = self._loc
            if loc is None and self.capture_locations:
                loc = user_location(3)
        if self._meta:
            meta = dict(self._meta, **(meta or {}))
        n = Node(self._ids, op, inputs, attrs, shape, dtype, device, loc, meta)
        self._ids += 1
        self.nodes.append(n)
        self._node_set.add(n)
        return n

    def input(self, name, shape, dtype, device=None, loc=None):
        name = str(name)
        if name in self._names:
            raise ValueError(f"GraphBuilder: duplicate input name {name!r}")
        if not isinstance(dtype, _dt.DType):
            raise TypeError(f"GraphBuilder.input({name!r}): dtype must be an ember dtype, "
                            f"got {dtype!r}")
        self._names.add(name)
        return self._new(INPUT, (), {"name": name}, tuple(int(s) for s in shape), dtype,
                         device or self.device, loc, None)

    def constant(self, value, dtype, shape=None, loc=None):
        """A literal node from array-like ``value`` (kept small: constants are embedded in
        the graph, its hash and its JSON)."""
        import numpy as np
        arr = np.asarray(value, dtype=dtype.np)
        if shape is not None:
            arr = arr.reshape(shape)
        return self._new(CONSTANT, (), {"value": tuple(arr.reshape(-1).tolist())},
                         arr.shape, dtype, self.device, loc, None)

    def stop_gradient(self, x, loc=None):
        self._check_operands(STOP_GRADIENT, (x,))
        return self._new(STOP_GRADIENT, (x,), None, x.shape, x.dtype, x.device, loc, None)

    def _check_operands(self, op, inputs):
        for k, v in enumerate(inputs):
            if not isinstance(v, Node):
                raise TypeError(f"{op}: operand {k} is a {type(v).__name__}, not an IR value "
                                f"(a Node of this builder); wrap literals with "
                                f"GraphBuilder.constant or lax.full")
            if v not in self._node_set:
                raise ValueError(f"{op}: operand {k} ({v!r}) belongs to another graph")

    def add(self, op, inputs=(), attrs=None, *, loc=None, meta=None):
        """Append ``op(*inputs, **attrs)``; shape and dtype come from the meta rule."""
        if isinstance(op, Primitive):
            op = op.name
        inputs = tuple(inputs)
        attrs = dict(attrs) if attrs else {}
        if op == STOP_GRADIENT:
            return self.stop_gradient(inputs[0], loc=loc)
        prim = PRIMITIVES.get(op)
        if prim is None:
            raise ValueError(f"GraphBuilder.add: unknown op {op!r} (not a primitive; markers "
                             f"are built with input()/constant()/stop_gradient())")
        self._check_operands(op, inputs)
        try:
            shape, dtype = prim.meta(tuple(i.shape for i in inputs),
                                     tuple(i.dtype for i in inputs), attrs)
        except (ValueError, TypeError) as e:  # point at the user's line, keep the type
            where = loc or self._loc or user_location(2)
            if where is None:
                raise
            raise type(e)(f"{e} (at {where})") from e
        device = self.device
        if inputs:
            device = inputs[0].device
            for i in inputs[1:]:
                if i.device != device:
                    raise ValueError(f"{op}: operands on different devices: {device} and "
                                     f"{i.device}")
        return self._new(op, inputs, attrs, shape, dtype, device, loc, meta)

    def copy(self, node, inputs):
        """A copy of ``node`` (op, attrs, loc, meta) applied to new ``inputs``."""
        if node.op == INPUT:
            return self.input(node.attrs["name"], node.shape, node.dtype, node.device, node.loc)
        if node.op == CONSTANT:
            return self._new(CONSTANT, (), node.attrs, node.shape, node.dtype, node.device,
                             node.loc, node.meta)
        if node.op == STOP_GRADIENT:
            n = self.stop_gradient(inputs[0], loc=node.loc)
            n.meta.update(node.meta)
            return n
        return self.add(node.op, inputs, node.attrs, loc=node.loc, meta=node.meta)

    # ------------------------------------------------------------ interpreter
    def process(self, prim, args, attrs):
        return self.add(prim, args, attrs)

    # ------------------------------------------------------------ outputs
    def output(self, name, node):
        name = str(name)
        if any(n == name for n, _ in self.outputs):
            raise ValueError(f"GraphBuilder: duplicate output name {name!r}")
        self._check_operands(f"output {name!r}", (node,))
        self.outputs.append((name, node))
        return node

    def update(self, output_name, input_name):
        """Declare that output ``output_name`` is written back into input ``input_name``."""
        self.updates[str(output_name)] = str(input_name)

    def build(self, groups=None):
        return Graph(self.nodes, self.outputs, self.updates, groups, self.name)
