"""``python -m bench profile [--quick] [--only NAME]``: where ember compiled spends a
workload's time, kernel by kernel.

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


def run(quick=False, only=None, rounds=30):
    os.environ["EMBER_PROFILE"] = "1"
    for w in cw.select(only):
        if w.reference:
            continue
        size = w.sizes["quick" if quick else "full"]
        total, rows = profile(w, size, rounds)
        steps = sum(t for _, _, t, _ in rows)
        print(f"\n## {w.label(size)}: {total * 1e6:.0f} us per call, steps {steps * 1e6:.0f} us "
              f"(the rest is Python: guards, binding, autograd, optimizer glue)")
        print("| graph | step | median us | share | what |")
        print("|---|---|---:|---:|---|")
        for g, name, t, what in sorted(rows, key=lambda r: -r[2]):
            print(f"| {g} | {name} | {t * 1e6:.1f} | {100 * t / max(steps, 1e-12):.1f}% "
                  f"| {what} |")
