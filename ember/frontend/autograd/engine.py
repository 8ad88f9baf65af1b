"""The backward engine: topological walk over grad_fn nodes, calling VJP rules.

Nodes have one or more outputs; edges are ``(node, output_nr)`` pairs in
``next_functions``. Cotangents are summed per (node, output) before the node runs.
With ``create_graph`` the VJPs run with grad mode on, so the gradients are themselves
differentiable (higher-order gradients need nothing more: the rules are primitives).
"""
from __future__ import annotations

import numpy as _np

from . import grad_mode
from .graph import AccumulateGrad


_ndarray = _np.ndarray


def _n_out(node):
    return getattr(node, "_n_outputs", 1)


def _collect(roots):
    """Dependency counts of every node reachable from ``roots`` (iterative DFS)."""
    deps, seen, stack = {}, set(), [n for n in roots if n is not None]
    for n in stack:
        seen.add(n)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def _needed(seen, targets):
    """Nodes from which some target is reachable (so autograd.grad skips the rest)."""
    needed = set(targets)
    changed = True
    order = list(seen)
    while changed:
        changed = False
        for n in order:
            if n not in needed and any(nx in needed for nx, _ in n.next_functions if nx is not None):
                needed.add(n)
                changed = True
    return needed


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None, accumulate=True):
    """Propagate ``root_grads`` from ``roots`` (list of (node, output_nr)).

    ``capture``: {(node, output_nr): slot} -> gradients to return (autograd.grad); when
    given with ``accumulate=False`` leaves' ``.grad`` is left alone.
    """
    root_nodes = [n for n, _ in roots]
    deps, seen = _collect(root_nodes)
    needed = _needed(seen, [n for n, _ in capture]) if capture is not None and not accumulate else None
    buffers = {}
    for (node, nr), g in zip(roots, root_grads):
        _add_to_buffer(buffers, node, nr, g)
    ready = [n for n in dict.fromkeys(root_nodes) if deps.get(n, 0) == 0]
    results = {}
    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            gs = buffers.pop(node, None)
            if gs is not None and node._pre_hooks:
                _run_pre_hooks(node, gs)
            if capture is not None:
                for i in range(len(gs) if gs else 0):
                    slot = capture.get((node, i))
                    if slot is not None and gs[i] is not None:
                        results[slot] = gs[i]
            if gs is not None and node._retained is not None:
                t = node._retained()
                if t is not None and gs[0] is not None:
                    _accumulate_into(t, gs[0], create_graph)
            if isinstance(node, AccumulateGrad):
                if accumulate and gs is not None and gs[0] is not None:
                    var = node.variable
                    if var is not None:
                        _accumulate_into(var, gs[0], create_graph)
            elif gs is not None and (needed is None or node in needed):
                grads = node.apply_vjp(gs if _n_out(node) > 1 else gs[0], retain_graph)
                for (nxt, nr), g in zip(node.next_functions, grads):
                    if nxt is not None and g is not None:
                        _add_to_buffer(buffers, nxt, nr, g)
            elif not retain_graph:
                node.release()
            for nxt, _ in node.next_functions:
                if nxt is None:
                    continue
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
    return results


def _run_pre_hooks(node, gs):
    """Tensor hooks ``(output_nr, fn(grad) -> grad or None)`` see their own output's
    gradient; node pre-hooks ``(None, fn(grads) -> grads or None)`` see all of them."""
    for nr, hook in list(node._pre_hooks):
        if nr is None:
            new = hook(tuple(gs))
            if new is not None:
                gs[:] = list(new)
        elif gs[nr] is not None:
            new = hook(gs[nr])
            if new is not None:
                gs[nr] = new


def _add_to_buffer(buffers, node, nr, g):
    gs = buffers.get(node)
    if gs is None:
        gs = buffers[node] = [None] * _n_out(node)
    gs[nr] = g if gs[nr] is None else gs[nr] + g


def _accumulate_into(t, g, create_graph):
    """``t.grad += g`` as PyTorch does: a fresh contiguous copy first, in place after
    (unless create_graph, when the sum must stay differentiable)."""
    from ..tensor import Tensor
    if g.shape != t.shape:
        g = g.expand(t.shape) if g.dim() <= t.dim() else g
    if t.grad is None:
        t.grad = g if create_graph else Tensor._wrap(g._data.copy(), g.dtype, g.device)
    elif create_graph or t.grad.requires_grad:
        t.grad = t.grad + g
    elif not (type(t.grad._data) is _ndarray and type(g._data) is _ndarray):
        t.grad.add_(g)   # tracing: the accumulation becomes a graph update
    else:
        t.grad._data += g._data
        t.grad._version[0] += 1
