"""Timing helpers shared by every benchmark: interleaved rounds, medians, ratio tables.

These machines are shared and noisy, so systems of one workload run interleaved in the
same process and only medians and ratios are reported.
"""
from __future__ import annotations

import os
import statistics
import sys
import time


def reexec_without_openblas_overrides(module="bench"):
    """OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on these machines and slow OpenBLAS;
    they are read when it loads, so benchmarks re-execute themselves without them."""
    if any(k in os.environ for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        os.execve(sys.executable, [sys.executable, "-m", module] + sys.argv[1:], env)


def measure(systems, rounds=9, warmup=3, inner=1):
    """``systems``: {name: zero-arg callable}. Returns {name: median seconds per call}."""
    samples = {k: [] for k in systems}
    for _ in range(warmup):
        for fn in systems.values():
            fn()
    for _ in range(rounds):
        for name, fn in systems.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - t0) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


def table(title, rows, unit="us", scale=1e6, ref=None):
    """Print rows {workload: {system: seconds}} with ratios against ``ref``."""
    print(f"\n## {title}")
    systems = []
    for r in rows.values():
        for s in r:
            if s not in systems:
                systems.append(s)
    head = "| workload | " + " | ".join(f"{s} ({unit})" for s in systems)
    if ref:
        head += " | " + " | ".join(f"{s} / {ref}" for s in systems if s != ref)
    print(head + " |")
    print("|" + "---|" * (1 + len(systems) + (len(systems) - 1 if ref else 0)))
    for w, r in rows.items():
        cells = [f"{r[s] * scale:.2f}" if s in r else "-" for s in systems]
        if ref:
            cells += [f"{r[s] / r[ref]:.2f}x" if s in r and ref in r else "-"
                      for s in systems if s != ref]
        print(f"| {w} | " + " | ".join(cells) + " |")


def try_import_torch():
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("EMBER_BENCH_THREADS", "2")))
        return torch
    except ImportError:
        return None
