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
from .lower import MOVES, Unsupported, dtype_name


def _operand_view(node, materialised):
    """(source node, per-dim strides over node's dims, offset): the deepest materialised
    value ``node`` is a movement view of, or node itself."""
    best = (node, K.contiguous_strides(node.shape), 0)
    m = IndexMap.identity(tuple(node.shape))
    x = node
    while x.op in MOVES and x.op != INPUT:
        src = x.inputs[0]
        m = pull(m, x.op, x.attrs, src.shape)
        if m is None:
            break
        x = src
        if x in materialised:
            acc = to_access(m, 0)
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
            params.append((key, K.Param(f"p{len(params)}", dt, tuple(src.shape) or (1,), role)))
        return index[key]

    def operand(x, rows, cols):
        for cand in (_operand_view(x, materialised), (x, K.contiguous_strides(x.shape), 0)):
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
