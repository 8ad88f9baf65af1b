"""Module builder: kernels (and extern calls) -> one LLVM module -> JIT, object or artifact.

``build_ir`` renders kernel-IR kernels and matmul externs into one module with the runtime
slots (abi.py) defined once. ``compile_jit`` runs it in-process through MCJIT;
``compile_artifact`` emits a PIC object, links it with the system ``cc -shared`` when
present, and packs it into a runtime ``Artifact`` that ember.runtime loads without
llvmlite (when no ``cc`` is found the artifact holds the object and loading needs llvmlite).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import llvmlite.ir as ir

from ...._version import __version__ as EMBER_VERSION
from ....runtime import abi, artifact as _art, native as _native
from ... import kernel_ir as K
from . import extern as _extern
from . import target as _target
from .render import define_slots, render_kernel


def kernel_signature(k) -> dict:
    if isinstance(k, (_extern.MatmulCall, K.Entry)):
        return k.signature()
    return {"name": k.name, "kind": "kernel",
            "params": [{"name": p.name, "dtype": p.dtype, "shape": list(p.shape),
                        "role": p.role} for p in k.params]}


def build_ir(kernels, options: _target.CodegenOptions | None = None, name="ember") -> str:
    options = options or _target.CodegenOptions()
    seen = set()
    mod = ir.Module(name=name)
    define_slots(mod)
    callees = {}
    for k in kernels:
        if k.name in seen:
            raise K.KernelIRError(f"two kernels named {k.name!r} in one module")
        seen.add(k.name)
        if isinstance(k, K.Entry):
            continue
        callees[k.name] = k
        if isinstance(k, _extern.MatmulCall):
            _extern.render_matmul(mod, k, options)
        else:
            render_kernel(mod, k, options)
    for k in kernels:  # entries last: they call the kernels above
        if isinstance(k, K.Entry):
            _extern.render_entry(mod, K.verify_entry(k, callees))
    return str(mod)


class JitProgram:
    """Kernels compiled in-process (MCJIT). ``program[name](*arrays)`` runs a kernel."""

    def __init__(self, kernels, options=None, num_threads=None):
        self.options = options or _target.CodegenOptions()
        self.kernels = list(kernels)
        t0 = time.perf_counter()
        self.ir = build_ir(self.kernels, self.options)
        self.jit = _target.JitModule(self.ir, self.options)
        self.compile_seconds = time.perf_counter() - t0
        self.lib = _native.SymbolSource(self.jit.function_address, self.jit.global_address,
                                        keepalive=self.jit)
        _native.bind_slots(self.lib, num_threads=num_threads,
                           needs_blas=any(isinstance(k, K.Matmul) for k in self.kernels))
        # each callable keeps the engine alive: freeing it unmaps the code
        self.callables = {k.name: _native.KernelCallable(self.lib.function(k.name),
                                                          kernel_signature(k), keepalive=self)
                          for k in self.kernels}

    def __getitem__(self, name):
        return self.callables[name]

    def set_num_threads(self, n):
        _native.set_slot_int(self.lib, abi.NUM_THREADS, n)


def compile_artifact(kernels, options=None, *, key_info=None) -> "_art.Artifact":
    """Compile kernels to a self-describing runtime Artifact (shared library if ``cc`` is
    available, else a relocatable object)."""
    options = options or _target.CodegenOptions()
    kernels = list(kernels)
    src = build_ir(kernels, options)
    obj = _target.emit_object(src, options)
    cc = shutil.which(os.environ.get("CC", "cc"))
    code, kind = obj, "elf-object"
    if cc:
        with tempfile.TemporaryDirectory(prefix="ember-link-") as d:
            o, so = os.path.join(d, "k.o"), os.path.join(d, "k.so")
            with open(o, "wb") as f:
                f.write(obj)
            # float64 kernels call libm by name (vecmath.LIBM_NAMES)
            r = subprocess.run([cc, "-shared", "-o", so, o, "-lm"], capture_output=True,
                               text=True)
            if r.returncode == 0:
                with open(so, "rb") as f:
                    code, kind = f.read(), "elf-shared"
    header = {
        "ember_version": EMBER_VERSION,
        "backend": "llvm-cpu",
        "target": _target.host_target(options),
        "options": options.as_dict(),
        "code_kind": kind,
        "abi": {"kernel": "void name(void **args)",
                "entry": "int32 name(void **table): 0, or the code of a failed index check",
                "slots": list(abi.POINTER_SLOTS) + list(abi.INT_SLOTS)},
        "kernels": [kernel_signature(k) for k in kernels],
        "key_info": key_info or {},
    }
    return _art.Artifact(header, code)


def _build_fallback_gemm():
    from .extern import FALLBACK_DGEMM, FALLBACK_SGEMM, fallback_gemm_module
    jit = _target.JitModule(fallback_gemm_module(), _target.CodegenOptions())
    return jit.function_address(FALLBACK_SGEMM), jit.function_address(FALLBACK_DGEMM), jit


_native.register_fallback_gemm(_build_fallback_gemm)

__all__ = ["build_ir", "JitProgram", "compile_artifact"]
