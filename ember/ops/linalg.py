"""Extern primitives backed by BLAS: batched ``matmul`` and ``conv_general``.

``conv_general`` is JAX's conv_general_dilated in NC[spatial] / OI[spatial] layout; its
VJPs are ``conv_general`` again with transposed attributes, so convolution, transposed
convolution (``lhs_dilation``) and their gradients of any order share one kernel.
"""
from __future__ import annotations

import math

from . import lax as L
from .reduction import acc_dtype
from .registry import EXTERN, ShapeError, defprim


# ---------------------------------------------------------------- matmul
def _matmul_meta(shapes, dtypes):
    (sa, sb), (da, db) = shapes, dtypes
    if len(sa) < 2 or len(sb) < 2:
        raise ShapeError(f"matmul: primitive operands need >= 2 dims, got {sa} and {sb}")
    if sa[-1] != sb[-2]:
        raise ShapeError(f"matmul: shapes {sa} and {sb} cannot be multiplied "
                         f"({sa[-2]}x{sa[-1]} and {sb[-2]}x{sb[-1]})")
    if da is not db:
        raise TypeError(f"matmul: operands must have one dtype, got {da!r} and {db!r}")
    if da.name == "bool":
        raise TypeError("matmul: not defined for bool")
    batch = broadcast_shapes("matmul", sa[:-2], sb[:-2])
    return batch + (sa[-2], sb[-1]), da


def broadcast_shapes(name, a, b):
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            raise ShapeError(f"{name}: shapes {a} and {b} are not broadcastable")
        out.append(y if x == 1 else x)
    return tuple(out)


def _mT(x):
    n = len(L.shape_of(x))
    return L.permute(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_vjp(g, out, a, b, needs=(True, True)):
    return (L.sum_to_shape(L.matmul(g, _mT(b)), L.shape_of(a)) if needs[0] else None,
            L.sum_to_shape(L.matmul(_mT(a), g), L.shape_of(b)) if needs[1] else None)


def _matmul_kernel(xp, a, b):
    acc = acc_dtype(xp, a)
    if acc != a.dtype:  # 2-byte floats: multiply-accumulate in float32, round once
        return xp.matmul(a.astype(acc), b.astype(acc)).astype(a.dtype)
    return xp.matmul(a, b)


defprim("matmul", kind=EXTERN, meta=_matmul_meta, nargs=2, vjp_needs=True,
        eager=_matmul_kernel, vjp=_matmul_vjp, grad_name="MmBackward0",
        doc="batched matrix product (..., m, k) @ (..., k, n) with batch broadcasting")


# ---------------------------------------------------------------- conv_general
def _dilate(n, d):
    return 0 if n == 0 else 1 + d * (n - 1)


def conv_out_spatial(in_sp, k_sp, stride, padding, lhs_dilation, rhs_dilation):
    return tuple((_dilate(n, ld) + lo + hi - _dilate(k, rd)) // s + 1
                 for n, k, s, (lo, hi), ld, rd in zip(in_sp, k_sp, stride, padding,
                                                      lhs_dilation, rhs_dilation))


def _conv_meta(shapes, dtypes, stride, padding, lhs_dilation, rhs_dilation, groups):
    xs, ws = shapes
    nsp = len(xs) - 2
    if nsp < 1 or len(ws) != len(xs):
        raise ShapeError(f"conv_general: input {xs} and weight {ws} need the same rank >= 3 "
                         f"(N, C, *spatial) and (O, C/groups, *kernel)")
    if not (len(stride) == len(padding) == len(lhs_dilation) == len(rhs_dilation) == nsp):
        raise ShapeError(f"conv_general: stride/padding/dilations need {nsp} entries each")
    if groups < 1 or xs[1] % groups or ws[0] % groups:
        raise ShapeError(f"conv_general: channels {xs[1]} and output channels {ws[0]} must be "
                         f"divisible by groups={groups}")
    if ws[1] * groups != xs[1]:
        raise ShapeError(f"conv_general: weight {ws} expects {ws[1] * groups} input channels "
                         f"(groups={groups}), input {xs} has {xs[1]}")
    if dtypes[0] is not dtypes[1]:
        raise TypeError(f"conv_general: input {dtypes[0]!r} and weight {dtypes[1]!r} differ")
    out = conv_out_spatial(xs[2:], ws[2:], stride, padding, lhs_dilation, rhs_dilation)
    if any(o <= 0 for o in out):
        raise ShapeError(f"conv_general: output spatial size {out} is not positive for input "
                         f"{xs}, kernel {ws[2:]}, stride {stride}, padding {padding}")
    return (xs[0], ws[0]) + out, dtypes[0]


def _conv_kernel(xp, x, w, stride, padding, lhs_dilation, rhs_dilation, groups):
    n, c = x.shape[:2]
    nsp = x.ndim - 2
    if any(d > 1 for d in lhs_dilation):
        dil = xp.zeros((n, c) + tuple(_dilate(s, d) for s, d in zip(x.shape[2:], lhs_dilation)),
                       dtype=x.dtype)
        dil[(Ellipsis,) + tuple(slice(None, None, d) for d in lhs_dilation)] = x
        x = dil
    neg = tuple(slice(max(-lo, 0), x.shape[2 + i] - max(-hi, 0))
                for i, (lo, hi) in enumerate(padding))
    x = x[(slice(None), slice(None)) + neg]
    pos = ((0, 0), (0, 0)) + tuple((max(lo, 0), max(hi, 0)) for lo, hi in padding)
    if any(p != (0, 0) for p in pos):
        x = xp.pad(x, pos)
    k = w.shape[2:]
    win = xp.windows(x, k, stride, rhs_dilation)            # (N, C, *out, *k)
    out_sp = win.shape[2:2 + nsp]
    p, kk, o = math.prod(out_sp), math.prod(k), w.shape[0]
    cg, og = c // groups, o // groups
    # im2col in ONE copy of the windows view (splitting C into (G, Cg) is a free stride
    # split), laid out so the copy's innermost axis is the longer of the output width and
    # the kernel width: runs of 3 floats (the taps of a 3x3 kernel) made the copy ~40% of
    # an eager CNN step, while weight gradients (3x3 outputs, 28x28 "kernels") want the
    # taps innermost
    win = win.reshape((n, groups, cg) + tuple(out_sp) + tuple(k)) if groups > 1 else \
        win[:, None]                                         # (N, G, Cg, *out, *k)
    wm = w.reshape((groups, og, cg * kk))
    sp, kd = tuple(range(3, 3 + nsp)), tuple(range(3 + nsp, 3 + 2 * nsp))
    if out_sp[-1] >= k[-1]:
        cols = xp.transpose(win, (1, 2) + kd + (0,) + sp).reshape((groups, cg * kk, n * p))
        y = _matmul_kernel(xp, wm, cols)                                 # (G, Og, N*P)
        y = xp.transpose(y.reshape((groups, og, n, p)), (2, 0, 1, 3))   # (N, G, Og, P)
    else:
        cols = xp.transpose(win, (0, 1) + sp + (2,) + kd).reshape((n, groups, p, cg * kk))
        y = xp.transpose(_matmul_kernel(xp, cols, xp.transpose(wm, (0, 2, 1))),
                         (0, 1, 3, 2))                                   # (N, G, Og, P)
    return xp.ascontiguousarray(y).reshape((n, o) + tuple(out_sp))


def _pads_lhs(in_sp, k_sp, stride, out_sp, padding, lhs_dilation, rhs_dilation):
    res = []
    for n, k, s, o, (lo, _), ld, rd in zip(in_sp, k_sp, stride, out_sp, padding, lhs_dilation,
                                          rhs_dilation):
        before = _dilate(k, rd) - lo - 1
        after = _dilate(n, ld) + _dilate(k, rd) - 1 - _dilate(o, s) - before
        res.append((before, after))
    return tuple(res)


def _pads_rhs(in_sp, k_sp, stride, out_sp, padding, lhs_dilation, rhs_dilation):
    res = []
    for n, k, s, o, (lo, _), ld, rd in zip(in_sp, k_sp, stride, out_sp, padding, lhs_dilation,
                                          rhs_dilation):
        hi = (_dilate(o, s) - _dilate(n, ld)) + (_dilate(k, rd) - lo - 1)
        res.append((lo, hi))
    return tuple(res)


def _conv_vjp(g, out, x, w, stride, padding, lhs_dilation, rhs_dilation, groups,
              needs=(True, True)):
    xs, ws, gs = L.shape_of(x), L.shape_of(w), L.shape_of(g)
    nsp = len(xs) - 2
    sp = tuple(range(2, 2 + nsp))
    gx = gw = None
    if needs[0]:
        gx = _conv_grad_input(g, w, xs, ws, gs, sp, stride, padding, lhs_dilation,
                              rhs_dilation, groups)
    if needs[1]:
        gw = _conv_grad_weight(g, x, xs, ws, gs, sp, stride, padding, lhs_dilation,
                               rhs_dilation, groups)
    return gx, gw


def _conv_grad_input(g, w, xs, ws, gs, sp, stride, padding, lhs_dilation, rhs_dilation, groups):
    """Correlate g with the flipped, O<->I transposed kernel, striding by lhs_dilation."""
    o, cg = ws[0], ws[1]
    og = o // groups
    wt = L.reshape(w, (groups, og, cg) + ws[2:])
    wt = L.permute(wt, (0, 2, 1) + tuple(i + 1 for i in sp))
    wt = L.flip(L.reshape(wt, (groups * cg, og) + ws[2:]), sp)
    return L.conv_general(g, wt, lhs_dilation, _pads_lhs(xs[2:], ws[2:], stride, gs[2:],
                                                         padding, lhs_dilation, rhs_dilation),
                          stride, rhs_dilation, groups)


def _conv_grad_weight(g, x, xs, ws, gs, sp, stride, padding, lhs_dilation, rhs_dilation, groups):
    """Batch and channels swap roles; groups become a grouped conv over (G*N) features."""
    o, cg = ws[0], ws[1]
    og = o // groups
    n = xs[0]
    xt = L.reshape(x, (n, groups, cg) + xs[2:])
    xt = L.permute(xt, (2, 1, 0) + tuple(i + 1 for i in sp))
    xt = L.reshape(xt, (cg, groups * n) + xs[2:])
    gt = L.permute(g, (1, 0) + sp)
    gw = L.conv_general(xt, gt, rhs_dilation, _pads_rhs(xs[2:], ws[2:], stride, gs[2:], padding,
                                                        lhs_dilation, rhs_dilation),
                        lhs_dilation, stride, groups)          # (Cg, G*Og, *k')
    gw = L.reshape(gw, (cg, groups, og) + ws[2:])
    gw = L.permute(gw, (1, 2, 0) + tuple(i + 1 for i in sp))
    return L.reshape(gw, ws)


defprim("conv_general", kind=EXTERN, meta=_conv_meta, eager=_conv_kernel, vjp=_conv_vjp, nargs=2,
        vjp_needs=True,
        grad_name="ConvolutionBackward0",
        doc="N-d grouped convolution (cross-correlation) with stride, (lo, hi) padding, "
            "lhs (input) dilation and rhs (kernel) dilation")
