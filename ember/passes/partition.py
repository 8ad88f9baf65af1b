"""Split a joint forward+backward graph into a forward graph (original outputs plus the
saved residuals) and a backward graph (residuals and cotangents in, gradients out).
Elementwise values are rematerialised in the backward (see ``_REMAT``).

Placement: the forward computes exactly what the primal outputs need; every other node
the gradients need goes to the backward, even if it reads no cotangent (a value only the
backward uses is cheaper to compute there than to save). Residuals are the forward values
(or inputs) the backward reads. Cheap residuals are rematerialised instead of saved:
constants (``full``/``iota``/``constant``) are rebuilt in the backward, and a
``reshape``/``permute``/``expand`` residual is recomputed from its operand, so the saved
tensor is never bigger than the one it was derived from (an expanded row statistic is
saved once per row, not once per element).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import INPUT, GraphBuilder
from ..ir.printer import short_loc

_REMAT = ("full", "iota", "constant", "reshape", "permute", "expand")
# Elementwise values are recomputed in the backward from their operands rather than saved:
# inside a fused kernel recomputing costs a few instructions per element, while saving
# costs a store in the forward and a load in the backward (memory-bound work). The chain
# stops at inputs, reductions and extern results (matmul/conv), which are saved.


@dataclass
class Residual:
    name: str
    shape: tuple
    dtype: object
    nbytes: int
    loc: str
    is_input: bool

    def __str__(self):
        src = "input" if self.is_input else short_loc(self.loc)
        return f"{self.name}: {self.dtype.name}{list(self.shape)} {self.nbytes} bytes ({src})"


@dataclass
class Partition:
    forward: object
    backward: object
    residuals: list = field(default_factory=list)

    @property
    def saved_bytes(self):
        return sum(r.nbytes for r in self.residuals)

    def report(self):
        lines = [f"{len(self.residuals)} saved residuals, {self.saved_bytes} bytes"]
        lines += ["  " + str(r) for r in self.residuals]
        return "\n".join(lines)


def _ancestors(roots):
    seen, stack = set(), list(roots)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(n.inputs)
    return seen


def partition(joint):
    g = joint.graph
    fwd = _ancestors(g.output(n) for n in joint.primal_outputs)
    fwd.update(g.input(n) for n in g.input_names if n not in joint.cotangent_inputs)
    bwd_all = _ancestors(g.output(n) for n in joint.grad_outputs)
    bwd = {n for n in bwd_all if n not in fwd}
    # rematerialise cheap residuals until the set is stable
    changed = True
    while changed:
        changed = False
        for n in list(bwd):
            for i in n.inputs:
                if i in fwd and i not in bwd and (i.op in _REMAT or i.kind == "elementwise"):
                    bwd.add(i)
                    changed = True
    read = set(g.output(n) for n in joint.grad_outputs)
    for n in bwd:
        read.update(n.inputs)
    # residuals in graph order, so their names are deterministic
    residuals = [n for n in g.nodes if n in read and n in fwd and n not in bwd]

    # ---- forward graph
    fb = GraphBuilder(g.name.replace("_joint", "") + "_fwd", capture_locations=False)
    fm = {}
    for n in g.nodes:
        if n in fwd and not (n.op == INPUT and n.attrs["name"] in joint.cotangent_inputs):
            fm[n] = fb.copy(n, [fm[i] for i in n.inputs])
    for name in joint.primal_outputs:
        fb.output(name, fm[g.output(name)])
    infos = []
    for k, r in enumerate(residuals):
        rname = f"saved_{k}"
        fb.output(rname, fm[r])
        infos.append(Residual(rname, r.shape, r.dtype, r.nbytes, r.loc, r.op == INPUT))
    fb.updates.update(g.updates)

    # ---- backward graph
    bb = GraphBuilder(g.name.replace("_joint", "") + "_bwd", capture_locations=False)
    bm = {}
    for k, r in enumerate(residuals):
        bm[r] = bb.input(f"saved_{k}", r.shape, r.dtype, r.device, loc=r.loc)
    for name in joint.cotangent_inputs:
        x = g.input(name)
        bm[x] = bb.input(name, x.shape, x.dtype, x.device)
    for n in g.nodes:
        if n in bwd and n not in bm:
            bm[n] = bb.copy(n, [bm[i] for i in n.inputs])
    for name in joint.grad_outputs:
        bb.output(name, bm[g.output(name)])
    return Partition(fb.build(), bb.build(), infos)
