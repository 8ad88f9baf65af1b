"""The reference interpreter backend: runs any IR graph (fused or not) node by node with
the primitives' eager kernels on numpy arrays. It is the oracle every later backend is
compared against, so it does nothing clever: fusion groups change nothing here, each node
is computed whole and checked against its recorded shape and dtype.

    outs = run(graph, x_array, w_array)                   # list, in output order
    outs = run(graph, {"x": x_array, "w": w_array})       # or inputs by name
    run(graph, *args, update_inputs=True)                 # apply the calling convention
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import CONSTANT, INPUT, STOP_GRADIENT
from ..ops import xp as _xp


class InterpreterError(RuntimeError):
    pass


def _bind_inputs(graph, args):
    ins = graph.inputs
    if len(args) == 1 and isinstance(args[0], dict):
        given = args[0]
        missing = [n.attrs["name"] for n in ins if n.attrs["name"] not in given]
        extra = sorted(set(given) - {n.attrs["name"] for n in ins})
        if missing or extra:
            raise InterpreterError(f"graph {graph.name!r}: missing inputs {missing}, "
                                   f"unknown inputs {extra}")
        vals = [given[n.attrs["name"]] for n in ins]
    else:
        if len(args) != len(ins):
            raise InterpreterError(f"graph {graph.name!r} takes {len(ins)} inputs "
                                   f"({', '.join(graph.input_names)}), got {len(args)}")
        vals = list(args)
    env = {}
    for n, v in zip(ins, vals):
        v = np.asarray(v)
        if tuple(v.shape) != n.shape or v.dtype != n.dtype.np:
            raise InterpreterError(f"graph {graph.name!r}: input {n.attrs['name']!r} expects "
                                   f"{n.dtype.name}{list(n.shape)}, got {v.dtype}"
                                   f"{list(v.shape)}")
        env[n] = v
    return env, vals


def _eval(n, args, xp):
    if n.op == CONSTANT:
        return np.asarray(n.attrs["value"], dtype=n.dtype.np).reshape(n.shape)
    if n.op == STOP_GRADIENT:
        return args[0]
    prim = n.prim
    if prim is None:
        raise InterpreterError(f"node {n.name}: unknown op {n.op!r}")
    out = prim.eager(xp, *args, **n.attrs)
    out = np.asarray(out)
    if tuple(out.shape) != n.shape or out.dtype != n.dtype.np:
        raise InterpreterError(f"node {n.name} ({n.op}, {n.loc}): kernel gave {out.dtype}"
                               f"{list(out.shape)}, the graph says {n.dtype.name}{list(n.shape)}")
    return out


def run(graph, *args, update_inputs=False, xp=None):
    """Run ``graph`` on numpy arrays; returns the outputs as a list in output order.
    With ``update_inputs``, outputs named in ``graph.updates`` are copied into the input
    arrays they update (which must be writeable numpy arrays)."""
    xp = xp or _xp.numpy_namespace()
    env, in_vals = _bind_inputs(graph, args)
    last_use = {}
    for k, n in enumerate(graph.nodes):
        for i in n.inputs:
            last_use[i] = k
    keep = {v for _, v in graph.outputs}
    for k, n in enumerate(graph.nodes):
        if n.op == INPUT:
            continue
        env[n] = _eval(n, [env[i] for i in n.inputs], xp)
        for i in set(n.inputs):  # free values at their last use (memory, not semantics)
            if last_use[i] == k and i not in keep and i.op != INPUT:
                del env[i]
    outs = []
    for _, v in graph.outputs:
        a = env[v]
        # an output never aliases an input array or another output: callers may keep both
        if any(np.may_share_memory(a, b) for b in in_vals) or any(
                np.may_share_memory(a, b) for b in outs):
            a = a.copy()
        outs.append(a)
    if update_inputs:
        names = graph.output_names
        for oname, iname in graph.updates.items():
            target = in_vals[graph.input_names.index(iname)]
            np.copyto(target, outs[names.index(oname)])
    return outs


def run_dict(graph, *args, **kw):
    """``run`` with the outputs as a dict keyed by output name."""
    return dict(zip(graph.output_names, run(graph, *args, **kw)))
