"""Render one kernel-IR ``Kernel`` into LLVM IR functions.

For kernel ``k`` three functions are emitted:

* ``k__body(ptr noalias p0, ..., i64 lo, i64 hi)``: the loop nest for outer-axis-0 indices
  in [lo, hi). Loops are plain counted loops with the last axis innermost, so the loop
  vectoriser sees unit-stride loads/stores (stride 0 is a broadcast, other strides gathers);
* ``k(ptr args)``: the public entry (runtime ABI): runs the body on the calling thread, or,
  when the iteration space is large enough and the runtime set a thread count > 1, through
  the GOMP_parallel slot with a static partition of axis 0 (flat elementwise loops in chunks
  of 256 elements, so each element takes the same code path whatever the thread count:
  bitwise reproducible; reductions are never split);
* ``k__omp(ptr data)``: the per-thread function handed to GOMP_parallel.

Reductions follow the kernel IR's documented order: the innermost inner axis in blocks of
``sum_block`` (fadd with ``reassoc`` inside a block only, so LLVM may use SIMD lanes),
block results combined with Kahan summation. Column reductions (inputs contiguous along the
kept axis, strided along the reduced one) are walked column-tile-wise instead, with per-column
Kahan sums (``_column_mode``).
"""
from __future__ import annotations

import math

import llvmlite.ir as ir
import numpy as np

from ....runtime import abi
from ... import kernel_ir as K
from . import ops
from .irutil import COMPUTE, F32, I1, I32, I64, PTR, STORAGE, VOID, intrinsic
from .rowreuse import _reloads, _spills  # noqa: F401  (tests reach them here)
from .walks import (_SHORT_TRIP, _column_mode, _loop_metadata, _narrow_mode,  # noqa: F401
                    _strided_along, _tile_passes)

_PAR_ALIGN = 256
_COL_TILE = 256


def _i64(v):
    return ir.Constant(I64, int(v))


def _const_value(ty, dtype, v):
    if dtype == "bool":
        return ir.Constant(I1, int(bool(v)))
    if ops.kind_of(dtype) == "f":
        if dtype == "float16":
            v = float(np.float16(v))
        elif dtype == "bfloat16":
            bits = int(np.array(v, np.float32).view(np.uint32))
            if math.isnan(v):
                v = math.nan
            else:
                bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
                v = float(np.array(bits & 0xFFFFFFFF, np.uint32).view(np.float32))
        return ir.Constant(ty, float(v))
    width = ty.width
    iv = int(v) & ((1 << width) - 1)
    if iv >= 1 << (width - 1):
        iv -= 1 << width
    return ir.Constant(ty, iv)


def _identity(op, dtype, ty):
    kind = ops.kind_of(dtype)
    if op == "sum":
        return _const_value(ty, dtype, 0)
    if op == "prod":
        return _const_value(ty, dtype, 1)
    if kind == "f":
        return ir.Constant(ty, -math.inf if op in ("max", "argmax") else math.inf)
    if kind == "b":
        return ir.Constant(I1, 0 if op in ("max", "argmax") else 1)
    bits = ty.width
    if kind == "u":
        lo, hi = 0, (1 << bits) - 1
    else:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return _const_value(ty, dtype, lo if op in ("max", "argmax") else hi)


class _Loop:
    """``for i in [start, end)`` with loop-carried values; usage:
    ``lp = _Loop(b, start, end, inits); i, vals = lp.idx, lp.vals; ...; outs = lp.close(new)``."""

    def __init__(self, b, start, end, inits=(), name="i"):
        self.b = b
        fn = b.function
        self.pre = b.block
        self.body = fn.append_basic_block(f"{name}.body")
        self.exit = fn.append_basic_block(f"{name}.exit")
        self.inits = list(inits)
        self.end = end
        b.cbranch(b.icmp_signed("<", start, end), self.body, self.exit)
        b.position_at_end(self.body)
        self.idx = b.phi(I64, name=name)
        self.idx.add_incoming(start, self.pre)
        self.vals = []
        for v in self.inits:
            p = b.phi(v.type)
            p.add_incoming(v, self.pre)
            self.vals.append(p)

    def close(self, new_vals=()):
        b = self.b
        nxt = b.add(self.idx, _i64(1), flags=("nsw", "nuw"))
        latch = b.block
        self.idx.add_incoming(nxt, latch)
        for p, v in zip(self.vals, new_vals):
            p.add_incoming(v, latch)
        self.latch = b.cbranch(b.icmp_signed("<", nxt, self.end), self.body, self.exit)
        b.position_at_end(self.exit)
        outs = []
        for init, v in zip(self.inits, new_vals):
            phi = b.phi(v.type)
            phi.add_incoming(init, self.pre)
            phi.add_incoming(v, latch)
            outs.append(phi)
        return outs


class KernelRenderer:
    def __init__(self, module: ir.Module, kernel: K.Kernel, options):
        self.m = module
        self.k = K.coalesce(K.verify(kernel))
        self.opt = options
        self.outer = self.k.outer if self.k.outer else (1,)
        self.virtual_outer = not self.k.outer
        self.inner = self.k.inner
        self.spills = _spills(self.k)
        # statement -> [(expr, access, dtype)]: values earlier passes stored, loaded back
        self.reloads = _reloads(self.k)
        for r, st in self.spills.items():
            red = next(x for x in self.k.body if isinstance(x, K.Reduce) and x.name == r)
            p = self.k.params[st.access.param]
            self.reloads.setdefault(id(st), []).append((red.value, st.access, p.dtype))

    # ---------------------------------------------------------------- entry points
    def render(self):
        body = self._render_body()
        self._render_entry(body)

    def _param_types(self):
        return [PTR] * len(self.k.params) + [I64, I64]

    def _render_body(self):
        k = self.k
        fn = ir.Function(self.m, ir.FunctionType(VOID, self._param_types()), f"{k.name}__body")
        fn.linkage = "internal"
        fn.attributes.add("nounwind")
        for p, a in zip(k.params, fn.args):
            a.name = p.name
            if p.role != "inout":
                a.add_attribute("noalias")
        self.ptrs = list(fn.args[:len(k.params)])
        lo, hi = fn.args[-2], fn.args[-1]
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.b = b
        self.columns = (_column_mode(self.k) or _narrow_mode(self.k)) \
            and K.numel(self.outer) and K.numel(self.inner)
        if self.columns:
            self._column_buffers()
        if K.numel(self.outer):
            self._outer_loops(0, [], lo, hi)
        b.ret_void()
        return fn

    def _outer_loops(self, d, idx, lo, hi):
        b = self.b
        start, end = (lo, hi) if d == 0 else (_i64(0), _i64(self.outer[d]))
        if self.columns and d == len(self.outer) - 1:
            self._column_tiles(idx, start, end)
            return
        lp = _Loop(b, start, end, name=f"o{d}")
        idx = idx + [lp.idx]
        if d + 1 < len(self.outer):
            self._outer_loops(d + 1, idx, lo, hi)
        else:
            self._row(idx)
        lp.close()
        innermost = d == len(self.outer) - 1 and not self.inner
        if innermost and d > 0 and _SHORT_TRIP[0] <= self.outer[d] < _SHORT_TRIP[1] and \
                _strided_along(self.k, d):
            _loop_metadata(self.m, lp.latch, ("llvm.loop.unroll.disable",),
                           ("llvm.loop.vectorize.enable", ir.Constant(I1, 1)))
        elif not innermost:
            _loop_metadata(self.m, lp.latch, ("llvm.loop.unroll.disable",))

    # ---------------------------------------------------------------- column reductions
    def _column_buffers(self):
        """Per-reduction accumulator tiles (and Kahan compensation for float sums) on the
        stack, allocated once in the entry block."""
        b = self.b
        self.col_acc = {}
        for st in self.k.body:
            if isinstance(st, K.Reduce):
                ty = COMPUTE[st.value.dtype]
                acc = b.alloca(ty, size=_i64(_COL_TILE))
                comp = b.alloca(ty, size=_i64(_COL_TILE)) \
                    if st.op == "sum" and ops.kind_of(st.value.dtype) == "f" else None
                self.col_acc[st.name] = (acc, comp, ty)

    def _column_tiles(self, oidx, start, end):
        """Reductions whose inputs are contiguous along the last outer axis but strided
        along the reduced axes (column sums: bias gradients, batch statistics): walk the
        reduced axes outside and a tile of columns inside, so the inner loop is
        unit-stride and vectorises; float sums are Kahan-compensated per column. Narrow
        rows (``_narrow_mode``) run the same way: the row loop innermost vectorises across
        rows (strided loads) where a row is shorter than one vector; there a reduction
        that reads an earlier one, and a store over the row's elements, take a pass each."""
        b, k = self.b, self.k
        ntile = b.udiv(b.add(b.sub(end, start), _i64(_COL_TILE - 1)), _i64(_COL_TILE))
        tl = _Loop(b, _i64(0), ntile, name="ctile")
        t0 = b.add(start, b.mul(tl.idx, _i64(_COL_TILE)))
        t1 = b.add(t0, _i64(_COL_TILE))
        t1 = b.select(b.icmp_signed("<", t1, end), t1, end)
        nt = b.sub(t1, t0)
        def slot(ptr, ty, j):
            return b.gep(ptr, [j], inbounds=True, source_etype=ty)

        done = []      # reductions whose tiles hold their final values
        self.accs = {}

        def load_done(j):
            for name in done:
                acc, _, ty = self.col_acc[name]
                self.accs[name] = b.load(slot(acc, ty, j), typ=ty)

        def accumulate(reduces, iidx):
            jl = _Loop(b, _i64(0), nt, name="cj")
            load_done(jl.idx)
            env = self._env(oidx + [b.add(t0, jl.idx)], iidx)
            for st in reduces:
                acc, comp, ty = self.col_acc[st.name]
                pa = slot(acc, ty, jl.idx)
                a, v = b.load(pa, typ=ty), self._summand(st, env)
                if comp is not None:
                    pc = slot(comp, ty, jl.idx)
                    y = b.fsub(v, b.load(pc, typ=ty))
                    t = b.fadd(a, y)
                    b.store(b.fsub(b.fsub(t, a), y), pc)
                    b.store(t, pa)
                    continue
                if ops.kind_of(st.value.dtype) == "f":
                    r = intrinsic(b, "maximum" if st.op == "max" else "minimum", ty, [a, v])
                elif st.op == "sum":
                    r = b.add(a, v)
                else:
                    r = ops.binary(b, "maximum" if st.op == "max" else "minimum", a, v,
                                   st.value.dtype)
                b.store(r, pa)
            jl.close()

        def store_elements(st, iidx):
            jl = _Loop(b, _i64(0), nt, name="cs")
            load_done(jl.idx)
            self._store_spilled(st, self._env(oidx + [b.add(t0, jl.idx)], iidx))
            jl.close()

        def inner(d, iidx, fn):
            if d == len(self.inner):
                fn(iidx)
                return
            il = _Loop(b, _i64(0), _i64(self.inner[d]), name=f"cr{d}")
            inner(d + 1, iidx + [il.idx], fn)
            il.close()

        for kind, sts in _tile_passes(k):
            if kind == "reduce":
                lp = _Loop(b, _i64(0), nt, name="cinit")
                for st in sts:
                    acc, comp, ty = self.col_acc[st.name]
                    b.store(_identity(st.op, st.value.dtype, ty), slot(acc, ty, lp.idx))
                    if comp is not None:
                        b.store(ir.Constant(ty, 0.0), slot(comp, ty, lp.idx))
                lp.close()
                inner(0, [], lambda iidx, r=sts: accumulate(r, iidx))
                done.extend(st.name for st in sts)
            else:
                inner(0, [], lambda iidx, st=sts[0]: store_elements(st, iidx))

        fl = _Loop(b, _i64(0), nt, name="cfin")
        load_done(fl.idx)
        env = self._env(oidx + [b.add(t0, fl.idx)], None)
        for st in k.body:
            if isinstance(st, K.Store) and K.is_row_level(k, st):
                self._store(st, env)
        fl.close()
        tl.close()
        _loop_metadata(self.m, tl.latch, ("llvm.loop.unroll.disable",))

    def _render_entry(self, body):
        k, b_opt = self.k, self.opt
        n0 = self.outer[0]
        entry = ir.Function(self.m, ir.FunctionType(VOID, [PTR]), k.name)
        entry.attributes.add("nounwind")
        entry.attributes.add("noinline")  # the program entry calls it: no duplicate copy
        b = ir.IRBuilder(entry.append_basic_block("entry"))
        args = entry.args[0]

        def load_ptrs(bb, argv):
            return [bb.load(bb.gep(argv, [_i64(i)], inbounds=True, source_etype=PTR), typ=PTR)
                    for i in range(len(k.params))]

        parallel = (K.numel(k.space) >= b_opt.parallel_min_elements and n0 >= 2
                    and K.numel(self.outer) > 0)
        if parallel:
            # the serial variant, for program entries that also call BLAS (see
            # extern.render_entry): a parallel region there fights OpenBLAS's threads
            # (noinline, and the serial path of k calls it, so the body is inlined into
            # two functions, serial and per-thread, not three)
            seq = ir.Function(self.m, ir.FunctionType(VOID, [PTR]), f"{k.name}__seq")
            seq.linkage = "internal"
            seq.attributes.add("nounwind")
            seq.attributes.add("noinline")
            sb = ir.IRBuilder(seq.append_basic_block("entry"))
            sb.call(body, load_ptrs(sb, seq.args[0]) + [_i64(0), _i64(n0)])
            sb.ret_void()
            omp = self._render_omp(body, load_ptrs)
            nt_slot = _slot(self.m, abi.NUM_THREADS, I32)
            gomp_slot = _slot(self.m, abi.GOMP_PARALLEL, PTR)
            nt = b.load(nt_slot, typ=I32)
            gomp = b.load(gomp_slot, typ=PTR)
            go = b.and_(b.icmp_signed(">", nt, ir.Constant(I32, 1)),
                        b.icmp_unsigned("!=", b.ptrtoint(gomp, I64), _i64(0)))
            with b.if_then(go):
                gty = ir.FunctionType(VOID, [PTR, PTR, I32, I32])
                b.call(_fnptr(b, gomp, gty), [omp, args, nt, ir.Constant(I32, 0)])
                b.ret_void()
            b.call(seq, [args])
            b.ret_void()
            return
        b.call(body, load_ptrs(b, args) + [_i64(0), _i64(n0)])
        b.ret_void()

    def _render_omp(self, body, load_ptrs):
        k = self.k
        n0 = self.outer[0]
        fn = ir.Function(self.m, ir.FunctionType(VOID, [PTR]), f"{k.name}__omp")
        fn.linkage = "internal"
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        ity = ir.FunctionType(I32, [])
        tid = b.sext(b.call(_fnptr(b, b.load(_slot(self.m, abi.OMP_THREAD_NUM, PTR), typ=PTR),
                                   ity), []), I64)
        nth = b.sext(b.call(_fnptr(b, b.load(_slot(self.m, abi.OMP_NUM_THREADS, PTR), typ=PTR),
                                   ity), []), I64)
        chunk = b.udiv(b.add(_i64(n0), b.sub(nth, _i64(1))), nth)
        if len(self.outer) == 1 and not self.inner:
            # a flat elementwise loop: round chunks to _PAR_ALIGN elements so partition
            # edges never move an element between the vector body and the scalar
            # remainder loop (rows of multi-axis kernels always start fresh loops)
            chunk = b.mul(b.udiv(b.add(chunk, _i64(_PAR_ALIGN - 1)), _i64(_PAR_ALIGN)),
                          _i64(_PAR_ALIGN))
        lo = b.mul(tid, chunk)
        hi = b.add(lo, chunk)
        hi = b.select(b.icmp_signed("<", hi, _i64(n0)), hi, _i64(n0))
        with b.if_then(b.icmp_signed("<", lo, hi)):
            b.call(body, load_ptrs(b, fn.args[0]) + [lo, hi])
        b.ret_void()
        return fn

    # ---------------------------------------------------------------- one row
    def _row(self, oidx):
        k = self.k
        self.accs = {}
        if not self.inner:
            env = self._env(oidx, [])
            for st in k.body:
                self._store(st, env)
            return
        row_env = self._env(oidx, None)
        self._prefetch_next_row(oidx)
        for st in k.body:
            if isinstance(st, K.Reduce):
                self.accs[st.name] = self._reduce(st, oidx)
            elif K.is_row_level(k, st):
                self._store(st, row_env)
            elif id(st) in self.reloads:
                self._inner_loops(0, oidx, [], lambda env, s=st: self._store_spilled(s, env))
            else:
                self._inner_loops(0, oidx, [], lambda env, s=st: self._store(s, env))

    def _prefetch_next_row(self, oidx):
        """Row kernels that walk a row several times (softmax, layer norm: a few KB, in
        L1 after the first pass) leave the memory system idle during the later passes;
        prefetching the next row's lines at the start of each row overlaps its fetch with
        this row's work (layer norm (4096, 1024), 1 thread: 1.21 -> 0.8x ms). Prefetches
        never fault, so the last row's (out of range) prefetch is harmless."""
        k = self.k
        passes = sum(1 for st in k.body if isinstance(st, K.Reduce) or
                     not K.is_row_level(k, st))
        if self.virtual_outer or len(self.inner) != 1 or passes < 2:
            return
        last = len(self.outer) - 1
        seen, targets = set(), []
        for st in k.body:
            accs = [(n.access, n.dtype, 0) for n in K.walk(st.value) if isinstance(n, K.Load)]
            for acc, dt, rw in accs:
                key = (acc.param, acc.offset, acc.strides, rw)
                if acc.strides[-1] == 1 and acc.strides[last] and key not in seen:
                    seen.add(key)
                    targets.append((acc, dt, rw))
        if not targets:
            return
        b = self.b
        n_in = self.inner[0]
        nxt = list(oidx)
        nxt[last] = b.add(oidx[last], _i64(1))
        env = self._env(nxt, [_i64(0)])
        for acc, dt, rw in targets:
            width = np.dtype(dt).itemsize if dt not in ("bool", "bfloat16") else \
                (1 if dt == "bool" else 2)
            span = n_in * width
            if not 1024 <= span <= 32768:
                continue
            base = b.gep(self.ptrs[acc.param], [self._offset(acc, env)],
                         source_etype=STORAGE[dt])
            lp = _Loop(b, _i64(0), _i64(-(-span // 64)), name="pf")
            addr = b.gep(base, [b.mul(lp.idx, _i64(64))], source_etype=ir.IntType(8))
            intrinsic(b, "prefetch", VOID, [addr, ir.Constant(I32, rw), ir.Constant(I32, 3),
                                           ir.Constant(I32, 1)], suffixes=["p0"])
            lp.close()

    def _env(self, oidx, iidx):
        if self.virtual_outer:
            oidx = []
        full = list(oidx) + (list(iidx) if iidx is not None else [None] * len(self.inner))
        return {"idx": full, "memo": {}}

    def _inner_loops(self, d, oidx, iidx, fn):
        lp = _Loop(self.b, _i64(0), _i64(self.inner[d]), name=f"r{d}")
        if d + 1 < len(self.inner):
            self._inner_loops(d + 1, oidx, iidx + [lp.idx], fn)
        else:
            fn(self._env(oidx, iidx + [lp.idx]))
        lp.close()

    # ---------------------------------------------------------------- expressions
    def _offset(self, access, env):
        b = self.b
        off = _i64(access.offset)
        for s, i in zip(access.strides, env["idx"]):
            if s:
                off = b.add(off, b.mul(i, _i64(s), flags=("nsw",)), flags=("nsw",))
        return off

    def _addr(self, access, env):
        p = self.k.params[access.param]
        return self.b.gep(self.ptrs[access.param], [self._offset(access, env)], inbounds=True,
                          source_etype=STORAGE[p.dtype])

    def ev(self, e, env):
        memo = env["memo"]
        if e in memo:
            return memo[e]
        b = self.b
        if isinstance(e, K.Load):
            raw = b.load(self._addr(e.access, env), typ=STORAGE[e.dtype])
            v = _from_storage(b, raw, e.dtype)
        elif isinstance(e, K.Const):
            v = _const_value(COMPUTE[e.dtype], e.dtype, e.value)
        elif isinstance(e, K.IndexVar):
            v = env["idx"][e.axis]
            v = ops.cast(b, v, "int64", e.dtype) if e.dtype != "int64" else v
        elif isinstance(e, K.AccRef):
            v = self.accs[e.name]
        elif e.op == "where":
            c, x, y = (self.ev(a, env) for a in e.args)
            v = b.select(c, x, y)
        elif e.op == "cast":
            v = ops.cast(b, self.ev(e.args[0], env), e.args[0].dtype, e.dtype)
        elif len(e.args) == 1:
            v = ops.unary(b, e.op, self.ev(e.args[0], env), e.args[0].dtype)
        else:
            x = self.ev(e.args[0], env)
            dt = e.args[0].dtype
            v = None
            if e.op == "pow" and isinstance(e.args[1], K.Const):
                v = ops.pow_const(b, x, float(e.args[1].value), ops.kind_of(dt))
            if v is None:
                v = ops.binary(b, e.op, x, self.ev(e.args[1], env), dt)
        memo[e] = v
        return v

    def _store(self, st, env):
        p = self.k.params[st.access.param]
        v = self.ev(st.value, env)
        self.b.store(_to_storage(self.b, v, p.dtype), self._addr(st.access, env))

    def _seed(self, st, env):
        for e, acc, dt in self.reloads.get(id(st), ()):
            raw = self.b.load(self._addr(acc, env), typ=STORAGE[dt])
            env["memo"][e] = _from_storage(self.b, raw, dt)

    def _store_spilled(self, st, env):
        self._seed(st, env)
        self._store(st, env)

    def _summand(self, st, env):
        """The reduce's value at this element; also written to a spill location (see
        _spills)."""
        self._seed(st, env)
        v = self.ev(st.value, env)
        sp = self.spills.get(st.name)
        if sp is not None:
            p = self.k.params[sp.access.param]
            self.b.store(_to_storage(self.b, v, p.dtype), self._addr(sp.access, env))
        return v

    # ---------------------------------------------------------------- reductions
    def _reduce(self, st, oidx):
        b = self.b
        dt = st.value.dtype
        ty = COMPUTE[dt]
        kind = ops.kind_of(dt)
        if st.op in ("argmax", "argmax_value"):
            return self._argmax(st, oidx, ty, kind, st.op == "argmax_value")
        ident = _identity(st.op, dt, ty)
        blocked = kind == "f" and st.op in ("sum", "prod")
        kahan = blocked and st.op == "sum"
        n_last = self.inner[-1]
        blk = self.opt.sum_block

        def combine(acc, v):
            if st.op == "sum":
                return b.fadd(acc, v, flags=("reassoc", "contract")) if kind == "f" \
                    else b.add(acc, v)
            if st.op == "prod":
                return b.fmul(acc, v, flags=("reassoc", "contract")) if kind == "f" \
                    else (b.and_(acc, v) if kind == "b" else b.mul(acc, v))
            if kind == "f":  # llvm.maximum: nan-propagating and a vectorisable reduction
                return intrinsic(b, "maximum" if st.op == "max" else "minimum", ty, [acc, v])
            return ops.binary(b, "maximum" if st.op == "max" else "minimum", acc, v, dt)

        def rows(d, iidx, state):
            if d < len(self.inner) - 1:
                lp = _Loop(b, _i64(0), _i64(self.inner[d]), state, name=f"r{d}")
                out = rows(d + 1, iidx + [lp.idx], lp.vals)
                return lp.close(out)
            if not blocked:
                lp = _Loop(b, _i64(0), _i64(n_last), state, name=f"r{d}")
                v = self._summand(st, self._env(oidx, iidx + [lp.idx]))
                return lp.close([combine(lp.vals[0], v)])
            # blocked: outer loop over blocks carries (acc, compensation)
            nblk = -(-n_last // blk)
            bl = _Loop(b, _i64(0), _i64(nblk), state, name="blk")
            start = b.mul(bl.idx, _i64(blk))
            end = b.add(start, _i64(blk))
            end = b.select(b.icmp_signed("<", end, _i64(n_last)), end, _i64(n_last))
            il = _Loop(b, start, end, [ident], name=f"r{d}")
            v = self._summand(st, self._env(oidx, iidx + [il.idx]))
            (part,) = il.close([combine(il.vals[0], v)])
            if kahan:
                acc, comp = bl.vals
                y = b.fsub(part, comp)
                t = b.fadd(acc, y)
                comp2 = b.fsub(b.fsub(t, acc), y)
                return bl.close([t, comp2])
            return bl.close([b.fmul(bl.vals[0], part)])

        init = [ident, ir.Constant(ty, 0.0)] if kahan else [ident]
        out = rows(0, [], init)
        return out[0]

    def _argmax(self, st, oidx, ty, kind, value=False):
        """First index of the maximum over the flattened inner axes (first nan wins), or
        with ``value`` the element at that index (max pooling's value: a -0.0/+0.0 tie
        keeps the first, as PyTorch's)."""
        b = self.b
        dt = st.value.dtype
        inner_strides = K.contiguous_strides(self.inner)

        def rows(d, iidx, flat, state):
            lp = _Loop(b, _i64(0), _i64(self.inner[d]), state, name=f"r{d}")
            f = b.add(flat, b.mul(lp.idx, _i64(inner_strides[d])))
            if d < len(self.inner) - 1:
                return lp.close(rows(d + 1, iidx + [lp.idx], f, lp.vals))
            best, bi = lp.vals
            v = self.ev(st.value, self._env(oidx, iidx + [lp.idx]))
            if kind == "f":
                better = b.or_(b.fcmp_ordered(">", v, best),
                               b.and_(b.fcmp_unordered("uno", v, v),
                                      b.fcmp_ordered("ord", best, best)))
            elif kind == "i":
                better = b.icmp_signed(">", v, best)
            else:
                better = b.icmp_unsigned(">", v, best)
            return lp.close([b.select(better, v, best), b.select(better, f, bi)])

        first = _identity("argmax", dt, ty)
        return rows(0, [], _i64(0), [first, _i64(0)])[0 if value else 1]


def _from_storage(b, raw, dtype):
    if dtype == "bool":
        return b.icmp_unsigned("!=", raw, ir.Constant(raw.type, 0))
    if dtype == "float16":
        return b.fpext(raw, F32)
    if dtype == "bfloat16":
        return ops.bf16_to_f32(b, raw)
    return raw


def _to_storage(b, v, dtype):
    if dtype == "bool":
        return b.zext(v, STORAGE["bool"])
    if dtype == "float16":
        return b.fptrunc(v, ir.HalfType())
    if dtype == "bfloat16":
        return ops.f32_to_bf16(b, v)
    return v


def _slot(module, name, ty):
    g = module.globals.get(name)
    if g is None:
        g = ir.GlobalVariable(module, ty, name)
        g.initializer = ir.Constant(ty, None if ty is PTR else 1 if name == abi.NUM_THREADS
                                    else 0)
    return g


def define_slots(module):
    for n in abi.POINTER_SLOTS:
        _slot(module, n, PTR)
    for n in abi.INT_SLOTS:
        _slot(module, n, I32)


def _fnptr(b, ptr, fnty):
    """Calling through an opaque pointer: llvmlite needs the function type attached."""
    return _Callee(ptr, fnty)


def _callee_for(ptr, fnty):
    return _Callee(ptr, fnty)

class _Callee:
    """Duck-types a callee for llvmlite's ``call`` (needs ``.type``/``.function_type``)."""

    def __init__(self, ptr, fnty):
        self.ptr, self.function_type = ptr, fnty
        self.type = ptr.type

    def get_reference(self):
        return self.ptr.get_reference()


def render_kernel(module, kernel, options):
    KernelRenderer(module, kernel, options).render()
    return module


__all__ = ["render_kernel", "define_slots", "KernelRenderer"]
