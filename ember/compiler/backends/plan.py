"""From a fused graph to a program plan: ordered steps and a buffer plan.

Every fusion group becomes one step: a native kernel (``lower.py``), a native gemm
(``lower_matmul.py``), two kernels for a row-local group with a post-level reduction, or an
*interp step* (the group's nodes run with the primitives' eager kernels) when the lowering
cannot handle it; that fallback is logged at debug level 5 with the reason.

Buffers (one per value crossing a step boundary) are classified:

* ``input``  a graph input (the caller's array, made contiguous if it is not);
* ``const``  a constant table (owned by the program);
* ``output`` a graph output: a fresh array per call, never in the arena;
* ``temp``   everything else: an offset into one arena, assigned by liveness so buffers
  whose lifetimes do not overlap share bytes (``arena_bytes`` is the peak).

Steps whose results nobody reads are dropped (e.g. a view group whose only reader is a
matmul that reads the viewed buffer with transpose flags instead).
"""
from __future__ import annotations

import numpy as np

from ...ir import CONSTANT, INPUT, Group
from ...passes.log import emit
from .. import kernel_ir as K
from ..lower import (INPUT_LAYOUTS, Unsupported, buffer_shape, lower_pointwise,
                     lower_reduction, lower_scatter, reduction_shape, split_post)
from ..lower_conv import lower_conv
from ..lower_pad import split_pads
from ..lower_window import lower_argmax_group, lower_fold
from ..lower_matmul import lower_matmul, transpose_results

ALIGN = 64


class Step:
    __slots__ = ("kind", "name", "kernel", "keys", "group", "ins", "outs", "reason")

    def __init__(self, kind, name, kernel=None, keys=(), group=None, ins=(), outs=(),
                 reason=None):
        self.kind = kind          # "kernel" | "matmul" | "interp"
        self.name = name
        self.kernel = kernel
        self.keys = list(keys)    # buffer keys, one per kernel param
        self.group = group
        self.ins = list(ins)
        self.outs = list(outs)
        self.reason = reason

    def reads(self):
        if self.kind == "interp":
            return self.ins
        return [k for k, p in zip(self.keys, self.kernel.params) if p.role != "out"]

    def writes(self):
        if self.kind == "interp":
            return self.outs
        return [k for k, p in zip(self.keys, self.kernel.params) if p.role != "in"]


class Plan:
    """steps, buffers (key -> (class, shape, dtype)), arena offsets, peak bytes."""

    def __init__(self, graph, steps):
        self.graph = graph
        self.steps = steps
        self.buffers = {}
        self.order = []
        self.offsets = {}
        self.arena_bytes = 0
        self.consts = {}
        self.shapes = {}          # buffers stored in another layout (transposed gemm results)


def _uniform(n):
    return len(set(n.attrs["value"])) == 1


def _unique_name(name, used):
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "k"
    if base[0].isdigit():
        base = "k_" + base
    nm, i = base, 1
    while nm in used:
        nm = f"{base}_{i}"
        i += 1
    used.add(nm)
    return nm


def build_plan(graph, log=None, layouts=None):
    """``layouts``: {graph input node: element strides} for inputs the caller passes
    strided; kernels read those in place (``lower.buffer_shape``)."""
    token = INPUT_LAYOUTS.set(dict(layouts or {}))
    try:
        plan = _build_plan(graph, log)
    finally:
        INPUT_LAYOUTS.reset(token)
    plan.layouts = dict(layouts or {})
    return plan


def _strided_inputs_handled(steps):
    """A lowering that builds a param for a strided input with the input's logical shape
    did not read it through its strides: refuse it (the group then runs interpreted)."""
    for st in steps:
        if st.kind == "interp":
            continue
        for key, p in zip(st.keys, st.kernel.params):
            if key.op == INPUT and tuple(p.shape) != (buffer_shape(key) or (1,)):
                raise Unsupported(f"{st.name}: reads strided input {key.name} as contiguous")


def _build_plan(graph, log=None):
    users = graph.users()
    graph_outs = {v for _, v in graph.outputs}
    materialised = {n for n in graph.nodes if n.op == INPUT}
    group_outs = {}
    for grp in graph.groups:
        outs = graph.group_outputs(grp, users)
        group_outs[grp.name] = outs
        materialised.update(outs)
    steps, used = [], set()

    def key(n):
        return n

    written = {n for n in graph.nodes if n.op in (INPUT, CONSTANT)}
    folded = set()
    group_of = graph.group_of()
    for grp in graph.groups:
        if folded & set(grp.nodes):
            grp = Group(grp.name, grp.kind, [n for n in grp.nodes if n not in folded],
                        grp.hints)
        outs = [o for o in group_outs[grp.name] if not (o.op == CONSTANT and not _uniform(o))
                and o not in folded]
        if not outs:
            continue
        name = _unique_name(grp.name, used)
        try:
            new = None
            if grp.kind == "extern" and "bias_add" in grp.hints:
                new = _bias_fold(graph, grp, name, users, materialised, written, group_of,
                                 used, log)
                if new is not None:
                    _strided_inputs_handled(new)      # before anything is marked folded
                    folded.add(new[-1].keys[-1])
            pre, lgrp, louts = [], grp, outs
            if new is None and grp.kind in ("pointwise", "reduction"):
                sp = split_pads(grp, outs, key, lambda s: _unique_name(s, used))
                if sp is not None:      # pads materialised first, read as buffers
                    pre = [Step(kd, k.name, k, ks) for kd, k, ks in sp[0]]
                    lgrp, louts = sp[1], sp[2]
            if new is None and lgrp.kind == "reduction" and louts:
                pool = lower_argmax_group(graph, lgrp, name, louts, users, group_of, key)
                if pool is not None:
                    # the kernel also computed later groups' outputs (the pooled gather)
                    (k, keys), extra = pool
                    new = [Step("kernel", name, k, keys)]
                    _strided_inputs_handled(pre + new)
                    folded.update(extra)
            if new is None:
                new = _lower_group(graph, lgrp, name, louts, users, materialised, key,
                                   used) if louts else []
            new = pre + new
            _strided_inputs_handled(new)
            steps.extend(new)
            for st in new:
                written.update(st.writes())
        except Exception as e:  # noqa: BLE001 - Unsupported, or a lowering bug: stay correct
            if not isinstance(e, Unsupported):
                e = f"lowering failed ({type(e).__name__}: {e})"
            emit(log, 5, f"llvm: group {grp.name} runs with the eager kernels (interp "
                         f"group): {e}")
            steps.append(Step("interp", name, group=grp, ins=graph.group_inputs(grp),
                              outs=outs, reason=str(e)))
            written.update(outs)
    steps = _dead_steps(steps, graph_outs)
    steps, shapes = transpose_results(steps, graph_outs)
    plan = Plan(graph, steps)
    plan.shapes = shapes
    _buffers(plan)
    _inplace(plan)
    return plan


def _inplace(plan):
    """Outputs that may be written straight into the storage of the input they update
    (graph.updates): the writing step must come after every step reading that input (or
    be it, when it reads the input element by element at the position it writes), the
    output must be no other graph output, and the input no graph output."""
    g = plan.graph
    outs = [v for _, v in g.outputs]
    plan.inplace = {}
    writer = {}
    for i, s in enumerate(plan.steps):
        for k in s.writes():
            writer.setdefault(k, i)
    for oname, iname in g.updates.items():
        o, inp = g.output(oname), g.input(iname)
        if outs.count(o) != 1 or inp in outs or o not in writer or o in plan.inplace:
            continue
        if plan.buffers.get(o, ("",))[0] != "output" or o.dtype != inp.dtype \
                or tuple(o.shape) != tuple(inp.shape):
            continue
        w = writer[o]
        ok = True
        for j, s in enumerate(plan.steps):
            if inp in s.reads() and (j > w or (j == w and not _same_position(s, inp, o))):
                ok = False
                break
        if ok:
            plan.inplace[o] = inp


def _same_position(step, inp, out):
    """Whether ``step`` reads ``inp`` only at the element it writes ``out`` to (then
    writing ``out`` into ``inp``'s storage is safe: each element is read before it is
    overwritten, and no other iteration reads it). Reductions qualify when ``inp`` is read
    only by row-level stores."""
    if step.kind == "interp":
        return True          # computes every value before copying results out
    k = step.kernel
    if step.kind != "kernel":
        return False
    pi, po = step.keys.index(inp), step.keys.index(out)
    stores = [st.access for st in k.body if isinstance(st, K.Store) and st.access.param == po]
    if len(stores) != 1:
        return False
    if k.inner and any(isinstance(st, K.Reduce) for st in k.body) and any(
            isinstance(st, K.Store) and st.access.param == po and not K.is_row_level(k, st)
            for st in k.body):
        # a row kernel may write an element-level output during an earlier pass than its
        # store (codegen/llvm/render.py: _spills, _reloads): not into an input it reads
        return False
    where = (stores[0].strides, stores[0].offset)
    for st in k.body:
        for n in K.walk(st.value):
            if isinstance(n, K.Load) and n.access.param == pi:
                if isinstance(st, K.Reduce) or (n.access.strides, n.access.offset) != where:
                    return False
    no = len(k.outer)
    return all(x != 0 or n == 1 for x, n in zip(where[0][:no], k.outer))


def _bias_fold(graph, grp, name, users, materialised, written, group_of, used, log):
    """matmul followed by ``add(mm, expand(bias))`` in a group of its own (the biased
    product is a graph output or feeds a gemm): pre-fill the add's buffer with the
    broadcast bias (a tiny kernel) and run the gemm with beta = 1 into it, so the add
    costs no pass of its own. None when the pattern does not hold or the add is fused
    with other work (it is then computed in that group's kernel as usual)."""
    mm = grp.nodes[-1]
    A = next((n for n in graph.nodes if n.id == grp.hints["bias_add"]), None)
    if A is None or mm.op != "matmul" or users.get(mm) != [A] or A.shape != mm.shape:
        return None
    if any(v is mm for _, v in graph.outputs):
        return None
    E = A.inputs[1] if A.inputs[0] is mm else A.inputs[0]
    ag = group_of.get(A)
    if E is mm or ag is None:
        return None
    members, stack = set(), [E]
    inside = set(ag.nodes)
    while stack:
        n = stack.pop()
        if n in inside and n not in members and n not in materialised:
            members.add(n)
            stack.extend(n.inputs)
    if inside - members - {A}:
        # the add is fused with work that reads the product anyway (relu(C + b), the
        # loss's row kernel): there it costs nothing, while the pre-fill is a serial pass
        # over C (Linear+ReLU 1024^3: 4.92-5.04 -> 4.81-4.83 ms; MLP step at batch 2048
        # 4.57-4.65 -> 4.50-4.61 ms, side by side)
        return None
    try:
        fill, fkeys = lower_pointwise(_unique_name(name + "_bias", used), list(members), [E],
                                      lambda n: A if n is E else n)
        sources = [k for k, p in zip(fkeys, fill.params) if p.role == "in"]
        if any(k not in written for k in sources):
            return None
        mmk, keys, _ = lower_matmul(name, mm, A, materialised, lambda n: n, beta=1.0)
    except Unsupported as e:
        emit(log, 5, f"llvm: no bias fold for {grp.name}: {e}")
        return None
    emit(log, 5, f"llvm: {grp.name}: bias folded into the gemm (beta=1)")
    return [Step("kernel", fill.name, fill, fkeys), Step("matmul", name, mmk, keys)]


def _lower_group(graph, grp, name, outs, users, materialised, key, used):
    if grp.kind == "extern":
        node = grp.nodes[-1]
        if node.op == "conv_general" and len(grp.nodes) == 1:
            return [Step(kind, k.name, k, keys) for kind, k, keys in
                    lower_conv(name, node, materialised, lambda s: _unique_name(s, used))]
        if node.op != "matmul" or len(grp.nodes) != 1:
            raise Unsupported(f"{node.op} runs as an extern through its eager kernel "
                              f"(im2col + GEMM kernel not generated yet)")
        mm, keys, _ = lower_matmul(name, node, key(node), materialised, key)
        return [Step("matmul", name, mm, keys)]
    if grp.kind == "pointwise":
        if len({tuple(o.shape) for o in outs}) != 1:
            raise Unsupported("outputs of different shapes")
        k, keys = lower_pointwise(name, grp.nodes, outs, key)
        return [Step("kernel", name, k, keys)]
    if grp.kind == "reduction":
        sp = split_post(grp, set(outs), users)
        if sp is None:
            F, A = grp.hints.get("shape"), grp.hints.get("axes")
            if F is None:
                F, A = reduction_shape(grp.nodes)
            pre = _column_prologue(grp, outs, F, A)
            if pre:
                # a reduction over leading axes (bias gradients, batch statistics) that also
                # stores full-shape values computed before any reduction: store those with a
                # contiguous pointwise kernel first and let the reduction read them back, so
                # the reduction kernel is a pure column reduction (walked column-tile-wise,
                # unit stride) instead of a strided element loop
                pname = _unique_name(name + "_pre", used)
                k1, keys1 = lower_pointwise(pname, grp.nodes, pre, key)
                rest = [o for o in outs if o not in pre]
                steps = [Step("kernel", pname, k1, keys1)]
                if rest:
                    k2, keys2 = lower_reduction(name, [n for n in grp.nodes if n not in pre],
                                                rest, key, F, A)
                    steps.append(Step("kernel", name, k2, keys2))
                return steps
            k, keys = lower_reduction(name, grp.nodes, outs, key, F, A)
            return [Step("kernel", name, k, keys)]
        (pre, pre_out), (post, post_out), _ = sp
        F, A = grp.hints.get("shape"), grp.hints.get("axes")
        k1, keys1 = lower_reduction(name, pre, pre_out, key, F, A)
        rs = reduction_shape(post)
        if rs is None:
            raise Unsupported("post level without a reduction")
        name2 = _unique_name(name + "_post", used)
        k2, keys2 = lower_reduction(name2, post, post_out, key, *rs)
        return [Step("kernel", name, k1, keys1), Step("kernel", name2, k2, keys2)]
    if grp.kind == "opaque" and len(grp.nodes) == 1 and grp.nodes[0].op == "fold":
        return [Step(kind, k.name, k, keys) for kind, k, keys in
                lower_fold(name, grp.nodes[0], materialised, lambda s: _unique_name(s, used))]
    if grp.kind == "opaque" and len(grp.nodes) == 1 and grp.nodes[0].op in ("scatter",
                                                                           "scatter_add"):
        k, keys = lower_scatter(name, grp.nodes[0], key)
        return [Step("kernel", name, k, keys)]
    raise Unsupported(f"{grp.kind} group ({grp.nodes[0].op})")


def _column_prologue(grp, outs, F, A):
    F = tuple(F)
    if not F or len(F) - 1 in tuple(A):
        return []
    members = set(grp.nodes)
    memo = {}

    def dep(n):
        if n not in members:
            return False
        if n not in memo:
            memo[n] = n.op in ("sum", "prod", "reduce_max", "reduce_min", "argmax") or any(
                dep(i) for i in n.inputs)
        return memo[n]
    return [o for o in outs if tuple(o.shape) == F and not dep(o)]


def _dead_steps(steps, graph_outs):
    need = set(graph_outs)
    kept = []
    for s in reversed(steps):
        if any(w in need for w in s.writes()):
            kept.append(s)
            need.update(s.reads())
    return kept[::-1]


def _buffers(plan):
    graph = plan.graph
    outs = [v for _, v in graph.outputs]

    def add(n, cls):
        if n not in plan.buffers:
            plan.buffers[n] = (cls, plan.shapes.get(n, tuple(n.shape)), n.dtype.np)
            plan.order.append(n)

    for n in graph.inputs:
        add(n, "input")
    for s in plan.steps:
        for k in s.reads() + s.writes():
            if k.op == INPUT:
                continue
            if k.op == CONSTANT and k not in s.writes():
                add(k, "const")
                plan.consts[k] = np.asarray(k.attrs["value"], dtype=k.dtype.np).reshape(k.shape)
            elif k in outs:
                add(k, "output")
            else:
                add(k, "temp")
    # liveness: a temp lives from the step writing it to the last step reading it
    first, last = {}, {}
    for i, s in enumerate(plan.steps):
        for k in s.writes():
            first.setdefault(k, i)
        for k in s.reads():
            last[k] = i
    live, peak = [], 0            # (offset, size, end step)
    for i, s in enumerate(plan.steps):
        for k in s.writes():
            if plan.buffers[k][0] != "temp" or k in plan.offsets:
                continue
            size = max(ALIGN, -(-(k.numel * k.dtype.itemsize) // ALIGN) * ALIGN)
            # free buffers whose last reader ran before this step (not this one: a
            # kernel's outputs must not alias its inputs)
            live = [x for x in live if x[2] >= i]
            off = 0
            for o, sz, _ in sorted(live):
                if off + size <= o:
                    break
                off = max(off, o + sz)
            plan.offsets[k] = off
            live.append((off, size, last.get(k, i)))
            peak = max(peak, off + size)
    plan.arena_bytes = peak


def index_checks(step):
    """[(buffer key, message)]: the out-of-range flags ``step`` writes (lower.index_check);
    the native entry returns a code right after the step when one is set, and the runtime
    raises with the message."""
    if step.kind == "interp":
        return []
    return [(k, k.meta["index_check"]) for k in step.writes()
            if k.op == "scratch" and k.meta and "index_check" in k.meta]


def native_groups(plan):
    """Consecutive native steps, as lists (one native entry point each)."""
    segs, cur = [], []
    for s in plan.steps:
        if s.kind == "interp":
            if cur:
                segs.append(cur)
                cur = []
            segs.append(s)
        else:
            cur.append(s)
    if cur:
        segs.append(cur)
    return segs


def describe(step):
    k = step.kernel
    if step.kind == "interp":
        return f"{step.name}: interp group ({len(step.group.nodes)} nodes): {step.reason}"
    if isinstance(k, K.Matmul):
        return (f"{step.name}: gemm {k.dtype} batch {list(k.batch)} m={k.m} n={k.n} k={k.k} "
                f"transA={k.blas_layout('a')[0]} transB={k.blas_layout('b')[0]}")
    return (f"{step.name}: kernel outer {list(k.outer)} inner {list(k.inner)}, "
            f"{len(k.params)} buffers, {len(k.body)} statements")
