"""Extern calls rendered into the module: matmul through the BLAS slot.

``void <name>(void **args)`` loops over the batch dims (stride-0 batch broadcasts cost
nothing) and calls the cblas gemm slot with transpose flags taken from the operands'
strides. When the runtime finds no BLAS it fills the slot with a generated GEMM instead
(``fallback_gemm_module``, compiled once per process), cache-blocked over (p, j), with
i-p-j loops (vectorised over j) or, when B's columns are contiguous, i-j-p dot products
(vectorised over p) inside each block; the runtime warns once in that case. 512^3 float32
on one thread: 32-42 GFLOP/s, against 229 for OpenBLAS (and 2 for the untiled loop
before). (Compiled into each module with the sizes as constants it ran at 61-65, but cost
~55 ms of every cold compile with a matmul.)
"""
from __future__ import annotations

import llvmlite.ir as ir

from ....runtime import abi
from ...kernel_ir import MatOperand, Matmul, verify_matmul  # noqa: F401  (re-export)
from .irutil import F32, F64, I32, I64, PTR, VOID, FMath
from .render import _Loop, _callee_for, _i64, _slot

MatmulCall = Matmul


def render_matmul(module, mm: Matmul, options):
    verify_matmul(mm)
    if not hasattr(module, "_ember_gemms"):
        module._ember_gemms = set()
    module._ember_gemms.add(mm.name)
    fty = F32 if mm.dtype == "float32" else F64
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR]), mm.name)
    fn.attributes.add("nounwind")
    fn.attributes.add("noinline")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    ptrs = [b.load(b.gep(fn.args[0], [_i64(i)], inbounds=True, source_etype=PTR), typ=PTR)
            for i in range(len(mm.params))]
    if mm.m == 0 or mm.n == 0:
        b.ret_void()
        return fn
    # the runtime fills the slot with BLAS, or with the generated fallback GEMM
    # (fallback_gemm_module) when no BLAS is found: never null in a loaded program
    slot = b.load(_slot(module, abi.SGEMM if fty == F32 else abi.DGEMM, PTR), typ=PTR)
    gemm_ty = _cblas_type(fty)
    ta, lda = mm.blas_layout("a")
    tb, ldb = mm.blas_layout("b")
    ldc = mm.c.row_stride if mm.m > 1 else max(1, mm.n)

    def addr(op, bidx, etype):
        off = _i64(op.offset)
        for s, i in zip(op.batch_strides, bidx):
            if s:
                off = b.add(off, b.mul(i, _i64(s)))
        return b.gep(ptrs[op.param], [off], inbounds=True, source_etype=etype), off

    def body(bidx):
        pa, _ = addr(mm.a, bidx, fty)
        pb, _ = addr(mm.b, bidx, fty)
        pc, _ = addr(mm.c, bidx, fty)
        flag = lambda t: ir.Constant(I32, abi.CBLAS_TRANS if t else abi.CBLAS_NO_TRANS)  # noqa
        b.call(_callee_for(slot, gemm_ty),
               [ir.Constant(I32, abi.CBLAS_ROW_MAJOR), flag(ta), flag(tb),
                _i64(mm.m), _i64(mm.n), _i64(mm.k), ir.Constant(fty, mm.alpha), pa,
                _i64(lda), pb, _i64(ldb), ir.Constant(fty, mm.beta), pc, _i64(ldc)])

    def batch_loops(d, bidx):
        if d == len(mm.batch):
            body(bidx)
            return
        lp = _Loop(b, _i64(0), _i64(mm.batch[d]), name=f"b{d}")
        batch_loops(d + 1, bidx + [lp.idx])
        lp.close()

    batch_loops(0, [])
    b.ret_void()
    return fn


_TILE_P, _TILE_J = 256, 256     # a 256 KB float32 block of B: L2-resident on these machines
FALLBACK_SGEMM, FALLBACK_DGEMM = "ember_fallback_sgemm", "ember_fallback_dgemm"


def _cblas_type(fty):
    return ir.FunctionType(VOID, [I32, I32, I32, I64, I64, I64, fty, PTR, I64, PTR, I64, fty,
                                  PTR, I64])


def fallback_gemm_module():
    """LLVM IR of ``ember_fallback_sgemm``/``dgemm``: cblas-compatible (row major, ILP64)
    entry points over the generated tiled GEMM. Compiled once per process when no BLAS is
    found (runtime.native.fallback_gemm); programs reach it through their gemm slots, so
    it is not compiled into every module that has a matmul (~55 ms of the MLP step's cold
    compile)."""
    module = ir.Module(name="ember_fallback_gemm")
    for fty, name in ((F32, FALLBACK_SGEMM), (F64, FALLBACK_DGEMM)):
        fn = ir.Function(module, _cblas_type(fty), name)
        fn.attributes.add("nounwind")
        (_, ta, tb, M, N, Kd, alpha, pa, lda, pb, ldb, beta, pc, ldc) = fn.args
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        one = _i64(1)

        def strides(t, ld):
            trans = b.icmp_signed("==", t, ir.Constant(I32, abi.CBLAS_TRANS))
            return b.select(trans, one, ld), b.select(trans, ld, one)
        rsa, csa = strides(ta, lda)
        rsb, csb = strides(tb, ldb)
        b.call(_loop_gemm_fn(module, fty), [M, N, Kd, alpha, pa, rsa, csa, pb, rsb, csb, beta,
                                            pc, ldc, one])
        b.ret_void()
    return str(module)


def _loop_gemm_fn(module, fty):
    name = f"ember.loop_gemm.{'f32' if fty == F32 else 'f64'}"
    if name in module.globals:
        return module.globals[name]
    fn = ir.Function(module, ir.FunctionType(VOID, [I64, I64, I64, fty, PTR, I64, I64, PTR,
                                                    I64, I64, fty, PTR, I64, I64]), name)
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    fn.attributes.add("noinline")
    (M, N, Kd, alpha, pa, rsa, csa, pb, rsb, csb, beta, pc, rsc, csc) = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    m = FMath(b, fty)

    def at(p, i, j, rs, cs):
        off = b.add(b.mul(i, rs), b.mul(j, cs))
        return b.gep(p, [off], inbounds=True, source_etype=fty)

    li = _Loop(b, _i64(0), M, name="gi")
    lj = _Loop(b, _i64(0), N, name="gj")
    pcij = at(pc, li.idx, lj.idx, rsc, csc)
    zero = b.fcmp_ordered("==", beta, m.k(0.0))
    old = b.load(pcij, typ=fty)
    init = b.select(zero, m.k(0.0), m.mul(beta, old))   # beta = 0 ignores C (nan, garbage)
    b.store(init, pcij)
    lj.close()
    li.close()

    def tile(n, size, name):
        """A loop over blocks of ``size``: (loop, block start, block end)."""
        lp = _Loop(b, _i64(0), b.udiv(b.add(n, _i64(size - 1)), _i64(size)), name=name)
        lo = b.mul(lp.idx, _i64(size))
        hi = b.add(lo, _i64(size))
        return lp, lo, b.select(b.icmp_signed("<", hi, n), hi, n)

    # cache blocking: a (_TILE_P x _TILE_J) block of B stays in L2 while every row of A
    # passes over it. B with unit column stride: i-p-j inside the block (C's row segment
    # stays in L1, the j loop vectorises); otherwise (x @ W.T: B's columns are contiguous)
    # i-j-p dot products over the block's p range (the p loop vectorises, reassociated)
    tp, p0, p1 = tile(Kd, _TILE_P, "tp")
    tj, j0, j1 = tile(N, _TILE_J, "tj")
    with b.if_else(b.icmp_signed("==", csb, _i64(1))) as (rows_of_b, cols_of_b):
        with rows_of_b:
            li = _Loop(b, _i64(0), M, name="gi2")
            lp = _Loop(b, p0, p1, name="gp")
            av = m.mul(alpha, b.load(at(pa, li.idx, lp.idx, rsa, csa), typ=fty))
            lj = _Loop(b, j0, j1, name="gj2")
            pcij = at(pc, li.idx, lj.idx, rsc, csc)
            bv = b.load(at(pb, lp.idx, lj.idx, rsb, csb), typ=fty)
            b.store(m.fma(av, bv, b.load(pcij, typ=fty)), pcij)
            lj.close()
            lp.close()
            li.close()
        with cols_of_b:
            li = _Loop(b, _i64(0), M, name="gi3")
            lj = _Loop(b, j0, j1, name="gj3")
            lp = _Loop(b, p0, p1, [m.k(0.0)], name="gp3")
            prod = m.mul(b.load(at(pa, li.idx, lp.idx, rsa, csa), typ=fty),
                         b.load(at(pb, lp.idx, lj.idx, rsb, csb), typ=fty))
            (dot,) = lp.close([b.fadd(lp.vals[0], prod, flags=("reassoc", "contract"))])
            pcij = at(pc, li.idx, lj.idx, rsc, csc)
            b.store(m.fma(alpha, dot, b.load(pcij, typ=fty)), pcij)
            lj.close()
            li.close()
    tj.close()
    tp.close()
    b.ret_void()
    return fn


def _is_gemm(module, name):
    return name in getattr(module, "_ember_gemms", ())


def render_entry(module, entry):
    """``int32 name(void **buffers)``: one stack array of pointers per call, filled from the
    buffer table, then the callee (kernels are noinline: inlining only costs compile time);
    after a call that writes index-check flags, any set flag returns its code at once."""
    fn = ir.Function(module, ir.FunctionType(I32, [PTR]), entry.name)
    fn.attributes.add("nounwind")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    table = fn.args[0]
    bufs = [b.load(b.gep(table, [_i64(i)], inbounds=True, source_etype=PTR), typ=PTR)
            for i in range(len(entry.buffers))]
    width = max((len(idx) for _, idx in entry.calls), default=1)
    argv = b.alloca(PTR, size=_i64(max(width, 1)))
    # An entry that calls BLAS runs its kernels on the calling thread: OpenBLAS's threads
    # spin after each gemm, and a libgomp region started then waits for a core they hold
    # (MLP step, batch 32, 2 threads: 650 us with parallel kernels, 160 us without; batch
    # 2048: 4.9 vs 4.4 ms). The gemms themselves stay multi-threaded in OpenBLAS.
    serial = entry.serial if entry.serial is not None else \
        any(_is_gemm(module, callee) for callee, _ in entry.calls)
    checks = {}
    for after, j, code in entry.checks:
        checks.setdefault(after, []).append((j, code))
    for n, (callee, idx) in enumerate(entry.calls):
        for slot, j in enumerate(idx):
            b.store(bufs[j], b.gep(argv, [_i64(slot)], inbounds=True, source_etype=PTR))
        fn_ = module.globals.get(callee + "__seq") if serial else None
        b.call(fn_ or module.globals[callee], [argv])
        for j, code in checks.get(n + 1, ()):
            _render_check(b, bufs[j], _numel(entry.buffers[j].shape), code)
    b.ret(ir.Constant(I32, 0))
    return fn


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _render_check(b, ptr, n, code):
    """Return ``code`` when any of the ``n`` bytes at ``ptr`` (bool flags) is set."""
    i8 = ir.IntType(8)
    lp = _Loop(b, _i64(0), _i64(n), [ir.Constant(i8, 0)], name="chk")
    v = b.load(b.gep(ptr, [lp.idx], inbounds=True, source_etype=i8), typ=i8)
    (acc,) = lp.close([b.or_(lp.vals[0], v)])
    with b.if_then(b.icmp_unsigned("!=", acc, ir.Constant(i8, 0)), likely=False):
        b.ret(ir.Constant(I32, code))
