"""The LLVM CPU backend: kernel IR -> LLVM IR (llvmlite) -> native code.

target.py    target machine, codegen options, the llvmlite compile steps
irutil.py    llvmlite helpers (types, intrinsics, float arithmetic with chosen flags)
vecmath.py   vectorisable math functions in IR with their accuracy contract
ops.py       the per-primitive renderer table
render.py    kernels -> loop nests, reductions, the parallel entry
walks.py     which walk a kernel gets (column tiles, narrow rows) and loop metadata
rowreuse.py  row kernels that store a costly value once and reload it
extern.py    matmul externs (BLAS slot, generated fallback GEMM)
module.py    module builder, JIT programs, artifacts
"""
from .target import CodegenOptions, host_target  # noqa: F401
from .module import JitProgram, build_ir, compile_artifact  # noqa: F401
