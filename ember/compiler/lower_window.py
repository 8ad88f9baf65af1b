"""Lowering of sliding windows: max pooling (``window`` -> ``reshape`` -> ``argmax`` ->
``gather``) and its gradient's ``fold`` (overlap-add), as generated kernels.

* ``window`` is affine: output index (lead, o, k) reads input (lead, o*stride + k*dilation),
  so ``pull_window`` maps an ``IndexMap`` through it like any movement op.
* Pooling flattens the window dims before ``argmax`` (``reshape (..., kh, kw) -> (..., kh*kw)``
  of a computed value), which has no per-dimension map over the flat axis. The reduction
  kernel therefore iterates over the *unflattened* window: the reduced axis of extent kh*kw
  becomes inner axes (kh, kw), and the flat axis is ``kw*i_kh + i_kw`` - affine again.
  ``argmax`` over several inner axes is the flat index over them, as the primitive's.
* ``gather(x, argmax(x))`` (the pooled value) lives in the next fusion group; when that
  group is just the gather and reshapes of it, the reduction kernel computes it too, as
  ``Reduce argmax_value(x)`` (exactly the element at the argmax, nan and signed zeros
  included), stores it in the gather group's outputs, and the gather group is skipped;
  the windowed values are then never materialised, and an argmax nothing else reads
  (inference) is not computed at all.
* ``fold`` (the adjoint of ``window``, the pooling gradient) writes window element
  (lead, o, k) to (lead, o*stride + k*dilation): when that map is injective (windows do not
  overlap, e.g. MaxPool2d(2)) it is one kernel storing at affine positions (after a zero
  fill when the windows do not cover the output); overlapping windows get one
  accumulate kernel per window offset (each injective), after the zero fill.
"""
from __future__ import annotations

import math

from ..ir import INPUT
from . import kernel_ir as K
from .kernel_views import IndexMap, pull
from .lower import (MOVES, REDUCTIONS, Unsupported, _Builder, _finish, _row_map, _scalar,
                    _store_access, dtype_name, reduced_input)


def pull_window(m, attrs, in_shape):
    """The map on ``window``'s input whose output is read through ``m`` (None if flat)."""
    if m.flat:
        return None
    win, strides, dil = attrs["window"], attrs["strides"], attrs["dilation"]
    k = len(win)
    in_shape = tuple(in_shape)
    nl = len(in_shape) - k
    rows = list(m.rows[:nl])
    off = list(m.offset[:nl])
    for j in range(k):
        ro, rk = m.rows[nl + j], m.rows[nl + k + j]
        rows.append(tuple(strides[j] * a + dil[j] * b for a, b in zip(ro, rk)))
        off.append(strides[j] * m.offset[nl + j] + dil[j] * m.offset[nl + k + j])
    return IndexMap(in_shape, tuple(rows), tuple(off), m.space)


# ------------------------------------------------------------------ argmax (max pooling)

def _split_axis(nodes, members, F, A):
    """(axis, sub-extents) when a member reshape flattens trailing dims of a computed value
    into the single reduced axis (pooling's window flattening), else None."""
    if len(A) != 1:
        return None
    a = A[0]
    for n in nodes:
        if n.op != "reshape" or tuple(n.shape) != F or n.inputs[0] not in members:
            continue
        s = tuple(n.inputs[0].shape)
        extra = len(s) - len(F)
        if extra <= 0 or s[:a] != F[:a] or s[a + extra + 1:] != F[a + 1:]:
            continue
        sub = s[a:a + extra + 1]
        if math.prod(sub) == F[a] and all(e > 1 for e in sub):
            return a, sub
    return None


def _absorbable_gathers(graph, grp, users, group_of):
    """{gather node: (its group, chain outputs)} for gathers of a member's argmax whose
    group is only that gather followed by reshapes."""
    members = set(grp.nodes)
    found = {}
    for r in grp.nodes:
        if r.op != "argmax" or not r.attrs.get("keepdim", False):
            continue
        for u in users.get(r, ()):
            if u.op != "gather" or u in members or u.inputs[1] is not r \
                    or u.dtype.name not in ("float32", "float64") \
                    or u.inputs[0] is not r.inputs[0] \
                    or u.attrs["axis"] % len(u.shape) != r.attrs["axis"] % len(u.shape):
                continue
            g = group_of.get(u)
            if g is None or g.nodes[0] is not u:
                continue
            chain = [u]
            for n in g.nodes[1:]:
                if n.op != "reshape" or n.inputs[0] is not chain[-1]:
                    chain = None
                    break
                chain.append(n)
            if chain is None:
                continue
            outs = graph.group_outputs(g, users)
            if outs and all(o in chain for o in outs):
                found[u] = (g, outs)
    return found


def lower_argmax_group(graph, grp, name, outs, users, group_of, key):
    """A reduction group with an ``argmax`` (max pooling): lowered over the unflattened
    window with absorbed gathers, or None when neither applies (the generic lowering
    then handles the group)."""
    F, A = grp.hints.get("shape"), grp.hints.get("axes")
    if F is None or not any(n.op == "argmax" for n in grp.nodes):
        return None
    if any(n.meta.get("level") == "post" for n in grp.nodes):
        return None
    F, A = tuple(F), tuple(sorted(A))
    members = set(grp.nodes)
    split = _split_axis(grp.nodes, members, F, A)
    gathers = _absorbable_gathers(graph, grp, users, group_of)
    if split is None and not gathers:
        return None
    absorbed = set(gathers)
    # values read only by absorbed gathers need not be stored
    graph_outs = {v for _, v in graph.outputs}

    def only_for_gathers(o):
        us = users.get(o, ())
        return o not in graph_outs and any(u in absorbed for u in us) and all(
            u in absorbed or u in members for u in us)
    outs = [o for o in outs if not only_for_gathers(o)]
    extra_outs = [o for g, go in gathers.values() for o in go]
    if gathers and len(A) == 1 and F[A[0]] <= UNROLL_MAX:
        try:
            return _lower_unrolled(name, grp.nodes, outs, gathers, key, F, A), extra_outs
        except Unsupported:
            pass
    try:
        k = _lower(name, grp.nodes, outs, gathers, key, F, A, split)
    except Unsupported:
        if split is not None:
            raise               # the generic lowering cannot flatten the window either
        return None
    return k, extra_outs


UNROLL_MAX = 4     # windows up to 2x2 are unrolled: the select chain is a DAG of depth W whose
#                   tree walks (hashing, verify) grow as 2**W, and longer windows gain little


def _lower_unrolled(name, nodes, outputs, gathers, buffers, F, A):
    """Max pooling as a *pointwise* kernel over the pooled positions: the W window elements
    are W loads (constant offsets along the flattened window axis) folded with
    first-maximum-wins selects, so the kernel vectorises across output positions instead
    of running a W-element reduction loop per position. The selects are exactly the
    argmax rule (a greater value or the first nan wins; ties keep the first), giving the
    argmax (when stored) and the pooled value at once."""
    a = A[0]
    W = F[a]
    order = tuple(d for d in range(len(F)) if d != a)
    space = tuple(F[d] for d in order)
    r = len(space)
    red = [n for n in nodes if n.op in REDUCTIONS]
    if any(n.op != "argmax" for n in red):
        raise Unsupported("unrolled pooling handles argmax groups only")
    if any(tuple(o.shape) == F for o in outputs):
        raise Unsupported("a full-level output needs the window loop")
    unit = [tuple(1 if i == j else 0 for i in range(r)) for j in range(r)]
    b = _Builder(name, set(nodes), buffers)
    body = []

    def elem(x, j):
        rows = tuple((0,) * r if d == a else unit[order.index(d)] for d in range(len(F)))
        off = tuple(j if d == a else 0 for d in range(len(F)))
        return b.value(x, IndexMap(F, rows, off, space))

    def row_access(o):
        keep = tuple(1 if d == a else s for d, s in enumerate(F))
        p = b.param(o, "out")
        cs = K.contiguous_strides(keep)
        return K.Access(p, tuple(cs[d] for d in order), 0)

    for n in red:
        x = n.inputs[0]
        if tuple(x.shape) != F or n.attrs["axis"] % len(F) != a:
            raise Unsupported(f"argmax {n.name} does not reduce the group's axis")
        dt = dtype_name(x)
        if dt not in ("float32", "float64"):
            raise Unsupported(f"unrolled pooling of {dt}")
        best = elem(x, 0)
        idx = K.Const(0, "int64")
        for j in range(1, W):
            v = elem(x, j)
            better = K.Op("or", (K.Op("gt", (v, best), "bool"),
                                 K.Op("and", (K.Op("ne", (v, v), "bool"),
                                              K.Op("eq", (best, best), "bool")), "bool")),
                          "bool")
            best = K.Op("where", (better, v, best), dt)
            idx = K.Op("where", (better, K.Const(j, "int64"), idx), "int64")
        if n in outputs:
            body.append(K.Store(row_access(n), idx))
        for g, (_, gouts) in gathers.items():
            if g.inputs[1] is n:
                for o in gouts:
                    body.append(K.Store(row_access(o), best))
    for o in outputs:
        if o not in red:
            raise Unsupported(f"output {o.name} of an unrolled pooling group")
    return _finish(name, b, space, (), body)


def _lower(name, nodes, outputs, gathers, buffers, F, A, split):
    order = tuple(d for d in range(len(F)) if d not in A) + A
    n_outer = len(F) - len(A)
    sub = split[1] if split else (F[A[0]],) if len(A) == 1 else None
    if sub is None:
        raise Unsupported("argmax over several axes")
    space = tuple(F[o] for o in order[:n_outer]) + tuple(sub)
    # full-level map: outer axes as in F, the reduced axis = flat index over ``sub``
    sub_strides = K.contiguous_strides(sub)
    r = len(space)
    rows = []
    for d in range(len(F)):
        if d == A[0]:
            rows.append(tuple(sub_strides[j - n_outer] if j >= n_outer else 0
                              for j in range(r)))
        else:
            j = order.index(d)
            rows.append(tuple(1 if i == j else 0 for i in range(r)))
    full = IndexMap(F, tuple(rows), (0,) * len(F), space)

    def row_map(shape):
        m = _row_map(shape, F, A, order)
        return IndexMap(m.shape, tuple(rw + (0,) * (len(sub) - 1) for rw in m.rows),
                        m.offset, space)

    b = _Builder(name, set(nodes), buffers)
    body, emitted = [], set()
    read_inside = {i for n in nodes for i in n.inputs}
    for n in nodes:
        if n.op in REDUCTIONS:
            x = reduced_input(n, F, A)
            # an argmax read only by absorbed gathers (inference pooling) is not computed:
            # its value is one argmax_value reduction
            if n.op != "argmax" or n in outputs or n in read_inside:
                rname = f"r{len(b.reduces)}"
                red = K.Reduce(rname, REDUCTIONS[n.op], b.value(x, full))
                body.append(red)
                b.reduces.append(red)
                b.acc[n] = K.AccRef(rname, red.dtype)
            for g, (_, gouts) in gathers.items():
                if g.inputs[1] is n:
                    dt = dtype_name(g)
                    gname = f"r{len(b.reduces)}"
                    gred = K.Reduce(gname, "argmax_value", b.value(x, full))
                    body.append(gred)
                    b.reduces.append(gred)
                    for o in gouts:
                        # a reshape of the (kept-dim) gather result: same row-major order
                        p = b.param(o, "out")
                        keep = tuple(1 if d in A else s for d, s in enumerate(F))
                        ident = row_map(keep)
                        acc = K.Access(p, _contig_over(ident, keep), 0)
                        body.append(K.Store(acc, K.AccRef(gname, dt)))
        if n in outputs and n not in emitted:
            emitted.add(n)
            m = full if tuple(n.shape) == F else row_map(n.shape)
            body.append(K.Store(_store_access(b, n, m), b.value(n, m)))
    for o in outputs:
        if o not in emitted:
            raise Unsupported(f"output {o.name} is not a member of the group")
    return _finish(name, b, space[:n_outer], space[n_outer:], body)


def _contig_over(m, shape):
    cs = K.contiguous_strides(shape)
    return tuple(sum(cs[k] * m.rows[k][d] for k in range(len(shape)))
                 for d in range(len(m.space)))


# ------------------------------------------------------------------ fold (pooling gradient)

def _view_of(node, materialised):
    """(source node, map over node's identity) walking movement ops back to a
    materialised buffer (the reshape view of a scatter_add in the pooling gradient)."""
    m = IndexMap.identity(tuple(node.shape))
    best = (node, m)
    x = node
    while x.op in MOVES and x.op != INPUT:
        src = x.inputs[0]
        m = pull(m, x.op, x.attrs, src.shape)
        if m is None or m.flat:
            break
        x = src
        if x in materialised:
            best = (x, m)
    return best


def _window_positions(attrs, lead, out_sp, win):
    """Per window axis j: the output position o*stride + k*dilation; injective when the
    windows do not overlap, covering when they also tile the spatial dims."""
    strides, dil, spatial = attrs["strides"], attrs["dilation"], attrs["spatial"]
    inj = all(s >= d * (w - 1) + 1 or w == 1 or o == 1
              for s, d, w, o in zip(strides, dil, win, out_sp))
    # covering: every spatial position is hit (only checked for the injective case)
    cover = inj and all((d == 1 and s == w and o * s == n) or (w == 1 and s == 1 and o == n)
                        for s, d, w, o, n in zip(strides, dil, win, out_sp, spatial))
    return inj, cover


def lower_fold(name, node, materialised, unique):
    """[(kind, kernel, keys)] for a ``fold`` node."""
    (src_node,) = node.inputs
    dt = dtype_name(node)
    if dt == "bool":
        raise Unsupported("fold of bool")
    win = tuple(node.attrs["window"])
    k = len(win)
    s_in = tuple(src_node.shape)
    if min(s_in + tuple(node.shape)) <= 0:
        raise Unsupported("fold with an empty dimension")
    lead, out_sp = s_in[:len(s_in) - 2 * k], s_in[len(s_in) - 2 * k:len(s_in) - k]
    strides, dil = node.attrs["strides"], node.attrs["dilation"]
    inj, cover = _window_positions(node.attrs, lead, out_sp, win)
    src, m = _view_of(src_node, materialised)
    ys = tuple(node.shape)
    ycs = K.contiguous_strides(ys)
    nl = len(lead)
    steps = []

    def src_access(p, space_dims):
        # map over s_in's identity -> strides over the kernel space (the same dims)
        cs = K.contiguous_strides(src.shape)
        st = tuple(sum(cs[q] * m.rows[q][d] for q in range(len(src.shape)))
                   for d in range(len(s_in)))
        off = sum(c * o for c, o in zip(cs, m.offset))
        return st, off

    sst, soff = src_access(None, None)
    out_st_lead = ycs[:nl]
    if not cover:
        from .lower_conv import _fill
        kf, keys = _fill(unique(name + "_zero"), node, ys, dt, _scalar(0, dt))
        steps.append(("kernel", kf, keys))
    if inj:
        kname = name if not steps else unique(name + "_scatter")
        store_strides = out_st_lead + tuple(s * c for s, c in zip(strides, ycs[nl:])) + \
            tuple(d * c for d, c in zip(dil, ycs[nl:]))
        kk = None
        if src.op == "scatter_add":
            try:
                kk = _fold_of_scatter(kname, node, src, m, store_strides, materialised)
            except Unsupported:
                kk = None
        if kk is None:
            from .lower_conv import _Params, _kernel
            pm = _Params(dt)
            pi = pm(src, src.shape, "in")
            po = pm(node, ys, "inout" if not cover else "out")
            body = [K.Store(K.Access(po, store_strides, 0),
                            K.Load(K.Access(pi, sst, soff), dt))]
            kk = _kernel(kname, pm, s_in, body)
        steps.append(("kernel",) + kk)
        return steps
    # overlapping windows: one accumulate kernel per window offset
    from .lower_conv import _Params, _kernel
    import itertools
    space = lead + tuple(out_sp)
    for pos in itertools.product(*(range(w) for w in win)):
        pm = _Params(dt)
        pi = pm(src, src.shape, "in")
        po = pm(node, ys, "inout")
        at = out_st_lead + tuple(s * c for s, c in zip(strides, ycs[nl:]))
        aoff = sum(p * d * c for p, d, c in zip(pos, dil, ycs[nl:]))
        acc = K.Access(po, at, aoff)
        ld = K.Access(pi, sst[:nl + k], soff + sum(p * s for p, s in zip(pos, sst[nl + k:])))
        body = [K.Store(acc, K.Op("add", (K.Load(acc, dt), K.Load(ld, dt)), dt))]
        kk, keys = _kernel(unique(name + "_acc"), pm, space, body)
        steps.append(("kernel", kk, keys))
    return steps


def _fold_of_scatter(name, node, sc, m, store_strides, materialised):
    """The pooling gradient ``fold(reshape(scatter_add(zeros, argmax, g)))`` as ONE kernel
    over the windows: element = ``0 + where(i_axis == argmax, g, 0)`` (the one-per-row
    scatter's own formula), stored at its fold position; the zero fill, the scatter's
    buffer and the views of ``g`` are never materialised (their steps become dead)."""
    x0, idx, g = sc.inputs
    ax = sc.attrs["axis"] % len(sc.shape)
    dt = dtype_name(node)
    shape = tuple(sc.shape)
    if x0.op != "full" or idx.shape[ax] != 1 or any(
            a != b for d, (a, b) in enumerate(zip(idx.shape, shape)) if d != ax) \
            or tuple(g.shape) != tuple(idx.shape) or m.flat:
        raise Unsupported("not a one-per-row scatter_add into a constant")
    members = _view_chain(idx, materialised) | _view_chain(g, materialised)
    b = _Builder(name, members, lambda n: n)
    # iterate (..., o_last-1, k_last-1, k_last, o_last): the innermost loop runs along the
    # output positions (g and argmax unit stride, the hit test loop-invariant) instead of
    # along a window of 2
    nk = len(node.attrs["window"])
    r = len(m.space)
    lead = r - 2 * nk
    perm = list(range(lead))
    for j in range(nk - 1):
        perm += [lead + j, lead + nk + j]
    perm += [lead + 2 * nk - 1, lead + nk - 1]
    m = IndexMap(m.shape, tuple(tuple(row[q] for q in perm) for row in m.rows), m.offset,
                 tuple(m.space[q] for q in perm))
    store_strides = tuple(store_strides[q] for q in perm)
    po = b.param(node, "out")
    rows = tuple((0,) * len(m.space) if d == ax else r for d, r in enumerate(m.rows))
    off = tuple(0 if d == ax else o for d, o in enumerate(m.offset))
    rm = IndexMap(tuple(idx.shape), rows, off, m.space)
    iv = b.value(idx, rm)
    if iv.dtype != "int64":
        iv = K.Op("cast", (iv,), "int64")
    pos = K.Const(int(m.offset[ax]), "int64")
    for d, c in enumerate(m.rows[ax]):
        if c:
            pos = K.Op("add", (pos, K.Op("mul", (K.IndexVar(d), K.Const(c, "int64")),
                                         "int64")), "int64")
    zero = K.Const(_scalar(0, dt), dt)
    hit = K.Op("eq", (pos, iv), "bool")
    v = K.Op("add", (K.Const(_scalar(x0.attrs["value"], dt), dt),
                     K.Op("where", (hit, b.value(g, rm), zero), dt)), dt)
    body = [K.Store(K.Access(po, store_strides, 0), v)]
    return _finish(name, b, m.space, (), body)


def _view_chain(node, materialised):
    """The movement nodes between ``node`` and the deepest materialised value it is a view
    of (read through them instead of through the copies their view groups would make)."""
    chain, best, x = [], set(), node
    while x.op in MOVES and x.op != INPUT:
        chain.append(x)
        x = x.inputs[0]
        if x in materialised:
            best = set(chain)
    return best


__all__ = ["pull_window", "lower_argmax_group", "lower_fold"]
