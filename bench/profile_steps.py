"""``python -m bench profile [--quick] [--only NAME]``: where ember compiled spends a
workload's time, kernel by kernel, and what the Python wrapper costs.

First the workload is built as usual (one native entry point per graph) and timed; then
its native entries are replaced by no-ops and the calls timed again: that is the
wrapper's overhead (guard check, binding, the pointer table, write-back of in-place
updates, wrapping the outputs, and for a compiled backward the autograd glue).

Each workload is compiled with ``EMBER_PROFILE=1`` (every kernel its own native entry
point, so each can be timed on its own; the normal build runs consecutive kernels in one
entry), run for a few warm-up calls and then timed: the table lists every step of every
graph (forward and backward) with its median time per call and its share of the sum.
Kernel names say what they fuse (docs/CODEGEN.md); ``gemm``/``_gemm`` steps are BLAS calls.
"""
from __future__ import annotations

import os
import statistics
import time

import numpy as np

from . import compiled_workloads as cw


def _describe(runner, name):
    plan = getattr(runner, "plan", None)
    if plan is None:
        return ""
    from ember.compiler.backends.plan import describe
    for s in plan.steps:
        if s.name == name:
            d = describe(s)
            return d.split(": ", 1)[1] if ": " in d else d
    return ""


def profile(w, size, rounds):
    import ember
    from ember.runtime import program
    rng = np.random.default_rng(0)
    inp = w.inputs(size, rng)
    fn = w.build(ember, inp, cw.ember_compile_wrap())
    start = len(program.PROFILED)
    for _ in range(3):            # eager call, trace + compile, one warm call
        fn()
    runners = program.PROFILED[start:]
    for r in runners:
        for v in r.step_times.values():
            v.clear()
    t0 = time.perf_counter()
    for _ in range(rounds):
        fn()
    total = (time.perf_counter() - t0) / rounds
    rows = []
    for r in runners:
        for name, ts in r.step_times.items():
            if ts:
                rows.append((r.name, name, statistics.median(ts) * len(ts) / rounds,
                             _describe(r, name)))
    return total, rows


def overhead(w, size, rounds):
    """(seconds per call, seconds per call with every native entry replaced by a no-op)
    with the normal build: the second is the wrapper's own cost. (Timing the native calls
    inside a real call and subtracting over-counts it: after a call that streamed
    megabytes through the caches, the Python around it runs on cold caches.)"""
    import ember
    from ember.runtime import program
    os.environ.pop("EMBER_PROFILE", None)
    made = []
    real_init = program.GraphRunner.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        made.append(self)
    program.GraphRunner.__init__ = init
    try:
        inp = w.inputs(size, np.random.default_rng(0))
        fn = w.build(ember, inp, cw.ember_compile_wrap())
        for _ in range(3):
            fn()
    finally:
        program.GraphRunner.__init__ = real_init

    def median_call(n):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)
    full = median_call(rounds)
    for r in made:     # results are garbage from here on: this build is discarded
        r.steps = [(k, (lambda table: 0) if k == "native" else f) for k, f in r.steps]
    median_call(20)
    return full, median_call(300)


def run(quick=False, only=None, rounds=30):
    for w in cw.select(only):
        if w.reference:
            continue
        size = w.sizes["quick" if quick else "full"]
        per_call, wrapper = overhead(w, size, rounds)
        print(f"\n## {w.label(size)}: {per_call * 1e6:.0f} us per call (one native entry per "
              f"graph); wrapper overhead {wrapper * 1e6:.1f} us (the call with no-op native "
              f"entries: guards, binding, write-back, outputs)")
        os.environ["EMBER_PROFILE"] = "1"
        total, rows = profile(w, size, rounds)
        steps = sum(t for _, _, t, _ in rows)
        print(f"kernel by kernel (each its own entry point, timed): {total * 1e6:.0f} us per "
              f"call, steps {steps * 1e6:.0f} us")
        print("| graph | step | median us | share | what |")
        print("|---|---|---:|---:|---|")
        for g, name, t, what in sorted(rows, key=lambda r: -r[2]):
            print(f"| {g} | {name} | {t * 1e6:.1f} | {100 * t / max(steps, 1e-12):.1f}% "
                  f"| {what} |")
