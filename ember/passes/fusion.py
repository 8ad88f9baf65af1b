"""Fusion: partition a graph into groups, each of which a backend runs as one kernel.

What fuses:

* elementwise ops, ``where``/``cast``, creation (``full``, ``iota``, ``constant``,
  ``random_bits``, all pure functions of the output index), ``gather`` (an indirect
  load) and movement ops (``reshape``, ``permute``, ``expand``, ``slice``, ``flip``,
  ``pad``, ``cat``, ``window``, ``slice_scatter``: index remappings, free in a kernel).
  A *pointwise* group computes every member at whatever indices its outputs need
  (values are recomputed, never materialised), so all its outputs share one shape.
* reductions, with their elementwise prologue and epilogue, into *row-local* groups: all
  main reductions of a group reduce an input of one shape F over the same axes A, so the
  kernel walks "rows" (the kept dims) and, per row, may run several passes over the
  reduced extent R (softmax: max, then sum of exp, then the normalised output).
  Members live at the *full* level (shape F), the *row* level (the kept shape, with or
  without keepdim), or — after a *post* reduction of row values to one element (the
  mean of an NLL over the batch) — the *post* level. A full-level member may read a
  row-level value computed from a reduction only through ``expand`` (the row's own
  statistic) and only when R <= ``ROW_LIMIT`` (the row stays in cache); a ``gather``
  along A may pick one element per row (NLL); nothing before the post level may read a
  post-level value (that would need all rows first: two kernels).
* ``matmul``/``conv_general`` are *extern* groups (a library call); a following bias add
  is recorded as the hint ``bias_add`` (BLAS beta=1) and stays in the next fused group.
  ``scatter``/``scatter_add``/``fold`` are *opaque* single-node groups. A pointwise group
  made only of ``reshape``/``permute``/``expand``/``slice``/``flip`` gets the hint ``view``
  (a strided view of one buffer, e.g. Linear's ``W.T`` feeding a matmul: a backend may
  pass strides instead of copying).

Groups are merged greedily along edges in node order. A merge that would create a cycle
between groups (a path producer -> other group -> consumer) is refused; the check is a
depth-first search pruned by topological positions, with no networkx in the pass. Every
refused merge is logged at level 5 with its reason. Groups are named after what they
hold: ``fused_mul_add_relu_3`` (user-level names from ``meta['fn']`` when the tracer
recorded them, else primitive names).
"""
from __future__ import annotations

import heapq
import math

from ..ir import CONSTANT, INPUT, STOP_GRADIENT, GraphBuilder, Group
from .log import emit
from .rewrite import rebuild

ROW_LIMIT = 32768
LEAVES = ("full", "iota", CONSTANT)
MOVEMENT = ("reshape", "permute", "expand", "slice", "flip", "pad", "cat", "window",
            "slice_scatter")
POINTWISE_OTHER = ("random_bits", "gather", STOP_GRADIENT) + LEAVES
REDUCTIONS = ("sum", "prod", "reduce_max", "reduce_min", "argmax")
EXTERN = ("matmul", "conv_general")
_FREE_MOVES = ("reshape", "permute", "expand", "slice", "flip")
_UNNAMED = set(LEAVES) | {"reshape", "permute", "expand", STOP_GRADIENT, "cast"}


class _Refuse(Exception):
    pass


def node_class(n):
    if n.op in REDUCTIONS:
        return "reduction"
    if n.op in EXTERN:
        return "extern"
    if n.kind == "elementwise" or n.op in MOVEMENT or n.op in POINTWISE_OTHER:
        return "pointwise"
    return "opaque"


def _red_axes(n):
    return (n.attrs["axis"],) if n.op == "argmax" else tuple(n.attrs["axes"])


class _G:
    __slots__ = ("id", "nodes", "cls", "min_pos", "max_pos", "succ", "pred")

    def __init__(self, id, node, pos):
        self.id = id
        self.nodes = [node]
        self.cls = node_class(node)
        self.min_pos = self.max_pos = pos
        self.succ, self.pred = set(), set()

    def label(self):
        ops = []
        for n in self.nodes:
            if n.op not in ops:
                ops.append(n.op)
        return f"group#{self.id}({','.join(ops[:5])}{',...' if len(ops) > 5 else ''})"


# ------------------------------------------------------------------ legality
def _moves(n):
    """True for index remappings (movement, gather); elementwise ops keep the index."""
    return n.kind != "elementwise" and n.op != STOP_GRADIENT


def _row_fits(R):
    if R > ROW_LIMIT:
        raise _Refuse(f"the reduced extent {R} exceeds ROW_LIMIT={ROW_LIMIT}: a row-local "
                      f"kernel would not keep the row in cache")


def analyze(nodes, escaping, levels=None):
    """Kind of a candidate group ('pointwise' or 'reduction') or raise _Refuse(reason).
    ``nodes`` in topological order; ``escaping`` the members read outside the group.
    ``levels``, if a dict, receives node -> level and the group's (F, A) under key None."""
    members = set(nodes)
    reds = [n for n in nodes if n.op in REDUCTIONS]
    if not reds:
        shapes = {n.shape for n in escaping}
        if len(shapes) > 1:
            raise _Refuse(f"a pointwise kernel writes one shape, outputs would be "
                          f"{sorted(shapes)}")
        return "pointwise"
    F, A = reds[0].inputs[0].shape, _red_axes(reds[0])
    rows_keep = tuple(1 if d in A else s for d, s in enumerate(F))
    rows_sq = tuple(s for d, s in enumerate(F) if d not in A)
    row_shapes = (rows_keep, rows_sq)
    row_n = math.prod(rows_sq)
    R = math.prod(F) // row_n if row_n else 0
    level, dep = {}, {}
    for n in nodes:
        ins = [i for i in n.inputs if i in members]
        d = any(dep[i] or i.op in REDUCTIONS for i in ins)
        lv_in = {level[i] for i in ins if dep[i] or i.op in REDUCTIONS}
        if n.op in REDUCTIONS:
            x = n.inputs[0]
            if x.shape == F and _red_axes(n) == A and not (x in members and level[x] != "full"
                                                           and dep[x]):
                lv = "row"
            elif x.shape in row_shapes and n.numel == 1 and "post" not in lv_in:
                lv = "post"
            else:
                raise _Refuse(f"{n.op} over {x.shape} axes {_red_axes(n)} is not a reduction "
                              f"of the group's rows ({F} over axes {A})")
        elif not d:
            lv = "full" if n.shape == F else "row" if n.shape in row_shapes else "free"
        elif "post" in lv_in:
            if n.numel != 1 or lv_in != {"post"}:
                raise _Refuse(f"{n.op} reads a value reduced over all rows at shape {n.shape}: "
                              f"that needs every row first (two kernels)")
            lv = "post"
        elif n.shape == F and "row" in lv_in:
            if n.op != "expand":
                raise _Refuse(f"{n.op} reads a row statistic at the full shape other than "
                              f"through a broadcast")
            _row_fits(R)
            lv = "full"
        elif n.op == "gather" and n.inputs[0] in members and dep[n.inputs[0]]:
            if n.attrs["axis"] not in A or n.shape not in (F, rows_keep):
                raise _Refuse(f"gather of {n.shape} along axis {n.attrs['axis']} does not stay "
                              f"within the rows of {F} (reduced axes {A})")
            _row_fits(R)
            lv = "full" if n.shape == F else "row"
        elif n.shape == F:
            if _moves(n) and not (n.op == "flip" and set(n.attrs["axes"]) <= set(A)):
                raise _Refuse(f"{n.op} moves a value computed from a reduction across rows")
            if _moves(n):
                _row_fits(R)
            lv = "full"
        elif n.shape in row_shapes:
            if lv_in - {"row"}:
                raise _Refuse(f"{n.op} maps a full-shape value {F} onto the row shape {n.shape} "
                              f"without a reduction")
            if _moves(n) and n.op != "reshape":
                raise _Refuse(f"{n.op} moves a row statistic across rows")
            lv = "row"
        else:
            raise _Refuse(f"{n.op} moves a reduced value to shape {n.shape}, which is neither "
                          f"the full shape {F} nor the row shape {rows_keep}")
        level[n], dep[n] = lv, d
    if levels is not None:
        levels.update(level)
        levels[None] = (F, A)
    for n in escaping:
        if level[n] == "free":
            raise _Refuse(f"output of shape {n.shape} is neither the full shape {F} nor the row "
                          f"shape {rows_keep} of the reduction")
    return "reduction"


# ------------------------------------------------------------------ pre-pass
def _clone_free_values(graph):
    """Give each use of a constant (or a movement of an input or constant) its own copy,
    so fusing it into one consumer never makes it an output of that consumer's group."""
    used = set()

    def free(n):
        return n.op in LEAVES or (n.op in _FREE_MOVES and (
            n.inputs[0].op == INPUT or free(n.inputs[0])))

    b = GraphBuilder(graph.name, capture_locations=False)
    m = {}

    def clone(n):
        if n.op == INPUT:
            return m[n]
        return b.copy(n, [clone(i) for i in n.inputs])

    for n in graph.nodes:
        ins = []
        for i in n.inputs:
            if free(i) and i in used:
                ins.append(clone(i))
            else:
                used.add(i)
                ins.append(m[i])
        m[n] = b.copy(n, ins)
    for name, v in graph.outputs:
        b.output(name, m[v])
    b.updates.update(graph.updates)
    return b.build()


# ------------------------------------------------------------------ the pass
def fuse(graph, log=None):
    """Return a copy of ``graph`` with ``groups`` filled in (see the module docstring)."""
    if graph.groups:
        graph = rebuild(graph)[0]
    graph = _clone_free_values(graph)
    pos = {n: k for k, n in enumerate(graph.nodes)}
    users = graph.users()
    outs = {v for _, v in graph.outputs}
    grp = {}
    for n in graph.nodes:
        if n.op != INPUT:
            grp[n] = _G(len(grp), n, pos[n])
    for n in graph.nodes:
        for i in n.inputs:
            if i in grp and n in grp:
                grp[i].succ.add(grp[n])
                grp[n].pred.add(grp[i])
    refused = set()

    def escaping(nodes):
        s = set(nodes)
        return [n for n in nodes if n in outs or any(u not in s for u in users[n])]

    def creates_cycle(P, C):
        limit, seen = C.max_pos, set()
        stack = [s for s in P.succ if s is not C]
        while stack:
            x = stack.pop()
            if x is C:
                return True
            if x in seen or x.min_pos > limit:
                continue
            seen.add(x)
            stack.extend(x.succ)
        return False

    def try_merge(P, C):
        try:
            for g in (P, C):
                if g.cls in ("extern", "opaque"):
                    raise _Refuse(f"{g.nodes[0].op} is {g.cls} (runs as its own call)")
            if creates_cycle(P, C):
                raise _Refuse("another group lies on a path between them (a cycle)")
            nodes = sorted(P.nodes + C.nodes, key=pos.__getitem__)
            cls = analyze(nodes, escaping(nodes))
        except _Refuse as e:
            key = (P.id, C.id, str(e))
            if key not in refused:
                refused.add(key)
                emit(log, 5, f"cannot fuse {P.label()} into {C.label()}: {e}")
            return
        emit(log, 5, f"fused {P.label()} into {C.label()}")
        C.nodes, C.cls = nodes, cls
        C.min_pos, C.max_pos = min(P.min_pos, C.min_pos), max(P.max_pos, C.max_pos)
        for n in P.nodes:
            grp[n] = C
        for s in P.succ:
            s.pred.discard(P)
            if s is not C:
                s.pred.add(C)
                C.succ.add(s)
        for p in P.pred:
            p.succ.discard(P)
            if p is not C:
                p.succ.add(C)
                C.pred.add(p)
        C.pred.discard(P)
        C.succ.discard(C)
        C.pred.discard(C)

    for n in graph.nodes:
        if n.op == INPUT:
            continue
        for i in n.inputs:
            if i.op != INPUT and grp[i] is not grp[n]:
                try_merge(grp[i], grp[n])
    return _emit(graph, grp, pos, users)


def _group_name(g, k):
    names = []
    for n in g.nodes:
        nm = n.meta.get("fn") or n.op
        if (n.meta.get("fn") or n.op not in _UNNAMED) and nm not in names:
            names.append(nm)
    if not names:
        names = [g.nodes[-1].op]
    if g.cls == "extern":
        return f"extern_{names[0]}_{k}"
    if g.cls == "opaque":
        return f"{names[0]}_{k}"
    return f"fused_{'_'.join(names[:4])}_{k}"


def _emit(graph, grp, pos, users):
    outs = {v for _, v in graph.outputs}
    groups = list({id(g): g for g in grp.values()}.values())
    indeg = {g: len(g.pred) for g in groups}
    heap = [(g.min_pos, g.id, g) for g in groups if indeg[g] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, _, g = heapq.heappop(heap)
        order.append(g)
        for s in g.succ:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(heap, (s.min_pos, s.id, s))
    if len(order) != len(groups):  # pragma: no cover - the merge check forbids it
        raise RuntimeError("fusion produced a cycle between groups")
    b = GraphBuilder(graph.name, capture_locations=False)
    m = {}
    for n in graph.nodes:
        if n.op == INPUT:
            m[n] = b.copy(n, ())
    out_groups = []
    for k, g in enumerate(order):
        new_nodes = []
        for n in g.nodes:
            m[n] = b.copy(n, [m[i] for i in n.inputs])
            new_nodes.append(m[n])
        hints = {}
        if g.cls == "reduction":
            # the row structure, for code generators: per node meta['level'] is
            # full / row / post (or free: a prologue value recomputed where read)
            levels = {}
            analyze(g.nodes, [n for n in g.nodes if n in outs or
                              any(grp[u] is not g for u in users[n])], levels)
            hints["shape"], hints["axes"] = levels[None]
            for n in g.nodes:
                m[n].meta["level"] = levels[n]
        if g.cls == "pointwise" and all(n.op in _FREE_MOVES for n in g.nodes):
            hints["view"] = True  # a strided view of one buffer: a backend may alias, not copy
        if g.cls == "extern":
            us = users[g.nodes[-1]]
            if len(us) == 1 and us[0].op == "add" and any(
                    i.op == "expand" for i in us[0].inputs):
                hints["bias_add"] = us[0]  # replaced by its id once it is built
        out_groups.append(Group(_group_name(g, k), g.cls, new_nodes, hints))
    for name, v in graph.outputs:
        b.output(name, m[v])
    b.updates.update(graph.updates)
    for G in out_groups:
        if "bias_add" in G.hints:
            G.hints["bias_add"] = m[G.hints["bias_add"]].id
    return b.build(out_groups)
