"""Target description, codegen options and the llvmlite compile steps.

Recipes follow ../shared/notes/cpu-codegen-feasibility.md: llvmlite 0.50's new pass
builder at O3, one TargetMachine per execution engine (MCJIT takes ownership of it and frees
it with the engine), the host CPU name and features, PIC objects for shared libraries.
"""
from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass, asdict

import llvmlite
import llvmlite.binding as llvm

_INIT_LOCK = threading.Lock()
_INITIALISED = False


def init():
    global _INITIALISED
    with _INIT_LOCK:
        if not _INITIALISED:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            llvm.initialize_native_asmparser()
            _INITIALISED = True


@dataclass(frozen=True)
class CodegenOptions:
    """Everything that changes generated code besides the kernels themselves; part of the
    cache key. ``cpu``/``features`` None mean the host's. ``parallel_min_elements`` is the
    iteration-space size from which a kernel gets a parallel entry. Measured on the 2-core
    machines with the elementwise chain (bench/llvm_kernels.py --threshold): a GOMP_parallel
    region costs a few microseconds once libgomp's threads exist, so 2 threads already win
    at 16K elements (6.4 vs 11 us) and 64K (24 vs 45 us); 32K is the default, below it a
    kernel never pays the hand-off."""
    opt_level: int = 3
    cpu: str | None = None
    features: str | None = None
    parallel_min_elements: int = 1 << 15
    sum_block: int = 1024

    def as_dict(self):
        return asdict(self)


def host_target(options: CodegenOptions | None = None) -> dict:
    """The target tuple: what a compiled object depends on besides its source."""
    init()
    options = options or CodegenOptions()
    return {"triple": llvm.get_process_triple(),
            "cpu": options.cpu or llvm.get_host_cpu_name(),
            "features": options.features if options.features is not None
            else llvm.get_host_cpu_features().flatten(),
            "llvmlite": llvmlite.__version__,
            "llvm": ".".join(map(str, llvm.llvm_version_info))}


def make_target_machine(options: CodegenOptions, reloc="default", codemodel="jitdefault"):
    """A NEW TargetMachine: never share one between engines (pitfall 1 in the notes)."""
    init()
    t = host_target(options)
    return llvm.Target.from_triple(t["triple"]).create_target_machine(
        cpu=t["cpu"], features=t["features"], opt=options.opt_level, reloc=reloc,
        codemodel=codemodel)


def optimise(ir_text: str, tm, options: CodegenOptions):
    """Parse, verify and run the O3 pipeline; returns the llvmlite ModuleRef."""
    init()
    mod = llvm.parse_assembly(ir_text)
    mod.triple = llvm.get_process_triple()
    mod.data_layout = str(tm.target_data)
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=options.opt_level)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)
    return mod


def emit_object(ir_text: str, options: CodegenOptions) -> bytes:
    """PIC object code for linking into a shared library (or loading through MCJIT)."""
    tm = make_target_machine(options, reloc="pic", codemodel="default")
    mod = optimise(ir_text, tm, options)
    return tm.emit_object(mod)


def emit_assembly(ir_text: str, options: CodegenOptions) -> str:
    tm = make_target_machine(options)
    return tm.emit_assembly(optimise(ir_text, tm, options))


class JitModule:
    """An MCJIT engine holding one optimised module; keep it alive while any function
    pointer taken from it may run."""

    def __init__(self, ir_text: str, options: CodegenOptions):
        tm = make_target_machine(options)
        self.module = optimise(ir_text, tm, options)
        self.engine = llvm.create_mcjit_compiler(self.module, tm)
        self.engine.finalize_object()

    def function_address(self, name: str) -> int:
        addr = self.engine.get_function_address(name)
        if not addr:
            raise KeyError(f"JIT module has no function {name!r}")
        return addr

    def global_address(self, name: str) -> int:
        addr = self.engine.get_global_value_address(name)
        if not addr:
            raise KeyError(f"JIT module has no global {name!r}")
        return addr


def as_cfunc(addr: int, restype=None, *argtypes):
    """A ctypes CFUNCTYPE wrapper (CFUNCTYPE releases the GIL during the call)."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(addr)
