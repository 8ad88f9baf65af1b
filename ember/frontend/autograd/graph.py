"""Autograd graph nodes (``grad_fn``). One node per recorded primitive application, named
as PyTorch names them (``AddBackward0``...), with ``next_functions``. A node's backward is
its primitive's VJP rule, called through ``ops.bind`` so it can itself be recorded
(``create_graph=True``) or traced."""
from __future__ import annotations

import weakref

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time or if "
          "you need to access saved tensors after calling backward.")


class ShapeStub:
    """Stands in for an input whose values a VJP does not need (only shape and dtype)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


class Node:
    """Base class of every ``grad_fn``."""

    __slots__ = ("next_functions", "_pre_hooks", "_retained", "metadata", "__weakref__")

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` is not supported; use Tensor.register_hook."""
        raise NotImplementedError("Node.register_hook is not supported yet in ember; "
                                  "use Tensor.register_hook")

    def register_prehook(self, fn):
        """``fn(grad_outputs: tuple) -> tuple or None`` runs before this node's backward
        (PyTorch's ``Node.register_prehook``). Returns a handle with ``remove()``."""
        return self._add_pre_hook(None, fn)

    def _add_pre_hook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = []
        entry = (output_nr, fn)
        self._pre_hooks.append(entry)
        return _RemovableHandle(self._pre_hooks, entry)

    def apply_vjp(self, g, create_graph):  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self):
        pass


class _RemovableHandle:
    __slots__ = ("_hooks", "_entry")

    def __init__(self, hooks, entry):
        self._hooks, self._entry = hooks, entry

    def remove(self):
        if self._entry in self._hooks:
            self._hooks.remove(self._entry)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class PrimNode(Node):
    """The grad_fn of one primitive application."""

    __slots__ = ("prim", "attrs", "_saved", "_versions", "_out", "device")

    def apply_vjp(self, g, retain):
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED)
        for t, v in self._versions:
            if t._version[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{t.dtype.name} tensor of shape "
                    f"{list(t.shape)}] is at version {t._version[0]}; expected version {v} "
                    f"instead (in {type(self).__name__}).")
        out = self._out.unpack(self) if self._out is not None else None
        if self.prim.vjp_needs:   # skip cotangents nobody needs (e.g. the input batch's)
            needs = tuple(nf is not None for nf, _ in self.next_functions)
            grads = self.prim.vjp(g, out, *saved, needs=needs, **self.attrs)
        else:
            grads = self.prim.vjp(g, out, *saved, **self.attrs)
        if not retain:
            self.release()
        return grads

    def release(self):
        self._saved = None
        self._out = None


class AccumulateGrad(Node):
    """The sink of a leaf tensor that requires grad."""

    __slots__ = ("_variable",)

    @property
    def variable(self):
        return self._variable()


class CustomNode(Node):
    """grad_fn of an ``autograd.Function``; ``backward`` is the user's method."""

    __slots__ = ("ctx", "fn_cls", "_n_outputs", "_out_index")

    def apply_vjp(self, g, retain):
        if self.ctx._released:
            raise RuntimeError(_FREED)
        grads = self.fn_cls.backward(self.ctx, g)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if not retain:
            self.ctx._released = True
        return grads


_NODE_CLASSES: dict = {}


def node_class(grad_name):
    cls = _NODE_CLASSES.get(grad_name)
    if cls is None:
        cls = type(grad_name, (PrimNode,), {"__slots__": ()})
        _NODE_CLASSES[grad_name] = cls
    return cls


def make_accumulate(tensor):
    node = AccumulateGrad.__new__(AccumulateGrad)
    node._variable = weakref.ref(tensor)
    node.next_functions = ()
    node._pre_hooks = None
    node._retained = None
    node.metadata = {}
    return node


def rename_grad_fn(t, name, before=None):
    """Give ``t``'s grad_fn the PyTorch name of the composite that made it (``x[0]`` ends
    in a reshape primitive but is ``SelectBackward0`` in PyTorch). Only the node the
    composite created is renamed (never ``before``, the input's own grad_fn); its VJP is
    unchanged. Returns ``t``."""
    node = t.grad_fn
    if node is not None and node is not before and isinstance(node, PrimNode):
        node.__class__ = node_class(name)
    return t
