"""``python -m bench compiled [--quick] [--only NAME] [--backend NAME]``: compiled speed
(issue 5). For each workload of bench/compiled_workloads.py, side by side in one process:
ember eager, ember compiled (the default backend of ``ember.compile`` unless --backend),
numpy written by hand with preallocated buffers, PyTorch eager and torch.compile (when
torch is installed), all with the same thread count. Every system's first results are
checked against ember eager's before anything is timed; timings are medians of
interleaved rounds after warm-up. Compile time is measured separately in subprocesses:
cold (fresh EMBER_CACHE_DIR) and warm (a new process, cache filled). The run ends with the
issue's targets, met or missed by how much.
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import compiled_workloads as cw
from .harness import measure, try_import_torch

EMBER = ("ember eager", "ember compiled")
COMPILE_TIME_WORKLOADS = ("mlp_b32", "chain", "cnn_train")
CHECK_CALLS = 2          # ember compiled: call 1 runs eagerly, call 2 traces and compiles
BUDGET_S = {"full": 4.0, "quick": 1.0}   # timed seconds per workload, roughly


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def is_peer(name):
    return not name.startswith("ember")


def best_peer(row):
    peers = {k: v for k, v in row.items() if is_peer(k)}
    if not peers:
        return None, None
    k = min(peers, key=peers.get)
    return k, peers[k]


# ------------------------------------------------------------------ one workload
def systems_for(w, inp, torch, backend):
    import ember
    ident = lambda f: f  # noqa: E731
    wrap = cw.ember_compile_wrap(backend)
    systems = {"ember eager": w.build(ember, inp, ident)}
    if not w.reference:
        systems["ember compiled"] = w.build(ember, inp, wrap)
    if w.numpy is not None:
        systems["numpy"] = w.numpy(inp)
    for name, make in w.extra_numpy.items():
        systems[name] = make(inp)
    if torch is not None:
        systems["torch eager"] = w.build(torch, inp, ident)
        if not w.reference:
            systems["torch.compile"] = w.build(torch, inp, torch.compile)
    return {k: v for k, v in systems.items() if v is not None}, wrap


def first_calls(w, systems):
    """Run every system CHECK_CALLS times, timing the calls (compilation happens here)
    and comparing call k of every system with ember eager's (or the first system's) call k:
    a timing only means something if the systems compute the same thing."""
    first, problems = {}, []
    results = {}
    for name, fn in list(systems.items()):
        t0 = time.perf_counter()
        try:
            results[name] = [cw.to_numpy(fn()) for _ in range(CHECK_CALLS)]
        except Exception as e:  # noqa: BLE001 - one broken system must not stop the run
            problems.append(f"{w.name}: {name} failed and was dropped: "
                            f"{type(e).__name__}: {str(e).splitlines()[0][:300]}")
            del systems[name]
            continue
        first[name] = time.perf_counter() - t0
    ref_name = "ember eager" if "ember eager" in results else next(iter(results))
    ref = results[ref_name]
    for name, rs in results.items():
        for k, (a, b) in enumerate(zip(rs, ref)):
            scale = max(1.0, float(np.abs(b).max(initial=0)))
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-3, atol=1e-4 * scale):
                err = np.abs(a - b).max() if a.shape == b.shape else f"shape {a.shape} vs {b.shape}"
                problems.append(f"{w.name}: {name} call {k + 1} differs from {ref_name} "
                                f"(max abs diff {err})")
    return first, problems


def time_systems(systems, tier):
    """Adaptive repetition: each timed sample lasts >= ~20 ms (inner loop), and the rounds
    fit the tier's budget (at least 5 for a median, at most 15)."""
    single = {}
    for name, fn in systems.items():
        # The best of a few calls: one call disturbed by a neighbour would otherwise set a
        # tiny inner loop for the whole workload.
        ts = []
        while len(ts) < 3 and sum(ts) < 0.5:
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        single[name] = min(ts)
    inner = int(min(50, max(1, 0.02 / max(min(single.values()), 1e-6))))
    per_round = inner * sum(single.values())
    rounds = int(min(15, max(5, BUDGET_S[tier] / max(per_round, 1e-9))))
    return measure(systems, rounds=rounds, warmup=1, inner=inner), rounds, inner


def profile_top(fn, seconds=0.3, top=3):
    """Where a system's time goes, by the profiler's own time per function: a ctypes call
    into native code is charged to the Python function that makes it, so a runtime whose
    native call dominates shows that function near 100%."""
    import cProfile
    import pstats
    pr = cProfile.Profile()
    n, t0 = 0, time.perf_counter()
    pr.enable()
    while n < 2 or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    pr.disable()
    st = pstats.Stats(pr)
    total = st.total_tt or 1.0
    ranked = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return [(f"{Path(f).name}:{ln}({func})" if ln else func, tt / total)
            for (f, ln, func), (_, _, tt, _, _) in ranked]


def run_workload(w, tier, torch, backend):
    inp = w.inputs(w.sizes[tier], np.random.default_rng(0))
    systems, wrap = systems_for(w, inp, torch, backend)
    first, problems = first_calls(w, systems)
    times, rounds, inner = time_systems(systems, tier)
    prof = profile_top(systems["ember compiled"]) if "ember compiled" in systems else None
    backend_name = cw.backend_of(wrap.made[0]) if wrap.made else None
    if wrap.made and cw.compiled_fn(wrap.made[0]).retraces:
        problems.append(f"{w.name}: ember compiled retraced "
                        f"({cw.compiled_fn(wrap.made[0]).last_retrace_reason})")
    label = w.label(w.sizes[tier])
    del systems
    gc.collect()
    return {"label": label, "times": times, "first": first, "problems": problems,
            "backend": backend_name, "rounds": rounds, "inner": inner, "profile": prof}


# ------------------------------------------------------------------ compile time
def coldstart(name, tier, backend):
    """Cold then warm compile of one workload in fresh processes sharing a new cache."""
    root = Path(__file__).resolve().parent.parent
    out = {}
    with tempfile.TemporaryDirectory(prefix="ember-bench-cache-") as cache:
        env = dict(os.environ, EMBER_CACHE_DIR=cache)
        env.pop("EMBER_CACHE", None)
        for kind in ("cold", "warm"):
            try:
                p = subprocess.run([sys.executable, "-m", "bench.compiled_coldstart", name,
                                    tier, backend or "-"], cwd=root, env=env,
                                   capture_output=True, text=True, timeout=600)
            except subprocess.TimeoutExpired:
                out[kind] = {"error": "timed out after 600 s"}
                continue
            line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
            if p.returncode or not line:
                out[kind] = {"error": (p.stderr or p.stdout).strip().splitlines()[-1:]}
            else:
                out[kind] = json.loads(line[-1][len("RESULT "):])
    return out


def compile_table(results):
    print("\n## compile time (first call to compiled result, separate processes)")
    print("ember's first call of a compiled function runs eagerly; the second traces, "
          "compiles and runs: 'compile call' times that second call. Cold: fresh "
          "EMBER_CACHE_DIR; warm: a new process (ember imported) with the cache filled.\n")
    print("| workload | backend | cold compile call | warm compile call | eager first call | "
          "cold breakdown | warm cache | llvmlite imported (warm) |")
    print("|---|---|---:|---:|---:|---|---|---|")
    for label, r in results.items():
        cold, warm = r.get("cold", {}), r.get("warm", {})
        if "error" in cold or "error" in warm:
            print(f"| {label} | - | error: {cold.get('error') or warm.get('error')} | | | | | |")
            continue
        br = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in cold["timings"].items())
        print(f"| {label} | {cold['backend']} | {fmt_time(cold['compile_call_s'])} | "
              f"{fmt_time(warm['compile_call_s'])} | {fmt_time(cold['eager_first_call_s'])} | "
              f"{br} | {_cache_str(warm.get('cache'))} | {warm.get('llvmlite_imported')} |")


def _cache_str(c):
    if not isinstance(c, dict) or "hits" not in c:
        return str(c)
    return f"hits {c['hits']}, misses {c['misses']}, corrupt {c.get('corrupt', 0)}"


# ------------------------------------------------------------------ tables
ORDER = ("ember eager", "ember compiled", "numpy")


def column_order(rows):
    """ember first, then numpy, numpy variants, then the torch systems: the same columns
    in the same order in every table."""
    present = []
    for r in rows.values():
        for s in r["times"]:
            if s not in present:
                present.append(s)
    rank = lambda s: (ORDER.index(s) if s in ORDER else  # noqa: E731
                      len(ORDER) + 1 if s.startswith("torch") else len(ORDER))
    return sorted(present, key=lambda s: (rank(s), present.index(s)))


def group_table(title, rows):
    systems = column_order(rows)
    print(f"\n## {title}")
    head = ["workload"] + systems + ["best peer"] + [f"{e} speedup vs best peer"
                                                     for e in EMBER if e in systems]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(systems) + "---|" + "---:|" * (len(head) - len(systems) - 2))
    for r in rows.values():
        t = r["times"]
        bp, bt = best_peer(t)
        cells = [r["label"] + (" (!)" if r["problems"] else "")]
        cells += [fmt_time(t.get(s)) for s in systems]
        cells.append(bp or "-")
        cells += [f"{bt / t[e]:.2f}x" if bt and e in t else "-" for e in EMBER if e in systems]
        print("| " + " | ".join(cells) + " |")


def first_call_table(rows):
    print("\n## first two calls, in-process (includes compilation; torch.compile uses "
          "Inductor's on-disk cache as it finds it)")
    print("| workload | ember compiled | torch.compile | ember eager |")
    print("|---|---:|---:|---:|")
    for r in rows.values():
        f = r["first"]
        print(f"| {r['label']} | {fmt_time(f.get('ember compiled'))} | "
              f"{fmt_time(f.get('torch.compile'))} | {fmt_time(f.get('ember eager'))} |")


def profile_table(rows):
    print("\n## where ember compiled spends its time (profiler's own time per function; "
          "native calls count in their Python caller)")
    print("| workload | ember compiled | top functions |")
    print("|---|---:|---|")
    for r in rows.values():
        if r.get("profile"):
            tops = "; ".join(f"{name} {share:.0%}" for name, share in r["profile"])
            print(f"| {r['label']} | {fmt_time(r['times'].get('ember compiled'))} | {tops} |")


# ------------------------------------------------------------------ targets
def speedup(rows, name, over):
    r = rows.get(name)
    if r is None or "ember compiled" not in r["times"] or over not in r["times"]:
        return None
    return r["times"][over] / r["times"]["ember compiled"]


def targets(rows, compile_res):
    """[(description, measured, goal, higher_is_better)] for every target that ran."""
    out = []
    if "chain" in rows and "copy" in rows:
        c = rows["copy"]["times"].get("numpy")
        e = rows["chain"]["times"].get("ember compiled")
        if c and e:   # the chain moves the bytes of a copy: read 16M, write 16M
            out.append(("chain: ember compiled bandwidth / np.copyto's", c / e, 0.75, True))
    spec = [("chain", "torch.compile", 5.0), ("gelu_bwd", "torch.compile", 3.0),
            ("gelu", "torch eager", 3.0), ("softmax", "torch eager", 1.0),
            ("layer_norm", "torch eager", 1.0), ("mlp_b32", "torch eager", 2.0),
            ("mlp_b128", "torch eager", 1.5), ("mlp_b2048", "torch eager", 1.8),
            ("mlp_b32", "numpy", 1.0), ("mlp_b128", "numpy", 1.0), ("mlp_b2048", "numpy", 1.0),
            ("cnn_infer", "torch.compile", 1.0),
            ("linear_relu", "numpy np.maximum(x @ W.T + b, 0)", 1.1)]
    for name, over, goal in spec:
        s = speedup(rows, name, over)
        if s is not None:
            out.append((f"{rows[name]['label']}: ember compiled speedup over {over}", s, goal,
                        True))
    mlp = compile_res.get("mlp_b32", {})
    for kind, goal in (("cold", 0.5), ("warm", 0.05)):
        v = mlp.get(kind, {}).get("compile_call_s")
        if v is not None:
            out.append((f"{rows['mlp_b32']['label']}: {kind} compile, seconds", v, goal,
                        False))
    return out


def summary(rows, compile_res, tier):
    print("\n## targets (issue 5)")
    if tier != "full":
        print("(--quick sizes: the targets are stated for the full sizes; indicative only)\n")
    print("| target | measured | goal | status |")
    print("|---|---:|---:|---|")
    met = 0
    ts = targets(rows, compile_res)
    for desc, v, goal, higher in ts:
        ok = v >= goal if higher else v <= goal
        met += ok
        if ok:
            status = "met"
        elif higher:
            status = f"missed by {(1 - v / goal) * 100:.1f}% (needs {goal / v:.2f}x more)"
        else:
            status = f"missed: {(v / goal - 1) * 100:.0f}% over the limit"
        unit = "x" if higher else " s"
        print(f"| {desc} | {v:.3g}{unit} | {goal:g}{unit} | {status} |")
    print(f"\n{met} of {len(ts)} targets met. Ratios are measured side by side in this run; "
          "the machines are shared, so rerun a row that looks off with --only NAME. For why "
          "a row is slow, see the profile table above.")


# ------------------------------------------------------------------ entry point
def run(quick=False, only=None, backend=None, compile_time=True, with_torch=True):
    tier = "quick" if quick else "full"
    threads = os.environ.get("EMBER_BENCH_THREADS", "2")
    if backend is not None:
        import ember
        try:
            ember.compile(lambda x: x, backend=backend)
        except (NotImplementedError, ValueError) as e:
            raise SystemExit(f"--backend {backend}: {e}") from None
    torch = try_import_torch() if with_torch else None
    work = cw.select(only)
    if any(w.name == "chain" for w in work) and not any(w.name == "copy" for w in work):
        work.insert(0, cw.BY_NAME["copy"])       # the chain's physical reference
    print(f"\n# compiled speed ({tier} sizes), {threads} threads everywhere")
    rows, backends = {}, set()
    for w in work:
        t0 = time.perf_counter()
        rows[w.name] = r = run_workload(w, tier, torch, backend)
        if r["backend"]:
            backends.add(r["backend"])
        print(f"  ran {r['label']}: {time.perf_counter() - t0:.1f} s "
              f"({r['rounds']} rounds x {r['inner']})", file=sys.stderr, flush=True)
    if torch is not None:
        torch_desc = f"torch {torch.__version__} with {torch.get_num_threads()} threads"
    else:
        torch_desc = "torch not installed" if with_torch else "torch left out (--no-torch)"
    print(f"\nember.compile backend: {', '.join(sorted(backends)) or '-'}"
          f"{' (requested)' if backend else ' (the default)'}; {torch_desc}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"EMBER_NUM_THREADS={os.environ.get('EMBER_NUM_THREADS', 'unset')}; thread spin: " +
          ", ".join(f"{k}={os.environ[k]}" for k in
                    ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")
                    if k in os.environ))
    for g, title in cw.GROUPS.items():
        sel = {k: r for k, r in rows.items() if cw.BY_NAME[k].group == g}
        if sel:
            group_table(title, sel)
    if "copy" in rows:
        n = cw.BY_NAME["copy"].sizes[tier]
        bw = {s: 2 * 4 * n / t / 1e9 for s, t in rows["copy"]["times"].items()}
        print("\ncopy bandwidth (read + write): " +
              ", ".join(f"{s} {v:.1f} GB/s" for s, v in bw.items()))
    first_call_table({k: r for k, r in rows.items() if k != "copy"})
    profile_table(rows)
    problems = [p for r in rows.values() for p in r["problems"]]
    if problems:
        print("\n**results that disagree (rows marked (!)):**")
        for p in problems:
            print(f"- {p}")
    compile_res = {}
    if compile_time:
        for name in COMPILE_TIME_WORKLOADS:
            if name in rows and (tier == "full" or name == "mlp_b32"):
                compile_res[name] = coldstart(name, tier, backend)
        if compile_res:
            compile_table({rows[k]["label"]: v for k, v in compile_res.items()})
    summary(rows, compile_res, tier)
    return rows, compile_res
