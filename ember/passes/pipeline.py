"""Running passes in order, optionally verifying after each (tests always do).

    g = optimize(graph)                                  # DEFAULT, then fusion
    g = run_passes(graph, [simplify, cse, dce], verify=True, log=PassLog())
"""
from __future__ import annotations

import time

from ..ir import verify as _verify
from .cse import cse
from .dce import dce
from .fold import constant_fold
from .fusion import fuse
from .log import debug_level, dump, emit
from .simplify import simplify

DEFAULT = (simplify, constant_fold, simplify, cse, dce)


def _name(p):
    return getattr(p, "__name__", type(p).__name__)


def run_passes(graph, passes=DEFAULT, verify=False, log=None):
    """Apply ``passes`` (callables graph -> graph; ``fuse`` also receives ``log``). With
    ``verify`` the verifier runs on the input and after every pass, and a failure names
    the pass that broke the graph."""
    if verify:
        _verify(graph)
    for k, p in enumerate(passes):
        t0 = time.perf_counter()
        graph = p(graph, log=log) if p is fuse else p(graph)
        emit(log, 1, f"pass {_name(p)}: {len(graph.nodes)} nodes, "
                     f"{(time.perf_counter() - t0) * 1e3:.2f} ms")
        if log is not None or debug_level() >= 3:  # formatting a big graph is not free
            emit(log, 3, f"graph after {_name(p)}:\n{graph}")
        dump(f"{graph.name}.{k:02d}.{_name(p)}.txt", graph.__str__)
        if verify:
            try:
                _verify(graph)
            except Exception as e:
                raise type(e)(f"after pass {_name(p)}: {e}") from e
    return graph


def optimize(graph, fusion=True, verify=False, log=None):
    """The default pipeline: simplify, fold constants, CSE, DCE, then (optionally) fuse."""
    passes = DEFAULT + ((fuse,) if fusion else ())
    return run_passes(graph, passes, verify=verify, log=log)
