"""``ember.autograd.Function``: user-defined forward/backward pairs, as in PyTorch.

``forward`` runs with grad recording off; ``backward`` is written in ember ops, so it is
differentiable itself (create_graph) and traces like any other code.
"""
from __future__ import annotations

from . import grad_mode
from .graph import CustomNode

_CLASSES: dict = {}


class FunctionCtx:
    def __init__(self):
        self._saved = ()
        self._saved_versions = ()
        self._released = False
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._non_differentiable = set()
        self._dirty = set()

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._saved_versions = tuple(t._version[0] if t is not None else None for t in tensors)

    @property
    def saved_tensors(self):
        if self._released:
            from .graph import _FREED
            raise RuntimeError(_FREED)
        for t, v in zip(self._saved, self._saved_versions):
            if t is not None and t._version[0] != v:
                raise RuntimeError("one of the variables needed for gradient computation has "
                                   "been modified by an inplace operation (a tensor passed to "
                                   "save_for_backward)")
        return self._saved

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    pass


class Function(metaclass=_FunctionMeta):
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call
    ``MyFn.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override (with a ``forward`` that takes no ctx) to save state separately."""
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..dispatch import Tensor, edge
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with grad_mode.no_grad():
            if cls.setup_context is not Function.setup_context:
                # PyTorch 2 style: forward(*args) without ctx, then setup_context
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        if not (grad_mode.STATE.enabled and any(ctx.needs_input_grad)):
            return outputs
        node_cls = _CLASSES.get(cls)
        if node_cls is None:
            node_cls = type(f"{cls.__name__}Backward", (CustomNode,), {"__slots__": ()})
            _CLASSES[cls] = node_cls
        node = node_cls.__new__(node_cls)
        node.ctx = ctx
        node.fn_cls = _MaterializingBackward(cls, outs, ctx)
        node._n_outputs = len(outs)
        node._pre_hooks = None
        node._retained = None
        node.metadata = {}
        node.next_functions = tuple(edge(a) if isinstance(a, Tensor) else (None, 0) for a in args)
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and id(o) not in ctx._non_differentiable \
                    and o.dtype.is_floating_point:
                if any(o is a for a in args) and id(o) not in ctx._dirty:
                    o = o.view_as(o)  # an input returned as-is becomes a new tensor (a view)
                o.grad_fn = node
                o._output_nr = i
                o._requires_grad = True
            wrapped.append(o)
        return tuple(wrapped) if is_tuple else wrapped[0]


class _MaterializingBackward:
    """Calls the user's backward with one gradient per output (zeros for unused ones)."""

    def __init__(self, cls, outs, ctx):
        self.cls = cls
        self.shapes = [(tuple(o.shape), o.dtype, o.device) if hasattr(o, "shape") else None
                       for o in outs]

    def backward(self, ctx, gs):
        from ..creation import zeros
        if not isinstance(gs, list):
            gs = [gs]
        grads = []
        for g, meta in zip(gs, self.shapes):
            if g is None and ctx.materialize_grads and meta is not None:
                g = zeros(meta[0], dtype=meta[1], device=meta[2])
            grads.append(g)
        res = self.cls.backward(ctx, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n_in = len(ctx.needs_input_grad)
        if len(res) != n_in:
            raise RuntimeError(f"function {self.cls.__name__}Backward returned an incorrect "
                               f"number of gradients (expected {n_in}, got {len(res)})")
        return res


def once_differentiable(fn):
    return fn
