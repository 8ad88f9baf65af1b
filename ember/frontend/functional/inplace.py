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

import weakref

import numpy as np

from ...ops import PRIMITIVES as P, bind
from ...ops import dtypes as D
from ..autograd import grad_mode
from ..autograd.graph import rename_grad_fn
from ...ops import current_interpreter
from ..dispatch import EAGER, Tensor, broadcast_to, cast


def _check_target(x, op):
    if x._requires_grad and x.grad_fn is None and grad_mode.STATE.enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           f"in-place operation.")
    base = x._base
    if base is not None and base._requires_grad and base.grad_fn is None \
            and grad_mode.STATE.enabled:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used "
                           f"in an in-place operation.")
    if op not in ("fill_", "zero_") and _internal_overlap(x._data):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the "
                           f"written-to tensor (shape {tuple(x.shape)}, strides {x.stride()}) "
                           f"refers to a single memory location (an expanded view). Please "
                           f"clone() the tensor before performing the operation.")
    if not x._data.flags.writeable and not (base is not None and base._data.flags.writeable):
        raise RuntimeError(f"{op}: the tensor's memory is read-only (e.g. from_numpy of a "
                           f"read-only array); clone() it first")


def _internal_overlap(a):
    # an empty array has no elements to overlap (numpy may give it zero strides)
    return a.size > 0 and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


def _write(x, value):
    """Store ``value`` (an array of x's shape and dtype) into x's memory. Views of an
    expanded tensor are read-only in NumPy even where they do not overlap (PyTorch allows
    writing them): those are written through the base at the view's element positions."""
    if x._data.flags.writeable:
        np.copyto(x._data, value, casting="unsafe")
        return
    base = x._base
    pos = np.asarray(_element_positions(x)._data).reshape(-1)
    base._data[np.unravel_index(pos, base._data.shape)] = \
        np.broadcast_to(value, x._data.shape).reshape(-1)


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
        except (RuntimeError, ValueError):
            raise RuntimeError(f"{op}: output with shape {list(x.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)}") from None
    return result


def inplace_apply(x, fn, op="in-place operation", others=(), grad_name=None):
    """Run ``fn(x_before) -> new value`` and store it into x. Returns x. ``grad_name``
    is PyTorch's name for x's new grad_fn when x is not a view (``CopySlices`` and
    ``AsStridedBackward0`` name the base's and the view's when it is)."""
    if current_interpreter() is not EAGER:   # tracing: a functional rebinding, no write
        return _inplace_traced(x, fn, op, others)
    _check_target(x, op)
    recording = _recording(x, others)
    result = _new_value(x, _snapshot(x) if recording else x, fn, op, recording)
    _write(x, result._data)
    x._version[0] += 1
    if recording and result._requires_grad:
        old = x.grad_fn
        if x._base is None:
            x.grad_fn = result.grad_fn
            x._output_nr = result._output_nr
            x._requires_grad = True
            if grad_name is not None:
                rename_grad_fn(x, grad_name, old)
            refresh_views(x, None)
        else:
            _rebase_view(x, result)
            refresh_views(x._base, x)
        if old is not None and old._retained is not None and old._retained() is x:
            old._retained = None            # retain_grad follows x to its new value
            x.grad_fn._retained = weakref.ref(x)
    return x


def _recording(x, others):
    """Whether the update must be recorded for autograd."""
    return grad_mode.STATE.enabled and (
        x._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
        or (x._base is not None and x._base._requires_grad))


def _new_value(x, src, fn, op, recording):
    """``fn(src)`` conformed to x's shape and dtype, with the graph adjustments both the
    eager and the traced update need."""
    result = _conform(x, fn(src), op)
    if recording and x._requires_grad and not result._requires_grad:
        # the new value is constant but x stays part of the graph (zero gradient)
        result = bind(P["where"], _true(x), result, src)
    elif recording and result._requires_grad and result.grad_fn is None:
        # x takes over result's history; a leaf (copy_ from a leaf) needs a node of its own
        result = bind(P["cast"], result, dtype=result.dtype)
    return result


def track_view(view):
    """Remember a view of a tensor in a graph, so an in-place update of its base (or of a
    sibling view) can give it a fresh grad_fn, as PyTorch regenerates view grad_fns."""
    base = view._base
    views = getattr(base, "_views", None)
    if views is None:
        views = base._views = []
    elif len(views) > 32:  # drop dead entries now and then
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(view))


def refresh_views(base, skip):
    """Re-derive the grad_fn of every live view of ``base`` (except ``skip``) from the
    base's current history: the view chain replayed on the base."""
    views = getattr(base, "_views", None)
    if not views:
        return
    live = []
    for r in views:
        v = r()
        if v is None:
            continue
        live.append(r)
        if v is skip:
            continue
        t = base
        for name, attrs in v._view_chain:
            t = bind(P[name], t, **attrs)
        v.grad_fn = t.grad_fn
        v._output_nr = t._output_nr
        v._requires_grad = t._requires_grad
        rename_grad_fn(v, "AsStridedBackward0")
    views[:] = live


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
    rename_grad_fn(base, "CopySlices")
    v = new_base
    for name, attrs in x._view_chain:
        v = bind(P[name], v, **attrs)
    x.grad_fn = v.grad_fn
    x._output_nr = 0
    x._requires_grad = True
    rename_grad_fn(x, "AsStridedBackward0")


# ---------------------------------------------------------------- the in-place methods

def copy_(x, src, non_blocking=False):
    if not isinstance(src, Tensor):
        from ..creation import tensor
        src = tensor(src)
    return _overwrite(x, src, "copy_", "CopyBackwards")


def _overwrite(x, src, op, grad_name):
    """x[...] = src (broadcast): x's old history stays in the graph with a zero gradient,
    as in PyTorch."""
    def fn(old):
        if not (grad_mode.STATE.enabled and old._requires_grad):
            return src
        return bind(P["where"], _true(old), _conform(old, src, op), old)
    before = x.grad_fn
    inplace_apply(x, fn, op, (src,))
    if x._base is None:
        from ..autograd.graph import rename_grad_fn
        rename_grad_fn(x, grad_name, before)
    return x


def fill_(x, value, *, op="fill_", grad_name="FillBackward2"):
    from ..dispatch import constant
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.dim()} dimensions.")
        return _overwrite(x, value, "fill_", "FillBackward3")
    return inplace_apply(x, lambda s: constant(value, tuple(s.shape), s.dtype, s.device),
                         op, grad_name=grad_name)


def zero_(x):
    return fill_(x, 0, op="zero_", grad_name="ZeroBackward0")


# in-place forms whose PyTorch grad_fn name differs from the functional composite's
_INPLACE_NAMES = {"clamp": "ClampBackward1", "clip": "ClampBackward1",
                  "clamp_min": "ClampMinBackward0", "clamp_max": "ClampMaxBackward0",
                  "masked_fill": "MaskedFillBackward0", "sigmoid": "SigmoidBackward0",
                  "relu": "ReluBackward0", "rsqrt": "RsqrtBackward0",
                  "pow": "PowBackward0", "scatter": "ScatterBackward0",
                  "scatter_add": "ScatterAddBackward0", "lerp": "LerpBackward0"}


def make_inplace(fn, name):
    """The in-place form ``x.name_(...)`` of a functional op ``fn(x, ...)``."""
    def method(x, *args, **kwargs):
        return inplace_apply(x, lambda s: fn(s, *args, **kwargs), name + "_",
                             args + tuple(kwargs.values()), _INPLACE_NAMES.get(name))
    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of ``{name}``."
    return method


# ---------------------------------------------------------------- while tracing

def _replay(t, chain):
    for name, attrs in chain:
        t = bind(P[name], t, **attrs)
    return t


def _inplace_traced(x, fn, op, others):
    """The same update as ``inplace_apply``, but values are graph nodes: x (and for a view,
    its base and the base's other views) are rebound to their new values. The autograd
    bookkeeping is the eager one, so a traced ``backward()`` sees PyTorch's semantics."""
    from ...compiler.capture import active_tracer
    _check_target(x, op)
    tracer = active_tracer()
    recording = _recording(x, others)
    # graph values are immutable, so x itself is the "before" value: no snapshot needed
    result = _new_value(x, x, fn, op, recording)
    base = x._base
    if base is None:
        tracer.rebind(x, result)
        if recording and result._requires_grad:
            x.grad_fn, x._output_nr, x._requires_grad = result.grad_fn, result._output_nr, True
        changed = x
    else:
        with grad_mode.set_grad_enabled(recording):
            n = base.numel()
            pos = bind(P["reshape"], _element_positions(x), shape=(x.numel(),))
            flat = bind(P["reshape"], base, shape=(n,))
            val = bind(P["reshape"], result, shape=(x.numel(),))
            new_base = bind(P["reshape"], bind(P["scatter"], flat, pos, val, axis=0),
                            shape=tuple(base.shape))
            new_view = _replay(new_base, x._view_chain)
        tracer.rebind(base, new_base)
        tracer.rebind(x, new_view)
        if recording and new_base._requires_grad:
            base.grad_fn, base._output_nr, base._requires_grad = new_base.grad_fn, 0, True
            x.grad_fn, x._output_nr, x._requires_grad = new_view.grad_fn, 0, True
        changed = base
    x._version[0] += 1
    for r in getattr(changed, "_views", None) or ():   # sibling views see the new value
        v = r()
        if v is not None and v is not x:
            with grad_mode.set_grad_enabled(recording):
                nv = _replay(changed, v._view_chain)
            tracer.rebind(v, nv)
            if recording and nv._requires_grad:
                v.grad_fn, v._output_nr, v._requires_grad = nv.grad_fn, 0, True
    return x
