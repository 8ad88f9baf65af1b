"""Lowering an extern ``matmul`` group to a kernel-IR ``Matmul`` (a BLAS gemm call).

Operands are read where they already live: a matmul input produced by a chain of movement
ops (Linear's ``W.T``, ``grad @ B.T`` in a backward graph) is traced back to the nearest
materialised buffer and its strides become the BLAS transpose flag and leading dimension,
so the permute is never copied (the view group that would have copied it is then dead and
dropped by the program). Broadcast batch dims are stride 0 in the gemm's batch loop.
"""
from __future__ import annotations

from ..ir import INPUT
from . import kernel_ir as K
from .kernel_views import IndexMap, pull, to_access
from .lower import MOVES, Unsupported, buffer_shape, buffer_strides, dtype_name, input_strides


def _operand_view(node, materialised):
    """(source node, per-dim strides over node's dims, offset): the deepest materialised
    value ``node`` is a movement view of, or node itself."""
    best = (node, buffer_strides(node), 0)
    m = IndexMap.identity(tuple(node.shape))
    x = node
    while x.op in MOVES and x.op != INPUT:
        src = x.inputs[0]
        m = pull(m, x.op, x.attrs, src.shape)
        if m is None:
            break
        x = src
        if x in materialised:
            acc = to_access(m, 0, input_strides(x))
            if acc is None:       # a flat view of a strided input: stop here
                break
            best = (x, acc.strides, acc.offset)
    return best


def lower_matmul(name, node, out_key, materialised, param_key, beta=0.0):
    a, b = node.inputs
    dt = dtype_name(node)
    if dt not in ("float32", "float64"):
        raise Unsupported(f"matmul of {dt} has no BLAS routine")
    out_shape = tuple(node.shape)
    batch = out_shape[:-2]
    M, N = out_shape[-2:]
    Kd = a.shape[-1]
    params, index = [], {}

    def param(src, role):
        key = param_key(src)
        if key not in index:
            index[key] = len(params)
            params.append((key, K.Param(f"p{len(params)}", dt, buffer_shape(src) or (1,),
                                        role)))
        return index[key]

    def operand(x, rows, cols):
        for cand in (_operand_view(x, materialised), (x, buffer_strides(x), 0)):
            src, strides, off = cand
            nb = len(x.shape) - 2
            bs = []
            for d in range(len(batch)):
                j = d - (len(batch) - nb)
                bs.append(0 if j < 0 or x.shape[j] == 1 else strides[j])
            mo = (src, off, tuple(bs), strides[-2], strides[-1])
            probe = K.Matmul("probe", (K.Param("p", dt, (1,)),) * 3, dt, batch, M, N, Kd,
                             K.MatOperand(0, off, tuple(bs), strides[-2], strides[-1]),
                             K.MatOperand(0, off, tuple(bs), strides[-2], strides[-1]),
                             K.MatOperand(0, 0, (0,) * len(batch), N, 1))
            if probe.blas_layout("a" if (rows, cols) == (M, Kd) else "b") is not None:
                return mo
        raise Unsupported(f"matmul operand {x.name} has no unit stride")

    sa = operand(a, M, Kd)
    sb = operand(b, Kd, N)
    pa = param(sa[0], "in")
    pb = param(sb[0], "in")
    index[out_key] = len(params)
    params.append((out_key, K.Param(f"p{len(params)}", dt, out_shape or (1,),
                                    "inout" if beta else "out")))
    pc = index[out_key]
    cstr = K.contiguous_strides(out_shape)
    mm = K.Matmul(name, tuple(p for _, p in params), dt, batch, M, N, Kd,
                  K.MatOperand(pa, sa[1], sa[2], sa[3], sa[4]),
                  K.MatOperand(pb, sb[1], sb[2], sb[3], sb[4]),
                  K.MatOperand(pc, 0, cstr[:-2], cstr[-2], cstr[-1]), beta=beta)
    try:
        K.verify_matmul(mm)
    except K.KernelIRError as e:
        raise Unsupported(str(e)) from None
    return mm, [key for key, _ in params], (sa[0], sb[0])


# ------------------------------------------------------------------ transposed results
def _transposed_access(acc, space, M, N):
    """``acc`` (into a row-major (M, N) buffer) rewritten for the same elements stored
    transposed, as (N, M); None when some element's column could carry into the next row
    (then the access is not affine in the transposed layout)."""
    a0, b0 = divmod(acc.offset, N)
    strides, col_max = [], b0
    for s, n in zip(acc.strides, space):
        a, b = divmod(s, N)
        col_max += b * max(n - 1, 0)
        strides.append(a + b * M)
    if col_max >= N:
        return None
    return K.Access(acc.param, tuple(strides), a0 + b0 * M)


def _unit_inner(acc, space):
    dims = [s for s, n in zip(acc.strides, space) if n > 1]
    return bool(dims) and dims[-1] == 1


def _map_loads(e, fn):
    if isinstance(e, K.Load):
        return fn(e)
    if isinstance(e, K.Op):
        return K.Op(e.op, tuple(_map_loads(a, fn) for a in e.args), e.dtype)
    return e


def _unflatten(kernel, M, N):
    """A flat pointwise kernel over M*N elements as the same kernel over (M, N) (every
    access is affine in the flat index, so exactly in (r, c) too), so that its accesses
    to an (M, N) buffer can be transposed."""
    if kernel.inner or tuple(kernel.outer) != (M * N,) or any(
            isinstance(n, K.IndexVar) for st in kernel.body for n in K.walk(st.value)):
        return kernel

    def two(acc):
        (s,) = acc.strides
        return K.Access(acc.param, (s * N, s), acc.offset)

    def load(ld):
        return K.Load(two(ld.access), ld.dtype)
    body = tuple(K.Store(two(st.access), _map_loads(st.value, load)) for st in kernel.body)
    return K.Kernel(kernel.name, kernel.params, (M, N), (), body, kernel.doc)


def _store_major(kernel, pi):
    """A 2-D pointwise kernel whose store into ``pi`` became transposed, with its two
    axes swapped so that store is unit-stride innermost again (the bias pre-fill: a
    broadcast bias written column by column; rendered with the strided store, LLVM spent
    0.3 s compiling its scatter loop)."""
    if kernel.inner or len(kernel.outer) != 2 or any(
            isinstance(n, K.IndexVar) for st in kernel.body for n in K.walk(st.value)):
        return kernel
    if not any(isinstance(st, K.Store) and st.access.param == pi and st.access.strides[0] == 1
               and st.access.strides[1] != 1 for st in kernel.body):
        return kernel

    def swap(acc):
        return K.Access(acc.param, acc.strides[::-1], acc.offset)

    def load(ld):
        return K.Load(swap(ld.access), ld.dtype)
    body = tuple(K.Store(swap(st.access), _map_loads(st.value, load)) for st in kernel.body)
    return K.Kernel(kernel.name, kernel.params, tuple(kernel.outer)[::-1], (), body,
                    kernel.doc)


def _retarget(kernel, pi, M, N, writer=False):
    """(kernel reading param ``pi`` (or, for the ``writer``, writing it) in the transposed
    layout, number of accesses that became unit-stride minus those that stopped being),
    or None when an access cannot be rewritten."""
    kernel = _unflatten(kernel, M, N)
    space = kernel.space
    score = [0, 0]

    def fix(acc):
        new = _transposed_access(acc, space, M, N)
        if new is None:
            raise Unsupported("carry")
        score[0] += _unit_inner(new, space)
        score[1] += _unit_inner(acc, space)
        return new

    try:
        def load(ld):
            return K.Load(fix(ld.access), ld.dtype) if ld.access.param == pi else ld
        body = []
        for st in kernel.body:
            if isinstance(st, K.Store):
                acc = st.access
                if acc.param == pi:
                    if not writer:
                        return None
                    acc = fix(acc)
                body.append(K.Store(acc, _map_loads(st.value, load)))
            else:
                body.append(K.Reduce(st.name, st.op, _map_loads(st.value, load)))
    except Unsupported:
        return None
    params = list(kernel.params)
    p = params[pi]
    params[pi] = K.Param(p.name, p.dtype, (N, M), p.role)
    return K.Kernel(kernel.name, tuple(params), kernel.outer, kernel.inner, tuple(body),
                    kernel.doc), score[0] - score[1]


def _blas_prefers_transposed(mm):
    """OpenBLAS runs ``x @ W.T`` with few rows much slower than the same product computed
    transposed, ``W @ x.T`` (measured, 2 threads: (32,784)@(784,256) 74 vs 42 us, 8 rows
    48 vs 23 us, 64 rows 91 vs 76, 128 rows even, 2048 rows 1.8 vs 2.0 ms): Linear's forward
    at small batch. The readers then see a transposed (small) result."""
    ta, _ = mm.blas_layout("a")
    tb, _ = mm.blas_layout("b")
    return not ta and tb and mm.m <= 64 and mm.n >= 4 * mm.m and mm.k >= 64 and \
        mm.m * mm.n <= 1 << 18


def transpose_results(steps, keep):
    """Store a 2-D gemm's result transposed (C^T = B^T A^T: swapped operands and flags,
    free for BLAS) when every reader is a kernel that then reads it with unit stride more
    often. The weight gradient of Linear (``x.T @ grad`` read back as ``(x.T @ grad).T`` by
    the SGD update) is the case: the update kernel otherwise walks it with stride 256.
    ``keep`` are buffers whose layout is fixed (graph outputs). Returns (steps, {key:
    transposed shape})."""
    shapes = {}
    steps = list(steps)
    for i, s in enumerate(steps):
        mm = s.kernel
        if s.kind != "matmul" or mm.batch or mm.beta not in (0.0, 1.0) or mm.m < 2 or \
                mm.n < 2:
            continue
        c = s.keys[mm.c.param]
        if c in keep or c.op == INPUT:
            continue
        readers = [j for j, t in enumerate(steps) if j != i and c in t.reads()]
        writers = [j for j, t in enumerate(steps) if j != i and c in t.writes()]
        if mm.beta:     # the bias pre-fill kernel (plan._bias_fold) is C's other writer
            if len(writers) != 1 or writers[0] in readers or writers[0] > i:
                continue
        elif writers:
            continue
        if not readers or any(steps[j].kind != "kernel" for j in readers + writers):
            continue
        new, gain = {}, 0
        for j in readers + writers:
            t = steps[j]
            r = _retarget(t.kernel, t.keys.index(c), mm.m, mm.n, writer=j in writers)
            if r is None:
                break
            new[j], g = r
            if j in writers:
                new[j] = _store_major(new[j], t.keys.index(c))
            gain += g if j in readers else 0
        else:
            # OpenBLAS runs either orientation about as fast (Linear's weight gradient, 2
            # threads, idle machine: batch 32 36 vs 39 us, 2048 1.81 vs 1.84 ms), and the
            # strided reader costs more (batch 2048 SGD update: 186 vs 78 us per step)
            if gain <= 0 and not _blas_prefers_transposed(mm):
                continue
            cp = mm.params[mm.c.param]
            params = list(mm.params)
            params[mm.c.param] = K.Param(cp.name, cp.dtype, (mm.n, mm.m), cp.role)
            a, b = mm.a, mm.b
            t_mm = K.Matmul(mm.name, tuple(params), mm.dtype, (), mm.n, mm.m, mm.k,
                            K.MatOperand(b.param, b.offset, (), b.col_stride, b.row_stride),
                            K.MatOperand(a.param, a.offset, (), a.col_stride, a.row_stride),
                            K.MatOperand(mm.c.param, 0, (), mm.m, 1), mm.alpha, mm.beta)
            try:
                K.verify_matmul(t_mm)
                for j, k in new.items():
                    K.verify(k)
            except K.KernelIRError:
                continue
            s.kernel = t_mm
            for j, k in new.items():
                steps[j].kernel = k
            shapes[c] = (mm.n, mm.m)
    return steps, shapes
