"""``ember.compile`` and ``ember.explain``.

A compiled callable keeps a cache of traced programs keyed by the call signature (the
structure of the arguments, each tensor's shape, dtype, strides, device and
requires_grad, the grad mode). An entry also checks its lifted tensors (identity of the
storage, so ``p.data = new`` retraces) and the ``training`` flag of every module the trace
called. A miss traces again; retraces are counted and, at EMBER_DEBUG >= 1, logged with
the reason. Python values read from closures and globals are specialised and NOT guarded
(jax.jit semantics).
"""
from __future__ import annotations

import functools
import time
import warnings

from ..frontend.autograd import grad_mode
from ..frontend.tensor import Tensor as _Tensor
from ..passes.log import emit
from . import pytree
from .capture import trace
from .executable import Executable, strided_layouts

RECOMPILE_LIMIT = 8
_grad_state = grad_mode.STATE
BACKENDS = ("interp", "llvm")


def _signature(leaves, structure):
    """The cache key of a call: argument structure, per-tensor layout, grad mode."""
    return (structure,
            tuple([(a._data.shape, a._data.strides, a.dtype, a.device, a._requires_grad)
                   for a in leaves]),
            _grad_state.enabled)


class _Entry:
    __slots__ = ("program", "executable")

    def __init__(self, program, executable):
        self.program = program
        self.executable = executable

    def why_invalid(self):
        for s in self.program.slots:
            t = s.tensor
            if t._data is not s.data:
                return (f"lifted tensor {s.name} (shape {tuple(s.data.shape)}) was replaced "
                        f"(e.g. `p.data = ...` or a new .grad)")
        for m, flag in self.program.modules:
            if m.training != flag:
                return f"{type(m).__name__}.training changed to {m.training}"
        return None


class CompiledFunction:
    """What ``ember.compile(fn)`` returns: call it like ``fn``."""

    def __init__(self, fn, backend, dynamic, fullgraph, name=None):
        self.fn = fn
        self.backend = backend
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self._cache = {}
        self.traces = 0
        self.retraces = 0
        self.last_retrace_reason = None
        self.timings = {}
        self.eager_calls = 0
        functools.update_wrapper(self, fn, updated=())

    # ------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if not self.eager_calls:
            # The first call runs eagerly: state that code creates lazily on first use
            # (optimizer buffers, running statistics) then exists as concrete tensors
            # before tracing, so the trace lifts it instead of specialising on creation.
            self.eager_calls = 1
            return self.fn(*args, **kwargs)
        if not kwargs and all(type(a) is _Tensor for a in args):
            leaves = args                      # the common case: positional tensors only
            sig = _signature(args, ("flat", len(args)))
        else:
            leaves, in_tree = pytree.flatten((args, kwargs))
            sig = _signature(leaves, pytree.structure_key(in_tree))
        entry = self._cache.get(sig)
        if entry is not None:
            reason = entry.why_invalid()
            if reason is None:
                return entry.executable(leaves)
            self._note_retrace(reason)
        elif self._cache:
            self._note_retrace(self._nearest_miss(sig))
        entry = self._compile(args, kwargs)
        self._cache[sig] = entry
        return entry.executable(leaves)

    def _compile(self, args, kwargs):
        t0 = time.perf_counter()
        program = trace(self.fn, args, kwargs, self.name)
        t1 = time.perf_counter()
        leaves, _ = pytree.flatten((args, kwargs))
        exe = Executable(program, self.backend, strided_layouts(leaves))
        t2 = time.perf_counter()
        self.traces += 1
        self.timings = {"trace": t1 - t0, **exe.timings, "total": t2 - t0}
        emit(None, 1, f"compile {self.name}: " + ", ".join(
            f"{k} {v * 1e3:.1f} ms" for k, v in self.timings.items()))
        if self.traces > RECOMPILE_LIMIT:
            warnings.warn(f"ember.compile: {self.name} was traced {self.traces} times (limit "
                          f"{RECOMPILE_LIMIT}); last reason: {self.last_retrace_reason}. "
                          f"Varying shapes or module flags cause retraces; pad or bucket "
                          f"inputs to a few shapes.", stacklevel=3)
        return _Entry(program, exe)

    def _note_retrace(self, reason):
        self.retraces += 1
        self.last_retrace_reason = reason
        emit(None, 1, f"retrace {self.name}: {reason}")

    def _nearest_miss(self, sig):
        """Say which part of the signature differs from the closest cached one."""
        best = None
        for old in self._cache:
            diffs = []
            if old[0] != sig[0]:
                diffs.append("argument structure or non-tensor arguments changed")
            if old[2] != sig[2]:
                diffs.append(f"grad mode changed to {sig[2]}")
            if len(old[1]) == len(sig[1]):
                for i, (a, b) in enumerate(zip(old[1], sig[1])):
                    for label, x, y in (("shape", a[0], b[0]), ("strides", a[1], b[1]),
                                        ("dtype", a[2], b[2]), ("device", a[3], b[3]),
                                        ("requires_grad", a[4], b[4])):
                        if x != y:
                            diffs.append(f"tensor argument {i}: {label} {x} -> {y}")
            if best is None or len(diffs) < len(best):
                best = diffs
        return "; ".join(best or ["new signature"])

    # ------------------------------------------------------------ inspection
    def explain(self, *args, **kwargs):
        return explain(self.fn, *args, **kwargs)

    def stats(self):
        return {"traces": self.traces, "retraces": self.retraces, "timings": dict(self.timings)}


class CompiledModule:
    """``ember.compile(module)``: shares the module's parameters (same objects, same
    state_dict keys), follows train()/eval(), and calls the compiled forward."""

    def __init__(self, module, backend, dynamic, fullgraph):
        object.__setattr__(self, "_orig_mod", module)
        object.__setattr__(self, "_compiled_forward",
                           CompiledFunction(module.__call__, backend, dynamic, fullgraph,
                                            name=type(module).__name__))

    def __call__(self, *args, **kwargs):
        return self._compiled_forward(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        setattr(self._orig_mod, name, value)

    def __repr__(self):
        return f"CompiledModule({self._orig_mod!r})"

    def train(self, mode=True):
        self._orig_mod.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def state_dict(self, *a, **k):
        return self._orig_mod.state_dict(*a, **k)

    def load_state_dict(self, *a, **k):
        return self._orig_mod.load_state_dict(*a, **k)


def compile(fn=None, *, backend=None, dynamic=False, fullgraph=True, mode=None, options=None):
    """Trace ``fn`` (a function or an ``nn.Module``) into a graph and run it compiled.

    ``backend``: "llvm" (native fused kernels; the default on the CPU, falling back to
    "interp" with a one-time warning when llvmlite is unusable) or "interp" (the reference
    interpreter). ``dynamic=True``, ``fullgraph=False`` (graph breaks), ``mode`` and ``options``
    are not implemented yet and raise NotImplementedError."""
    if fn is None:
        return lambda f: compile(f, backend=backend, dynamic=dynamic, fullgraph=fullgraph,
                                 mode=mode, options=options)
    if backend is None:
        from .backends import default_backend
        backend = default_backend()
    if backend not in BACKENDS:
        raise NotImplementedError(f"ember.compile(backend={backend!r}) is not available yet; "
                                  f"choose from {BACKENDS}")
    if dynamic:
        raise NotImplementedError("ember.compile(dynamic=True) is not implemented yet: each "
                                  "new input shape traces once (see docs/COMPILE.md)")
    if not fullgraph:
        raise NotImplementedError("ember.compile(fullgraph=False) (graph breaks) is not "
                                  "implemented yet; untraceable code raises a clear error")
    if mode is not None or options is not None:
        raise NotImplementedError("ember.compile(mode=..., options=...) are not implemented yet")
    try:
        from ..nn.modules.module import Module
    except ImportError:  # pragma: no cover - nn is part of the package
        Module = ()
    if isinstance(fn, Module):
        return CompiledModule(fn, backend, dynamic, fullgraph)
    if not callable(fn):
        raise TypeError(f"ember.compile expects a function or an nn.Module, got "
                        f"{type(fn).__name__}")
    return CompiledFunction(fn, backend, dynamic, fullgraph)


class Explanation:
    """What ``ember.explain`` returns: the captured graph, its fusion groups and the
    number of kernels a backend would launch."""

    def __init__(self, program, optimized):
        self.graph = program.graph
        self.optimized = optimized
        self.groups = optimized.groups
        self.num_kernels = optimized.num_kernels
        self.lifted = [(s.name, tuple(s.data.shape), s.tensor.dtype.name) for s in program.slots]

    def __str__(self):
        lines = [f"captured graph ({len(self.graph.nodes)} nodes):", str(self.graph),
                 f"fusion groups ({len(self.groups)}): " +
                 ", ".join(g.name for g in self.groups), f"kernels: {self.num_kernels}"]
        if self.lifted:
            lines.append("lifted tensors: " + ", ".join(f"{n} {s} {d}" for n, s, d in self.lifted))
        return "\n".join(lines)

    __repr__ = __str__


def explain(fn, *args, **kwargs):
    """Trace ``fn(*args, **kwargs)`` without running it and describe the result."""
    from ..passes import optimize
    if isinstance(fn, (CompiledFunction,)):
        fn = fn.fn
    if isinstance(fn, CompiledModule):
        fn = fn._orig_mod
    program = trace(fn, args, kwargs, getattr(fn, "__name__", type(fn).__name__))
    return Explanation(program, optimize(program.graph))

