"""In-place operations, expressed as functional updates.

``inplace_apply(x, fn)`` computes ``fn(x_before)`` functionally, writes it into x's
storage (so every view and the base see it) and bumps the shared version counter. For
autograd, x takes over the result's grad_fn; if x is a view, its base's new value is
"base with the view's elements replaced" -- a ``scatter`` into the flattened base at the
view's element positions (found by replaying the view chain on an iota) -- and x's
grad_fn becomes the view chain replayed on that. All of it is primitives, so the same
rewrite serves tracing later.
"""
from __future__ import annotations

import numpy as np

from ...ops import PRIMITIVES as P, bind
from ...ops import dtypes as D
from ..autograd import grad_mode
from ..dispatch import Tensor, broadcast_to, cast


def _check_target(x):
    if x._requires_grad and x.grad_fn is None and grad_mode.STATE.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = x._base
    if base is not None and base._requires_grad and base.grad_fn is None \
            and grad_mode.STATE.enabled:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if not x._data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location (an expanded view). "
                           "Please clone() the tensor before performing the operation.")


def _snapshot(x):
    """x's current value with x's autograd history but its own storage and version, so
    nodes that save it are unaffected by the write that follows."""
    t = Tensor._wrap(x._data.copy(), x.dtype, x.device)
    t._requires_grad = x._requires_grad
    t.grad_fn = x.grad_fn
    t._output_nr = x._output_nr
    if x._requires_grad and x.grad_fn is None:
        from ..dispatch import edge
        edge(x)
        t._acc = x._acc
    return t


def _conform(x, result, op):
    if result.dtype is not x.dtype:
        if result.dtype.category > x.dtype.category:
            raise RuntimeError(f"{op}: result type {result.dtype.name} can't be cast to the "
                               f"desired output type {x.dtype.name}")
        result = cast(result, x.dtype)
    if tuple(result.shape) != tuple(x.shape):
        try:
            result = broadcast_to(result, tuple(x.shape))
        except RuntimeError:
            raise RuntimeError(f"{op}: output with shape {list(x.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)}") from None
    return result


def inplace_apply(x, fn, op="in-place operation", others=()):
    """Run ``fn(x_before) -> new value`` and store it into x. Returns x."""
    _check_target(x)
    recording = grad_mode.STATE.enabled and (
        x._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
        or (x._base is not None and x._base._requires_grad))
    src = _snapshot(x) if recording else x
    result = _conform(x, fn(src), op)
    if recording and x._requires_grad and not result._requires_grad:
        # the new value is constant but x stays part of the graph (zero gradient)
        from . import math as M
        result = bind(P["where"], _true(x), result, src)
    np.copyto(x._data, result._data, casting="unsafe")
    x._version[0] += 1
    if recording and result._requires_grad:
        if x._base is None:
            x.grad_fn = result.grad_fn
            x._output_nr = result._output_nr
            x._requires_grad = True
        else:
            _rebase_view(x, result)
    return x


def _true(x):
    from ..dispatch import constant
    return constant(True, tuple(x.shape), D.bool_, x.device)


def _element_positions(x):
    """Flat positions in x's base of each element of view x (int64, x's shape)."""
    base = x._base
    with grad_mode.no_grad():
        idx = bind(P["iota"], n=base.numel(), dtype=D.int64)
        idx = bind(P["reshape"], idx, shape=tuple(base.shape))
        for name, attrs in x._view_chain:
            idx = bind(P[name], idx, **attrs)
    return idx


def _rebase_view(x, result):
    base = x._base
    n = base.numel()
    pos = bind(P["reshape"], _element_positions(x), shape=(x.numel(),))
    flat_base = bind(P["reshape"], base, shape=(n,))
    flat_val = bind(P["reshape"], result, shape=(x.numel(),))
    new_flat = bind(P["scatter"], flat_base, pos, flat_val, axis=0)
    new_base = bind(P["reshape"], new_flat, shape=tuple(base.shape))
    base.grad_fn = new_base.grad_fn
    base._output_nr = 0
    base._requires_grad = True
    v = new_base
    for name, attrs in x._view_chain:
        v = bind(P[name], v, **attrs)
    x.grad_fn = v.grad_fn
    x._output_nr = 0
    x._requires_grad = True


# ---------------------------------------------------------------- the in-place methods

def copy_(x, src, non_blocking=False):
    if not isinstance(src, Tensor):
        from ..creation import tensor
        src = tensor(src)
    return inplace_apply(x, lambda _: src, "copy_", (src,))


def fill_(x, value):
    from ..dispatch import constant
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.dim()} dimensions.")
        return inplace_apply(x, lambda _: value, "fill_", (value,))
    return inplace_apply(x, lambda s: constant(value, tuple(s.shape), s.dtype, s.device),
                         "fill_")


def zero_(x):
    return fill_(x, 0)


def make_inplace(fn, name):
    """The in-place form ``x.name_(...)`` of a functional op ``fn(x, ...)``."""
    def method(x, *args, **kwargs):
        return inplace_apply(x, lambda s: fn(s, *args, **kwargs), name + "_", args)
    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of ``{name}``."
    return method
