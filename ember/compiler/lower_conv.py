"""Lowering an extern ``conv_general`` group to generated kernels plus one batched gemm.

``conv_general(x (N, C, *S), w (O, C/G, *K))`` becomes, in order:

1. *pad* (only with padding or lhs dilation): a copy kernel writing ``x`` into the interior
   of a scratch buffer ``Q (N, C, *Sq)`` at stride ``lhs_dilation`` (negative padding is a
   crop: the copy reads a sub-range), and zero-fill kernels for the border slabs only (the
   whole buffer with lhs dilation, whose holes are everywhere). Padding as a separate
   buffer keeps every later access affine, so the kernel IR needs no masked loads and the
   verifier still proves every access in bounds.
2. *im2col*: a kernel writing the column matrix into the arena:
   ``cols[n, g, c, k, p] = Q[n, g*Cg + c, p*stride + k*rhs_dilation]`` - one affine load,
   the output positions innermost (unit stride for stride 1). Its layout is
   ``(G, Cg, *K, N, *P)`` when N > 1, else ``(N, G, Cg, *K, *P)``.
3. *gemm*: with N > 1, one gemm per group ``(Og, Cg*K) @ (Cg*K, N*P)`` into a scratch
   ``(O, N, P)`` and a transpose kernel to ``(N, O, *P)`` (BLAS runs one large product far
   better than N small ones and threads it: CNN conv2 0.6 vs 1.3 ms); with N = 1 the gemm
   ``(Og, Cg*K) @ (Cg*K, P)`` writes NC[spatial] directly through its strides.

Operands produced by movement chains (the flipped, transposed kernel of the input
gradient, the transposed activations and gradients of the weight gradient) are read
through their strides from the nearest materialised buffer, like matmul operands, so the
view groups that would copy them are dropped. A weight whose view is not one matrix
(Og, Cg*K) with a unit stride is first copied into a contiguous scratch buffer.

The VJPs of conv_general are conv_general again, so training graphs lower the same way.
Non-float dtypes and empty shapes raise ``Unsupported`` (the group then runs with the
eager kernel).
"""
from __future__ import annotations

import math

from . import kernel_ir as K
from .lower import Unsupported, buffer_shape, dtype_name
from .lower_matmul import _operand_view


def _dil(n, d):
    return 0 if n == 0 else 1 + d * (n - 1)


def scratch(node, tag, shape):
    """A buffer key for an intermediate array that no graph node names (padded input,
    columns, a contiguous weight copy): the program plan treats it like any temp."""
    from ..ir.graph import Node
    return Node(f"{node.id}_{tag}", "scratch", (), {}, tuple(shape), node.dtype, node.device)


class _Params:
    def __init__(self, dt):
        self.dt = dt
        self.keys, self.params = [], []

    def __call__(self, key, shape, role):
        for i, k in enumerate(self.keys):
            if k is key:
                if role != self.params[i].role:
                    raise Unsupported("conv: a buffer is both read and written by one kernel")
                return i
        self.keys.append(key)
        self.params.append(K.Param(f"p{len(self.params)}", self.dt, tuple(shape) or (1,), role))
        return len(self.params) - 1


def _kernel(name, pm, space, body):
    k = K.Kernel(name, tuple(pm.params), tuple(space), (), tuple(body))
    try:
        K.verify(k)
        k = K.coalesce(k)
        K.verify(k)
    except K.KernelIRError as e:
        raise Unsupported(f"conv lowering: {e}") from None
    return k, list(pm.keys)


def _fill(name, key, shape, dt, value):
    pm = _Params(dt)
    p = pm(key, shape, "out")
    body = [K.Store(K.Access(p, K.contiguous_strides(shape), 0), K.Const(value, dt))]
    return _kernel(name, pm, shape, body)


def _interior(xs, qshape, padding, lhs):
    """Per spatial dim: (first x index copied, count); Q position of x index t is t*ld + lo."""
    res = []
    for n, (lo, _), ld, nq in zip(xs[2:], padding, lhs, qshape[2:]):
        t0 = max(0, -(-(-lo) // ld))            # ceil(-lo / ld), at least 0
        t1 = min(n - 1, (nq - 1 - lo) // ld)
        res.append((t0, t1 - t0 + 1))
    return res


def _border_fill(name, unique, qkey, qshape, box, dt):
    """Zero only what the interior copy leaves: per spatial dim j the slabs before and
    after the interior (earlier dims restricted to the interior, later dims whole), one
    kernel per dim (two stores when both slabs have one shape). The whole buffer is
    rewritten every call otherwise (CNN step: ~1.2M floats of zeros)."""
    steps = []
    qs = K.contiguous_strides(qshape)
    nsp = len(qshape) - 2
    for j in range(nsp):
        a, b = box[j][0], box[j][0] + box[j][1]           # interior [a, b) along dim j
        slabs = [(0, a), (b, qshape[2 + j])]
        slabs = [(lo, hi) for lo, hi in slabs if hi > lo]
        if not slabs:
            continue
        groups = {}
        for lo, hi in slabs:
            groups.setdefault(hi - lo, []).append(lo)
        for ext, starts in groups.items():
            space = tuple(qshape[:2]) + tuple(box[i][1] for i in range(j)) + (ext,) + \
                tuple(qshape[2 + j + 1:])
            base = sum(qs[2 + i] * box[i][0] for i in range(j))
            pm = _Params(dt)
            p = pm(qkey, qshape, "out")
            body = [K.Store(K.Access(p, qs, base + st * qs[2 + j]), K.Const(0.0, dt))
                    for st in starts]
            steps.append(("kernel",) + _kernel(unique(name), pm, space, body))
    return steps


def _pad_copy(name, node, src, sstr, soff, qkey, qshape, padding, lhs, dt):
    """Copy x (read through strides ``sstr`` at ``soff`` in ``src``) into the interior
    of the padded scratch ``qkey``: x index t lands at t*lhs + lo (when inside Q)."""
    xs = tuple(node.inputs[0].shape)
    t0s, cnts = [], []
    for n, (lo, _), ld, nq in zip(xs[2:], padding, lhs, qshape[2:]):
        t0 = max(0, -(-(-lo) // ld))            # ceil(-lo / ld), at least 0
        t1 = min(n - 1, (nq - 1 - lo) // ld)
        t0s.append(t0)
        cnts.append(t1 - t0 + 1)
    if any(c <= 0 for c in cnts):
        return None                              # the whole input is cropped away
    space = tuple(xs[:2]) + tuple(cnts)
    qs = K.contiguous_strides(qshape)
    pm = _Params(dt)
    pi = pm(src, buffer_shape(src), "in")
    po = pm(qkey, qshape, "out")
    load_off = soff + sum(s * t for s, t in zip(sstr[2:], t0s))
    store_str = (qs[0], qs[1]) + tuple(q * ld for q, ld in zip(qs[2:], lhs))
    store_off = sum(q * (t * ld + lo) for q, t, ld, (lo, _) in zip(qs[2:], t0s, lhs, padding))
    body = [K.Store(K.Access(po, store_str, store_off),
                    K.Load(K.Access(pi, tuple(sstr), load_off), dt))]
    return _kernel(name, pm, space, body)


def _weight_matrix(wstr, ws):
    """(row stride over o, col stride over the flattened (c, *k)) when the weight view is
    one matrix per group, else None."""
    inner = ws[1:]
    strides = wstr[1:]
    col = None
    for d in range(len(inner) - 1, -1, -1):
        if inner[d] == 1:
            continue
        want = strides[d]
        if col is None:
            col, expect = want, want * inner[d]
        elif want != expect:
            return None
        else:
            expect = want * inner[d]
    return wstr[0], (1 if col is None else col)


def lower_conv(name, node, materialised, unique):
    """[(kind, kernel, keys)] computing ``node`` (a conv_general) into its own buffer.
    ``unique(suffix)`` returns a fresh kernel name."""
    x, w = node.inputs
    dt = dtype_name(node)
    if dt not in ("float32", "float64"):
        raise Unsupported(f"conv_general of {dt} has no BLAS routine")
    if min(tuple(x.shape) + tuple(w.shape) + tuple(node.shape)) <= 0:
        raise Unsupported("conv_general with an empty dimension")
    a = node.attrs
    stride, padding, lhs, rhs, G = (tuple(a["stride"]), tuple(tuple(p) for p in a["padding"]),
                                   tuple(a["lhs_dilation"]), tuple(a["rhs_dilation"]),
                                   a["groups"])
    xs, ws, ys = tuple(x.shape), tuple(w.shape), tuple(node.shape)
    N, C = xs[:2]
    O, Cg = ws[:2]
    Og = O // G
    ksp, psp = ws[2:], ys[2:]
    P, KK = math.prod(psp), math.prod(ksp)
    steps = []

    # ---- the input, padded / dilated into scratch if needed
    xsrc, xstr, xoff = _operand_view(x, materialised)
    if any(p != (0, 0) for p in padding) or any(d > 1 for d in lhs):
        qshape = (N, C) + tuple(_dil(n, ld) + lo + hi
                                for n, ld, (lo, hi) in zip(xs[2:], lhs, padding))
        qkey = scratch(node, "pad", qshape)
        box = _interior(xs, qshape, padding, lhs)
        if any(d > 1 for d in lhs) or any(c <= 0 for _, c in box):
            k, keys = _fill(unique(name + "_zero"), qkey, qshape, dt, 0.0)   # holes
            steps.append(("kernel", k, keys))
        elif any(lo > 0 or hi > 0 for lo, hi in padding):
            steps += _border_fill(name + "_zero", unique, qkey, qshape,
                                  [(t0 + lo, c) for (t0, c), (lo, _) in zip(box, padding)],
                                  dt)
        cp = _pad_copy(unique(name + "_pad"), node, xsrc, xstr, xoff, qkey, qshape, padding,
                       lhs, dt)
        if cp is not None:
            steps.append(("kernel",) + cp)
        src, sstr, soff, sshape = qkey, K.contiguous_strides(qshape), 0, qshape
    else:
        src, sstr, soff, sshape = xsrc, tuple(xstr), xoff, buffer_shape(xsrc)

    # ---- im2col: cols (N, G, Cg, *K, *P), or (G, Cg, *K, N, *P) for one wide gemm
    wide = _wide(N, G, Og, Cg * KK, P)
    cshape = (N, G, Cg) + tuple(ksp) + tuple(psp)
    if wide:
        lay = (G, Cg) + tuple(ksp) + (N,) + tuple(psp)
        ls = K.contiguous_strides(lay)
        nk = len(ksp)
        cstore = (ls[2 + nk], ls[0], ls[1]) + ls[2:2 + nk] + ls[3 + nk:]
    else:
        lay = cshape
        cstore = K.contiguous_strides(cshape)
    ckey = scratch(node, "cols", lay)
    pm = _Params(dt)
    pi = pm(src, sshape, "in")
    po = pm(ckey, lay, "out")
    load_str = (sstr[0], Cg * sstr[1], sstr[1]) + \
        tuple(r * s for r, s in zip(rhs, sstr[2:])) + \
        tuple(st * s for st, s in zip(stride, sstr[2:]))
    body = [K.Store(K.Access(po, cstore, 0), K.Load(K.Access(pi, load_str, soff), dt))]
    k, keys = _kernel(unique(name + "_im2col"), pm, cshape, body)
    steps.append(("kernel", k, keys))

    # ---- the weight as (G, Og, Cg*K) matrices
    wsrc, wstr, woff = _operand_view(w, materialised)
    wm = _weight_matrix(tuple(wstr), ws)
    if wm is not None:
        probe = K.Matmul("probe", (K.Param("p", dt, (1,)),) * 3, dt, (N, G), Og, P, Cg * KK,
                         K.MatOperand(0, 0, (0, 0), wm[0], wm[1]),
                         K.MatOperand(0, 0, (0, 0), P, 1), K.MatOperand(0, 0, (0, 0), P, 1))
        if probe.blas_layout("a") is None:
            wm = None
    if wm is None:
        wkey = scratch(node, "w", ws)
        pm = _Params(dt)
        pi = pm(wsrc, buffer_shape(wsrc), "in")
        po = pm(wkey, ws, "out")
        body = [K.Store(K.Access(po, K.contiguous_strides(ws), 0),
                        K.Load(K.Access(pi, tuple(wstr), woff), dt))]
        k, keys = _kernel(unique(name + "_weight"), pm, ws, body)
        steps.append(("kernel", k, keys))
        wsrc, wstr, woff = wkey, K.contiguous_strides(ws), 0
        wm = (Cg * KK, 1)
    row_w, col_w = wm

    if wide:
        return steps + _wide_gemm(name, node, unique, dt, (wsrc, woff, row_w, col_w, wstr),
                                  ckey, lay, N, G, O, Og, Cg * KK, P, ys)
    # ---- the batched gemm, writing NC[spatial] directly
    mp = _Params(dt)
    pa = mp(wsrc, buffer_shape(wsrc), "in")
    pb = mp(ckey, cshape, "in")
    pc = mp(node, ys, "out")
    mm = K.Matmul(name, tuple(mp.params), dt, (N, G), Og, P, Cg * KK,
                  K.MatOperand(pa, woff, (0, Og * wstr[0]), row_w, col_w),
                  K.MatOperand(pb, 0, (G * Cg * KK * P, Cg * KK * P), P, 1),
                  K.MatOperand(pc, 0, (O * P, Og * P), P, 1))
    steps.append(("matmul", _checked(mm), list(mp.keys)))
    return steps


WIDE = True


def _wide(N, G, Og, CK, P):
    """One gemm per group over all images (N*P columns) instead of N small ones: BLAS
    runs a few large products far better (and threads them), at the price of one
    transpose of the output (N, O, P) <- (O, N, P)."""
    return WIDE and N > 1


def _wide_gemm(name, node, unique, dt, wop, ckey, lay, N, G, O, Og, CK, P, ys):
    wsrc, woff, row_w, col_w, wstr = wop
    tshape = (O, N, P)
    tkey = scratch(node, "t", tshape)
    mp = _Params(dt)
    pa = mp(wsrc, buffer_shape(wsrc), "in")
    pb = mp(ckey, lay, "in")
    pc = mp(tkey, tshape, "out")
    mm = K.Matmul(unique(name + "_gemm"), tuple(mp.params), dt, (G,), Og, N * P, CK,
                  K.MatOperand(pa, woff, (Og * wstr[0],), row_w, col_w),
                  K.MatOperand(pb, 0, (CK * N * P,), N * P, 1),
                  K.MatOperand(pc, 0, (Og * N * P,), N * P, 1))
    steps = [("matmul", _checked(mm), list(mp.keys))]
    pm = _Params(dt)
    pi = pm(tkey, tshape, "in")
    po = pm(node, ys, "out")
    space = (N, O, P)
    body = [K.Store(K.Access(po, K.contiguous_strides(space), 0),
                    K.Load(K.Access(pi, (P, N * P, 1), 0), dt))]
    k, keys = _kernel(name, pm, space, body)
    steps.append(("kernel", k, keys))
    return steps


def _checked(mm):
    try:
        K.verify_matmul(mm)
    except K.KernelIRError as e:
        raise Unsupported(f"conv lowering: {e}") from None
    return mm


__all__ = ["lower_conv", "scratch"]
