"""Backend registry for ``ember.compile``.

A backend turns one optimised (fused) IR graph into a *runner*: ``runner(arrays) -> list of
output arrays in graph.outputs order``. ``prepare(graph, key, layouts)`` is called once per
graph (forward, and backward for a compiled forward); ``key`` identifies the captured
program (its structural hash before passes plus the graph's role), which the llvm backend
uses as its on-disk cache key; ``layouts`` names the inputs the caller passes strided. An
update output the runner wrote straight into its input's storage is returned as that very
array (the executable then skips its copy).

* ``interp``: the reference interpreter (eager kernels node by node);
* ``llvm``: fused kernels compiled to native code (the CPU default when llvmlite works).
"""
from __future__ import annotations

import warnings

from .interp import InterpBackend

_REGISTRY = {"interp": InterpBackend}
_LLVM_STATE = []


def _llvm_usable():
    if not _LLVM_STATE:
        try:
            from .llvm import LLVMBackend, probe
            probe()
            _REGISTRY["llvm"] = LLVMBackend
            _LLVM_STATE.append(None)
        except Exception as e:  # noqa: BLE001 - any failure means: use the interpreter
            _LLVM_STATE.append(f"{type(e).__name__}: {e}")
    return _LLVM_STATE[0] is None


NAMES = ("interp", "llvm")
_WARNED = []


def default_backend():
    if _llvm_usable():
        return "llvm"
    if not _WARNED:
        _WARNED.append(True)
        warnings.warn(f"ember.compile: the llvm backend is unusable ({_LLVM_STATE[0]}); "
                      f"falling back to the reference interpreter backend 'interp'",
                      RuntimeWarning, stacklevel=3)
    return "interp"


def get(name):
    """The backend object for ``name`` (instances are shared: they hold no per-graph state)."""
    if name == "llvm" and not _llvm_usable():
        raise RuntimeError(f"ember.compile(backend='llvm'): llvmlite is unusable here "
                           f"({_LLVM_STATE[0]})")
    cls = _REGISTRY.get(name)
    if cls is None:
        raise NotImplementedError(f"ember.compile(backend={name!r}) is not available; "
                                  f"choose from {NAMES}")
    return cls()
