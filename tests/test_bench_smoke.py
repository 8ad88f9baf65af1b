"""Tiny-size runs of every compiled-benchmark workload (correctness only, never timing):
ember compiled must equal ember eager, and the hand-written numpy versions the benchmark
compares against must compute the same thing as ember eager."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import compiled_workloads as cw
from ember.compiler.api import BACKENDS

ROOT = Path(__file__).resolve().parent.parent

EMBER_WORKLOADS = [w for w in cw.WORKLOADS if w.name != "copy"]
CALLS = 3  # the first compiled call runs eagerly, the second traces, the third hits the cache


def _inputs(w):
    return w.inputs(w.sizes["tiny"], np.random.default_rng(1))


def _close(a, b, what):
    np.testing.assert_allclose(cw.to_numpy(a), cw.to_numpy(b), rtol=2e-4, atol=2e-5,
                               err_msg=what)


@pytest.mark.parametrize("backend", [None, *BACKENDS])
@pytest.mark.parametrize("w", EMBER_WORKLOADS, ids=lambda w: w.name)
def test_compiled_equals_eager(w, backend):
    import ember
    inp = _inputs(w)
    eager = w.build(ember, inp, lambda f: f)
    wrap = cw.ember_compile_wrap(backend)
    compiled = w.build(ember, inp, wrap)
    for k in range(CALLS):
        _close(compiled(), eager(), f"{w.name}: call {k}")
    c = cw.compiled_fn(wrap.made[0])
    assert c.traces == 1 and c.retraces == 0, c.stats()
    assert cw.backend_of(wrap.made[0]) in BACKENDS
    if backend is not None:
        assert cw.backend_of(wrap.made[0]) == backend
    for i, (pc, pe) in enumerate(zip(compiled.params, eager.params)):
        _close(pc, pe, f"{w.name}: parameter {i} after {CALLS} steps")


@pytest.mark.parametrize("w", [w for w in cw.WORKLOADS if w.numpy is not None],
                         ids=lambda w: w.name)
def test_numpy_reference_equals_ember(w):
    import ember
    inp = _inputs(w)
    ref = w.numpy(inp)
    if w.name == "copy":
        np.testing.assert_array_equal(ref(), inp["x"])
        return
    eager = w.build(ember, inp, lambda f: f)
    for k in range(CALLS if w.train else 1):
        _close(ref(), eager(), f"{w.name}: numpy vs ember eager, call {k}")
    for name, make in w.extra_numpy.items():
        _close(make(inp)(), eager(), f"{w.name}: {name}")


def test_select_and_sizes():
    assert [w.name for w in cw.select("mlp")] == ["mlp_b32", "mlp_b128", "mlp_b2048"]
    assert [w.name for w in cw.select("rows")] == ["softmax", "layer_norm"]
    with pytest.raises(SystemExit, match="no workload"):
        cw.select("nope")
    assert cw.BY_NAME["chain"].sizes["full"] == 16 * 2 ** 20
    assert cw.BY_NAME["softmax"].sizes["full"] == (4096, 1024)


def _bench_env():
    env = dict(os.environ)
    env.pop("EMBER_CACHE_DIR", None)
    return env


def test_cli_quick_run_prints_tables():
    """The whole command path once, without PyTorch or subprocess compile timing."""
    p = subprocess.run([sys.executable, "-m", "bench", "compiled", "--quick", "--only",
                        "linear_relu", "--no-torch", "--no-compile-time"], cwd=ROOT,
                       env=_bench_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "relu(linear(x, W, b)), 256^3" in out
    assert "ember.compile backend:" in out and "(the default)" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("| relu(linear"))
    assert "(!)" not in row            # every system agreed with ember eager
    assert "## targets (issue 5)" in out


def test_cli_rejects_unknown_backend_and_workload():
    for args, msg in ((["--backend", "nope"], "nope"), (["--only", "nope"], "no workload")):
        p = subprocess.run([sys.executable, "-m", "bench", "compiled", "--no-torch", *args],
                           cwd=ROOT, env=_bench_env(), capture_output=True, text=True,
                           timeout=120)
        assert p.returncode != 0 and msg in p.stderr, (p.stdout, p.stderr)


def test_coldstart_subprocesses_report_both_runs():
    from bench.compiled import coldstart
    res = coldstart("mlp_b32", "tiny", None)
    for kind in ("cold", "warm"):
        r = res[kind]
        assert "error" not in r, r
        assert r["compile_call_s"] > 0 and r["backend"] in BACKENDS
