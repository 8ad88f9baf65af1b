"""Running a traced Program: optimise its graph once, then per call bind the argument and
lifted arrays, run the backend, wrap the outputs and apply the calling convention's
effects (write-backs into existing storage, ``.grad`` assignments)."""
from __future__ import annotations

import time

import numpy as np

from ..frontend.tensor import Tensor
from ..passes import optimize
from . import interp, pytree


class Executable:
    def __init__(self, program, backend):
        t0 = time.perf_counter()
        self.program = program
        self.graph = optimize(program.graph)
        self.backend = backend
        self.out_index = {name: k for k, (name, _) in enumerate(self.graph.outputs)}
        self.timings = {"passes": time.perf_counter() - t0}

    def run_arrays(self, arrays):
        return interp.run(self.graph, *arrays)

    def __call__(self, leaves):
        prog = self.program
        slots = prog.slots
        arrays = [a._data for a in leaves] + [s.tensor._data for s in slots]
        outs = self.run_arrays(arrays)
        idx = self.out_index
        results = [Tensor._wrap(outs[idx[n]], prog.graph.output(n).dtype, leaves[0].device
                                if leaves else _cpu()) for n in prog.user_outputs]
        for e in prog.effects:
            kind, (where, k) = e.kind, e.target
            target = leaves[k] if where == "arg" else slots[k].tensor
            if kind == "update":
                np.copyto(target._data, outs[idx[e.output]], casting="unsafe")
                target._version[0] += 1
            elif kind == "grad_set":
                target.grad = Tensor._wrap(outs[idx[e.output]], target.dtype, target.device)
            elif kind == "grad_none":
                target.grad = None
        return pytree.unflatten(prog.out_tree, results)


def _cpu():
    from ..frontend.device import CPU
    return CPU
