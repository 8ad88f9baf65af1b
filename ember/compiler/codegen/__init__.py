"""Code generators. Each backend renders the backend-neutral kernel IR
(ember/compiler/kernel_ir.py); ``llvm`` is the CPU backend (docs/CODEGEN.md)."""
