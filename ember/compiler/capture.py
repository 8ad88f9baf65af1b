"""Graph capture: run the user's Python with tracer tensors through the *same* dispatch and
``ops.bind`` the eager path uses, recording an IR graph.

* Arguments become graph inputs ``arg0, arg1, ...`` (proxies stand in for the caller's
  tensors, which are never touched while tracing).
* Every other concrete tensor that reaches dispatch (parameters, buffers, optimizer
  state, ``.grad``, the generator state, closure and global tensors) is *lifted* to an
  input ``lifted<k>``, keyed by object identity -- never baked in as a constant.
* In-place updates are functional while tracing: the tensor's value is rebound to a new
  node. At the end, every argument or lifted tensor whose value changed becomes an
  output that the runtime writes back into that tensor's existing storage (the calling
  convention's ``updates``); ``.grad`` slots that changed become outputs assigned to
  ``.grad``. Then every touched tensor is restored to its pre-trace state.
* Tensors created by the trace that outlive it (stored in a list or attribute) are
  poisoned so that using them raises a clear error instead of a wrong value.
"""
from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass, field


from ..frontend.autograd import grad_mode
from ..frontend.device import CPU
from ..frontend.dispatch import record
from ..frontend.tensor import Tensor
from ..ir import GraphBuilder
from ..ir.builder import user_location
from ..ops import Interpreter, interpreter
from . import pytree
from .errors import TraceError
from .trace_value import EscapedValue, TraceValue


@dataclass
class Slot:
    """A tensor the program reads or writes that the caller does not pass positionally."""
    tensor: Tensor
    name: str
    node: object
    data: object                       # the array it held when traced (storage guard)
    saved: tuple                       # autograd/version state to restore after tracing


@dataclass
class Effect:
    kind: str                          # "update" (write into storage), "grad_set", "grad_none"
    target: object                     # ("arg", i) or ("slot", k)
    output: str | None = None


@dataclass
class Program:
    graph: object
    n_args: int
    arg_specs: list                    # (shape, dtype, requires_grad) per argument tensor
    slots: list                        # Slot per lifted tensor, in input order
    out_tree: object                   # treedef of the user's return value
    user_outputs: list                 # output names of the returned tensors
    effects: list
    modules: list = field(default_factory=list)   # (module, training flag) seen while tracing
    outputs_require_grad: list = field(default_factory=list)


class Tracer(Interpreter):
    def __init__(self, name):
        self.builder = GraphBuilder(name)
        self.slots: dict[int, Slot] = {}
        self.order: list[Slot] = []
        self.created: list = []
        self.modules: dict[int, object] = {}

    # ------------------------------------------------------------ values
    def node_of(self, t):
        d = t._data
        if type(d) is TraceValue:
            if d.tracer is not self:
                raise TraceError(f"a tensor from another ember.compile trace was used at "
                                 f"{user_location(3)}; tensors created inside a compiled "
                                 f"function must be returned from it, not stored")
            return d.node
        if isinstance(d, EscapedValue):
            getattr(d, "shape")  # raises with the creation site
        if t._base is not None:   # a concrete view: read it through its (lifted) base
            v = self.node_of(t._base)
            for name, attrs in t._view_chain:
                v = self.builder.add(name, (v,), attrs)
            return v
        slot = self.slots.get(id(t))
        if slot is None:
            name = f"lifted{len(self.order)}"
            node = self.builder.input(name, tuple(d.shape), t.dtype, str(t.device))
            slot = Slot(t, name, node, d, _save_state(t))
            self.slots[id(t)] = slot
            self.order.append(slot)
        return slot.node

    def wrap(self, node, device, requires_grad=False):
        t = Tensor._wrap(TraceValue(self, node), node.dtype, device)
        t._requires_grad = requires_grad
        self.created.append(weakref.ref(t))
        return t

    def process(self, prim, args, attrs):
        nodes = [self.node_of(a) for a in args]
        node = self.builder.add(prim, nodes, attrs)
        dev = args[0].device if args else CPU
        t = self.wrap(node, dev)
        if grad_mode.STATE.enabled and prim.vjp is not None:
            for a in args:
                if a._requires_grad:
                    record(prim, attrs, args, t)
                    break
        return t

    # ------------------------------------------------------------ in-place
    def rebind(self, t, value):
        """Give tensor ``t`` the new (traced) value ``value``: a functional update."""
        if type(t._data) is not TraceValue:
            self.node_of(t)   # make sure a concrete tensor is lifted before it changes
        t._data = value._data



def _save_state(t):
    return (t._data, t.grad_fn, t._requires_grad, t._version, t._version[0], t.grad,
            t._output_nr)


def _restore_state(t, saved):
    (t._data, t.grad_fn, t._requires_grad, t._version, ver, t.grad, t._output_nr) = saved
    t._version[0] = ver


_ACTIVE: list[Tracer] = []


def active_tracer():
    return _ACTIVE[-1] if _ACTIVE else None


def trace(fn, args, kwargs, name):
    """Trace ``fn(*args, **kwargs)``; returns a Program (graph + calling convention)."""
    tracer = Tracer(name)
    leaves, in_tree = pytree.flatten((args, kwargs))
    proxies = [tracer.wrap(tracer.builder.input(f"arg{i}", tuple(a.shape), a.dtype,
                                                str(a.device)), a.device, a._requires_grad)
               for i, a in enumerate(leaves)]
    arg_nodes = [p._data.node for p in proxies]
    p_args, p_kwargs = pytree.unflatten(in_tree, proxies)
    _ACTIVE.append(tracer)
    restore_call = _hook_module_calls(tracer)
    traced = False
    try:
        with interpreter(tracer):
            result = fn(*p_args, **p_kwargs)
            out_leaves, out_tree = pytree.flatten(result)
            out_nodes = [tracer.node_of(t) for t in out_leaves]
            out_rg = [bool(t._requires_grad) for t in out_leaves]
            b = tracer.builder
            user_outputs = []
            for k, n in enumerate(out_nodes):
                b.output(f"out{k}", n)
                user_outputs.append(f"out{k}")
            effects = _collect_effects(tracer, proxies, arg_nodes)
            traced = True
    finally:
        restore_call()
        _ACTIVE.pop()
        for slot in tracer.order:
            _restore_state(slot.tensor, slot.saved)
        if not traced:
            _poison(tracer)
    # Our own references dropped, a tensor the trace created that is still alive was
    # stored by the user's code (an attribute, a list, optimizer state created lazily):
    # the compiled program would never update it, so refuse instead of running stale.
    del result, out_leaves, p_args, p_kwargs, proxies
    if _alive(tracer):
        gc.collect()    # only garbage cycles may hold them: collect (rare) and look again
    escaped = _poison(tracer)
    if escaped:
        raise TraceError(
            "ember.compile: the traced function stored tensors it created where they outlive "
            "the call (created at " + ", ".join(sorted(set(escaped))[:3]) + "). A compiled "
            "program cannot keep such state up to date. Return them from the function, or "
            "create the state before tracing (ember.compile runs the first call eagerly for "
            "this reason: lazily created optimizer state then already exists).")
    arg_specs = [(tuple(a.shape), a.dtype, bool(a._requires_grad)) for a in leaves]
    modules = [(m, m.training) for m in tracer.modules.values()]
    return Program(tracer.builder.build(), len(leaves), arg_specs, tracer.order, out_tree,
                   user_outputs, effects, modules, out_rg)


def _collect_effects(tracer, proxies, arg_nodes):
    b = tracer.builder
    effects = []
    for i, (p, n0) in enumerate(zip(proxies, arg_nodes)):
        if p._data.node is not n0:
            b.output(f"update_arg{i}", p._data.node)
            b.update(f"update_arg{i}", f"arg{i}")
            effects.append(Effect("update", ("arg", i), f"update_arg{i}"))
    k = 0
    while k < len(tracer.order):   # grads below may lift more tensors
        slot = tracer.order[k]
        t = slot.tensor
        if type(t._data) is TraceValue and t._data.node is not slot.node:
            b.output(f"update_{slot.name}", t._data.node)
            b.update(f"update_{slot.name}", slot.name)
            effects.append(Effect("update", ("slot", k), f"update_{slot.name}"))
        before = slot.saved[5]
        after = t.grad
        if after is not before:
            if after is None:
                effects.append(Effect("grad_none", ("slot", k)))
            else:
                node = tracer.node_of(after)
                b.output(f"grad_{slot.name}", node)
                effects.append(Effect("grad_set", ("slot", k), f"grad_{slot.name}"))
        k += 1
    return effects


def _alive(tracer):
    return any(r() is not None and type(r()._data) is TraceValue for r in tracer.created)


def _poison(tracer):
    """Make every still-alive tensor of the trace raise on use; returns their creation
    sites."""
    sites = []
    for ref in tracer.created:
        t = ref()
        if t is not None and type(t._data) is TraceValue:
            loc = t._data.node.loc or "an unknown line"
            sites.append(loc)
            t._data = EscapedValue(loc)
            t.grad_fn = None
    return sites


def _hook_module_calls(tracer):
    """Record every nn.Module called while tracing (its ``training`` flag is guarded)."""
    try:
        from ..nn.modules.module import Module
    except ImportError:
        return lambda: None
    original = Module.__call__

    def call(self, *args, **kwargs):
        tracer.modules.setdefault(id(self), self)
        return original(self, *args, **kwargs)
    Module.__call__ = call

    def restore():
        Module.__call__ = original
    return restore
