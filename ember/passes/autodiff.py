"""Symbolic reverse-mode autodiff: the backward graph is built by the same VJP rules eager
autograd runs, called on IR values under a ``GraphBuilder`` (``ops.bind`` appends nodes).

``autodiff(graph, wrt, of)`` returns a ``Joint``: one graph computing the original outputs
and the gradients of the ``of`` outputs (seeded by cotangent inputs ``ct_<name>``, or by
ones with ``seed="ones"`` for a scalar loss) with respect to the ``wrt`` inputs
(outputs ``grad_<name>``). Backward nodes carry the source location of the forward node
whose rule made them, as PyTorch's anomaly mode points at the forward line.

Cotangents stop at ``stop_gradient``, at primitives without a VJP (comparisons,
``argmax``, ``random_bits`` ...), and at non-float values; an input no gradient reaches
gets zeros (PyTorch's ``materialize_grads``).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import INPUT, STOP_GRADIENT, GraphBuilder
from ..ops import interpreter
from ..ops import lax as L
from ..ops import dtypes as _dt


@dataclass
class Joint:
    graph: object            # the joint forward+backward Graph
    primal_outputs: list     # output names of the original graph
    cotangent_inputs: list   # input names seeding the backward (empty for seed="ones")
    grad_outputs: list       # output names of the gradients, in ``wrt`` order
    wrt: list                # the input names differentiated


def _float(n):
    return n.dtype.category == _dt.FLOAT


def _requires(graph, wrt):
    req = set()
    for n in graph.nodes:
        if n.op == INPUT:
            if n.attrs["name"] in wrt and _float(n):
                req.add(n)
        elif n.op != STOP_GRADIENT and _float(n) and any(i in req for i in n.inputs):
            prim = n.prim
            if prim is None or prim.vjp is not None:
                req.add(n)
    return req


def autodiff(graph, wrt=None, of=None, seed="cotangent"):
    if wrt is None:
        wrt = [n.attrs["name"] for n in graph.inputs if _float(n)]
    if of is None:
        of = [name for name, v in graph.outputs if _float(v)]
    wrt, of = list(wrt), list(of)
    for name in wrt:
        if not _float(graph.input(name)):
            raise TypeError(f"autodiff: input {name!r} is {graph.input(name).dtype!r}; only "
                            f"floating-point inputs have gradients")
    for name in of:
        if not _float(graph.output(name)):
            raise TypeError(f"autodiff: output {name!r} is {graph.output(name).dtype!r}; only "
                            f"floating-point outputs can be differentiated")
    if seed not in ("cotangent", "ones"):
        raise ValueError(f"autodiff: seed must be 'cotangent' or 'ones', got {seed!r}")

    b = GraphBuilder(graph.name + "_joint", capture_locations=False)
    m = {}
    for n in graph.nodes:
        m[n] = b.copy(n, [m[i] for i in n.inputs])
    ct_names, seeds = [], {}
    for name in of:
        v = graph.output(name)
        if seed == "ones":
            with b.located(v.loc):
                s = b.add("full", (), {"shape": v.shape, "value": 1, "dtype": v.dtype})
        else:
            ct_names.append(f"ct_{name}")
            s = b.input(f"ct_{name}", v.shape, v.dtype, v.device)
        seeds.setdefault(v, []).append(s)

    req = _requires(graph, set(wrt))
    ct = {}
    with interpreter(b):
        for v, ss in seeds.items():
            if v in req:
                acc = ss[0]
                for s in ss[1:]:
                    acc = L.add(acc, s)
                ct[v] = acc
        for n in reversed(graph.nodes):
            g = ct.get(n)
            if g is None or n.op == INPUT or n not in req:
                continue
            with b.located(n.loc):
                if n.op == STOP_GRADIENT:  # pragma: no cover - not in req by construction
                    continue
                args = [m[i] for i in n.inputs]
                if n.prim.vjp_needs:
                    grads = n.prim.vjp(g, m[n], *args, needs=tuple(i in req for i in n.inputs),
                                       **n.attrs)
                else:
                    grads = n.prim.vjp(g, m[n], *args, **n.attrs)
                if len(grads) != len(n.inputs):
                    raise RuntimeError(f"autodiff: the VJP of {n.op} returned {len(grads)} "
                                       f"cotangents for {len(n.inputs)} operands")
                for i, gi in zip(n.inputs, grads):
                    if gi is None or i not in req:
                        continue
                    if gi.shape != i.shape or gi.dtype is not i.dtype:
                        raise RuntimeError(
                            f"autodiff: the VJP of {n.op} ({n.loc}) gave a cotangent "
                            f"{gi.dtype.name}{list(gi.shape)} for an operand "
                            f"{i.dtype.name}{list(i.shape)}")
                    ct[i] = gi if i not in ct else L.add(ct[i], gi)

    for name, v in graph.outputs:
        b.output(name, m[v])
    grad_names = []
    for name in wrt:
        x = graph.input(name)
        g = ct.get(x)
        if g is None:
            g = b.add("full", (), {"shape": x.shape, "value": 0, "dtype": x.dtype})
        grad_names.append(f"grad_{name}")
        b.output(f"grad_{name}", g)
    b.updates.update(graph.updates)
    return Joint(b.build(), [name for name, _ in graph.outputs], ct_names, grad_names, wrt)
