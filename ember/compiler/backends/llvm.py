"""The llvm backend: a fused graph -> plan -> one native module -> a runtime GraphRunner.

Consecutive native steps become one entry point (``kernel_ir.Entry``) over the program's
buffer table, so a graph with no interp groups is ONE native call from Python. The module
is compiled to a self-describing runtime artifact and stored in the on-disk cache under a
key made of the captured graph's structural hash (before any pass) and the graph's role,
plus the target, codegen options and ember version (``runtime.cache.cache_key``), never of
compiler output. On a hit the artifact is loaded with ctypes alone (llvmlite is not
imported); the plan itself is recomputed from the graph (cheap Python) and the artifact's
kernel signatures are checked against it, a mismatch recompiling.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from ...passes.log import debug_level, dump, emit
from ...runtime import cache as _cache
from ...runtime.program import GraphRunner
from ...ir import CONSTANT, INPUT
from .. import kernel_ir as K
from ..lower import strided_extent
from .plan import build_plan, describe, index_checks, native_groups

_OPTIONS = []


def options():
    if not _OPTIONS:
        from ..codegen.llvm.target import CodegenOptions
        _OPTIONS.append(CodegenOptions())
    return _OPTIONS[0]


def _options_dict():
    # the cache key must not need llvmlite: the defaults are spelled out here and checked
    # against CodegenOptions when compiling
    return {"opt_level": 3, "cpu": None, "features": None, "parallel_min_elements": 1 << 15,
            "sum_block": 1024}


def probe():
    """Raise if llvmlite is not installed. Only its presence is checked, not imported: a
    process that finds every program in the cache never imports llvmlite."""
    import importlib.util
    if importlib.util.find_spec("llvmlite") is None:
        raise ImportError("llvmlite is not installed")


class LLVMBackend:
    name = "llvm"

    def __init__(self, cache=None):
        self.cache = cache

    def prepare(self, graph, key=None, layouts=None):
        """``layouts``: {input name: element strides} of inputs the caller passes strided
        (non-negative strides); the kernels read them in place instead of a copy."""
        t0 = time.perf_counter()
        have = set(graph.input_names)
        layouts = {graph.input(k): tuple(v) for k, v in (layouts or {}).items() if k in have}
        plan = build_plan(graph, layouts=layouts)
        t1 = time.perf_counter()
        input_pos = {n: i for i, n in enumerate(graph.inputs)}
        slots, index, input_strides = [], {}, {}
        for n in plan.order:
            cls, shape, dt = plan.buffers[n]
            index[n] = len(slots)
            extra = (input_pos[n] if cls == "input" else plan.consts.get(n)
                     if cls == "const" else plan.offsets.get(n) if cls == "temp" else
                     input_pos[plan.inplace[n]] if n in plan.inplace else None)
            slots.append((cls, shape, np.dtype(dt), extra))
            if n in layouts:
                input_strides[index[n]] = tuple(x * np.dtype(dt).itemsize for x in layouts[n])
        kernels, entries, steps, names = [], [], [], []
        errors = {}        # code an entry returns -> IndexError message (index checks)
        ename = f"{_ident(graph.name)}_entry"
        profiling = _profiling()
        for seg, serial in _segments(plan, profiling):
            if not isinstance(seg, list):
                names.append(f"{seg.name} (interp)")
                steps.append(("py", _interp_step(seg, index)))
                continue
            names.append(seg[0].name if len(seg) == 1 else f"{len(seg)} kernels")
            calls, checks = [], []
            for s in seg:
                kernels.append(s.kernel)
                calls.append((s.name, tuple(index[k] for k in s.keys)))
                for key, msg in index_checks(s):
                    errors[len(errors) + 1] = msg
                    checks.append((len(calls), index[key], len(errors)))
            e = K.Entry(f"{ename}{len(entries)}",
                        tuple(_param(n, plan, i) for i, n in enumerate(plan.order)),
                        tuple(calls), serial, tuple(checks))
            entries.append(e)
            steps.append(("native", e.name))
        for s in plan.steps:
            emit(None, 2, f"llvm {graph.name}: {describe(s)}")
        lib, hit = None, None
        t2 = time.perf_counter()
        if entries:
            try:
                lib, hit = self._load(kernels + entries, key, graph, layouts)
            except Exception as e:  # noqa: BLE001 - never a wrong result: interpret instead
                warnings.warn(f"ember.compile(backend='llvm'): native compilation of "
                              f"{graph.name} failed ({type(e).__name__}: {e}); this graph "
                              f"runs on the reference interpreter", RuntimeWarning)
                from .interp import InterpBackend
                return InterpBackend().prepare(graph, key)
            steps = [(k, lib.source.function(v) if k == "native" else v) for k, v in steps]
        t3 = time.perf_counter()
        results = []
        for _, v in graph.outputs:
            if v.op == INPUT:
                results.append(("input", input_pos[v]))
            elif v.op == CONSTANT and v not in index:
                results.append(("const", np.asarray(v.attrs["value"], v.dtype.np)
                                .reshape(v.shape)))
            else:
                results.append(("buf", index[v]))
        runner = GraphRunner(slots, steps, results, keepalive=lib, name=graph.name,
                             step_names=names if profiling else None, errors=errors,
                             input_strides=input_strides)
        runner.plan = plan
        runner.cache_hit = hit
        runner.timings = {"lower": t1 - t0, "codegen": t3 - t2}
        emit(None, 1, f"llvm {graph.name}: {len(plan.steps)} steps "
                      f"({sum(s.kind == 'interp' for s in plan.steps)} interp), "
                      f"{len(entries)} native entries, arena {plan.arena_bytes} bytes, "
                      f"lower {1e3 * (t1 - t0):.1f} ms, codegen {1e3 * (t3 - t2):.1f} ms"
                      f"{' (cache hit)' if hit else ''}")
        return runner

    def _load(self, callees, key, graph, layouts):
        sigs = [_signature(k) for k in callees]
        cache = self.cache or _cache.default_cache()
        ckey = None
        if key is not None:
            strided = sorted((n.attrs["name"], list(st)) for n, st in layouts.items())
            ckey = _cache.cache_key(key, _options_dict(), {"backend": "llvm-cpu",
                                                          "compiler": _compiler_fingerprint(),
                                                          "split_entries": _profiling(),
                                                          "strided_inputs": strided})
            art = cache.get(ckey)
            if art is not None and art.header.get("kernels") == sigs:
                return art.load(), True
        from ..codegen.llvm import build_ir, compile_artifact
        opts = options()
        assert opts.as_dict() == _options_dict(), "update _options_dict with CodegenOptions"
        if debug_level() >= 4 or _dump_on():
            text = build_ir(callees, opts)
            emit(None, 4, f"llvm IR of {graph.name}:\n{text}")
            dump(f"{graph.name}.ll", text)
        art = compile_artifact(callees, opts, key_info={"graph": graph.name})
        if ckey is not None:
            cache.put(ckey, art)
        return art.load(), False


_FP = []


def _compiler_fingerprint():
    """A hash of the sources that turn a captured graph into code (passes, lowering,
    codegen): a development checkout that edits them must not load artifacts built by the
    old code under an unchanged ember version. Computed from files, without llvmlite."""
    if not _FP:
        import hashlib
        import os
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        h = hashlib.sha256()
        for sub in ("passes", "ir", "compiler", os.path.join("compiler", "backends"),
                    os.path.join("compiler", "codegen", "llvm")):
            d = os.path.join(root, sub)
            for f in sorted(os.listdir(d)) if os.path.isdir(d) else ():
                if f.endswith(".py"):
                    with open(os.path.join(d, f), "rb") as fh:
                        h.update(f.encode() + fh.read())
        _FP.append(h.hexdigest()[:16])
    return _FP[0]


def _segments(plan, profiling):
    """[(consecutive native steps, or one interp step; serial)]: one native entry point per
    list. Profiling gives every kernel its own entry, run serially exactly when its merged
    entry would be (that one calls BLAS); otherwise ``serial`` is None (decided by the
    entry's calls)."""
    out = []
    for seg in native_groups(plan):
        if isinstance(seg, list) and profiling:
            serial = any(t.kind == "matmul" for t in seg)
            out.extend(([s], serial) for s in seg)
        else:
            out.append((seg, None))
    return out


def _profiling():
    import os
    return os.environ.get("EMBER_PROFILE") == "1"


def _dump_on():
    import os
    return bool(os.environ.get("EMBER_DUMP_DIR"))


def _signature(k):
    kind = "matmul" if isinstance(k, K.Matmul) else "entry" if isinstance(k, K.Entry) \
        else "kernel"
    params = k.buffers if isinstance(k, K.Entry) else k.params
    return {"name": k.name, "kind": kind,
            "params": [{"name": p.name, "dtype": p.dtype, "shape": list(p.shape),
                        "role": p.role} for p in params]}


def _ident(s):
    s = "".join(c if c.isalnum() or c == "_" else "_" for c in s) or "graph"
    return s if not s[0].isdigit() else "g_" + s


def _param(n, plan, i):
    cls, shape = plan.buffers[n][0], tuple(plan.buffers[n][1])
    if n in plan.layouts:          # an input read in place through its strides
        shape = strided_extent(n.shape, plan.layouts[n])
    return K.Param(f"b{i}", n.dtype.name, shape or (1,),
                   "in" if cls in ("input", "const") else "inout")


def _interp_step(step, index):
    """Run one group's nodes with the primitives' eager kernels on table views."""
    from ...ops import xp as _xp
    from ..interp import _eval
    xp = _xp.numpy_namespace()
    grp = step.group
    ins = [(n, index[n]) for n in step.ins]
    outs = [(n, index[n]) for n in step.outs]
    nodes = list(grp.nodes)

    def run(views):
        env = {n: views[i] for n, i in ins}
        for n in nodes:
            if n not in env:      # a value another step already produced (bias fold)
                env[n] = _eval(n, [env[i] for i in n.inputs], xp)
        for n, i in outs:
            np.copyto(views[i], env[n], casting="unsafe")
    return run
