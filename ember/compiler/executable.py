"""Running a traced Program: optimise its graph once, then per call bind the argument and
lifted arrays, run the backend, wrap the outputs and apply the calling convention's
effects (write-backs into existing storage, ``.grad`` assignments).

When outputs require grad (and the traced code did not run ``backward`` itself), the
joint forward+backward graph is built by ``passes.autodiff`` and split by
``passes.partition``: the forward also returns the saved residuals, and the outputs get a
``CompiledFunctionBackward`` grad_fn that runs the compiled backward graph.
"""
from __future__ import annotations

import time

import numpy as np

from ..frontend.autograd import grad_mode
from ..frontend.autograd.graph import Node
from ..frontend.device import CPU
from ..frontend.tensor import Tensor
from ..ir import Graph
from ..passes import autodiff, optimize, partition
from . import backends, interp, pytree



def strided_layouts(leaves):
    """{"arg<i>": element strides} for tensor arguments passed as strided views with
    non-negative strides (a transpose, a slice, an expand): the forward program reads them
    in place. Contiguous arguments, and views with negative strides (flips), are absent
    (the latter are copied per call)."""
    out = {}
    for i, a in enumerate(leaves):
        d = getattr(a, "_data", None)
        if d is None or d.flags.c_contiguous or not d.size:
            continue
        item = d.itemsize
        if all(x >= 0 and x % item == 0 for x in d.strides):
            out[f"arg{i}"] = tuple(x // item for x in d.strides)
    return out


class Executable:
    def __init__(self, program, backend, layouts=None):
        t0 = time.perf_counter()
        self.program = program
        self.backend = backend
        g = program.graph
        self.wrt = []
        self.diff_outputs = []
        if grad_mode.STATE.enabled and not _changes_grads(program):
            self.wrt = [f"arg{i}" for i, (_, dt, rg) in enumerate(program.arg_specs) if rg] + \
                [s.name for s in program.slots if s.saved[2]]
            self.diff_outputs = [n for n, rg in zip(program.user_outputs,
                                                    program.outputs_require_grad) if rg]
        if self.wrt and self.diff_outputs:
            t1 = time.perf_counter()
            joint = autodiff(g, wrt=self.wrt, of=self.diff_outputs)
            part = partition(joint)
            self.partition = part
            t2 = time.perf_counter()
            # residuals that ARE inputs (x, weights) are not returned by the forward (that
            # would copy them every call): the backward reads the caller's tensor, checked
            # for in-place modification like any tensor eager autograd saves
            fwd = part.forward
            self.input_residuals = {r.name: fwd.output(r.name).attrs["name"]
                                    for r in part.residuals
                                    if fwd.output(r.name).op == "input"}
            if self.input_residuals:
                fwd = Graph(fwd.nodes, [(n, v) for n, v in fwd.outputs
                                        if n not in self.input_residuals],
                            fwd.updates, fwd.groups, fwd.name)
            self.graph = optimize(fwd)
            self.backward_graph = optimize(part.backward)
            self.timings = {"autodiff": t2 - t1, "passes": time.perf_counter() - t2}
        else:
            self.partition = None
            self.input_residuals = {}
            self.graph = optimize(g)
            self.backward_graph = None
            self.timings = {"passes": time.perf_counter() - t0}
        self.out_index = {name: k for k, (name, _) in enumerate(self.graph.outputs)}
        t3 = time.perf_counter()
        self._backend = backends.get(backend or "interp")
        base = program.graph.structural_hash()
        self._runners = {id(self.graph): self._backend.prepare(
            self.graph, (base, "forward", tuple(self.wrt), tuple(self.diff_outputs)),
            layouts=layouts)}
        if self.backward_graph is not None:
            self._runners[id(self.backward_graph)] = self._backend.prepare(
                self.backward_graph, (base, "backward", tuple(self.wrt),
                                      tuple(self.diff_outputs)))
        self.timings["codegen"] = time.perf_counter() - t3

    def run_arrays(self, graph, arrays):
        run = self._runners.get(id(graph))
        if run is None:
            return interp.run(graph, *arrays)
        return run(arrays)

    def __call__(self, leaves):
        prog = self.program
        slots = prog.slots
        arrays = [a._data for a in leaves] + [s.tensor._data for s in slots]
        outs = self.run_arrays(self.graph, arrays)
        idx = self.out_index
        dev = leaves[0].device if leaves else CPU
        results = [Tensor._wrap(outs[idx[n]], prog.graph.output(n).dtype, dev)
                   for n in prog.user_outputs]
        if self.partition is not None and grad_mode.STATE.enabled:
            self._attach_backward(leaves, results, outs)
        for e in prog.effects:
            kind, (where, k) = e.kind, e.target
            target = leaves[k] if where == "arg" else slots[k].tensor
            if kind == "update":
                src = outs[idx[e.output]]
                if src is not target._data:   # a backend may have written it in place
                    np.copyto(target._data, src, casting="unsafe")
                target._version[0] += 1
            elif kind == "grad_set":
                target.grad = Tensor._wrap(outs[idx[e.output]], target.dtype, target.device)
            elif kind == "grad_none":
                target.grad = None
        return pytree.unflatten(prog.out_tree, results)

    def _attach_backward(self, leaves, results, outs):
        from ..frontend.dispatch import edge
        prog = self.program
        by_name = {f"arg{i}": t for i, t in enumerate(leaves)}
        by_name.update({s.name: s.tensor for s in prog.slots})
        node = CompiledFunctionBackward.__new__(CompiledFunctionBackward)
        node.next_functions = tuple(edge(by_name[n]) for n in self.wrt)
        node._pre_hooks = None
        node._retained = None
        node.metadata = {}
        node.executable = self
        ins = self.input_residuals
        node.saved = [(by_name[ins[r.name]], by_name[ins[r.name]]._version[0]) if r.name in ins
                      else outs[self.out_index[r.name]] for r in self.partition.residuals]
        node.out_meta = [(prog.graph.output(n).shape, prog.graph.output(n).dtype)
                         for n in self.diff_outputs]
        node._n_outputs = len(self.diff_outputs)
        for k, name in enumerate(self.diff_outputs):
            t = results[prog.user_outputs.index(name)]
            t.grad_fn = node
            t._output_nr = k
            t._requires_grad = True


def _changes_grads(program):
    return any(e.kind in ("grad_set", "grad_none") for e in program.effects)


class CompiledFunctionBackward(Node):
    """grad_fn of a compiled forward's outputs: runs the compiled backward graph."""

    __slots__ = ("executable", "saved", "out_meta", "_n_outputs")

    def apply_vjp(self, gs, retain):
        from .capture import active_tracer
        if self.saved is None:
            from ..frontend.autograd.graph import _FREED
            raise RuntimeError(_FREED)
        if grad_mode.STATE.enabled or active_tracer() is not None:
            raise NotImplementedError("double backward (create_graph=True) or tracing through "
                                      "an ember.compile'd function's backward is not "
                                      "supported yet; compile the outer function instead")
        if self._n_outputs == 1:
            gs = [gs]
        cts = [np.zeros(shape, dt.np) if g is None else np.asarray(g._data)
               for g, (shape, dt) in zip(gs, self.out_meta)]
        exe = self.executable
        named = {}
        for r, a in zip(exe.partition.residuals, self.saved):
            if type(a) is tuple:          # an input tensor the forward read
                t, version = a
                if t._version[0] != version:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been "
                        f"modified by an inplace operation: [{t.dtype.name} tensor of shape "
                        f"{list(t.shape)}] is at version {t._version[0]}; expected version "
                        f"{version} instead (in CompiledFunctionBackward).")
                a = t._data
            named[r.name] = a
        for name, a in zip((f"ct_{n}" for n in exe.diff_outputs), cts):
            named[name] = a
        bg = exe.backward_graph
        arrays = [named[n] for n in bg.input_names]
        grads = exe.run_arrays(bg, arrays)
        if not retain:
            self.saved = None
        res = []
        for name, arr in zip(bg.output_names, grads):
            dt = bg.output(name).dtype
            res.append(Tensor._wrap(arr, dt, CPU))
        order = {n: k for k, n in enumerate(bg.output_names)}
        return tuple(res[order[f"grad_{w}"]] for w in exe.wrt)

    def release(self):
        self.saved = None
