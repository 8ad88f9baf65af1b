"""ember.compile on the llvm backend: lowering of fused groups, the program layer (one
native entry point, buffer plan, outputs, thread safety), the on-disk cache, debug output,
and random programs against the reference interpreter backend."""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("llvmlite")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember.compiler.backends import default_backend  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from test_compile_fuzz import program  # noqa: E402


from _helpers import private_cache, training_step  # noqa: E402,F401  (private_cache: autouse)
from _helpers import compiled as _compiled, runner as _runner  # noqa: E402


def _chain(x):
    return ember.relu(x * 1.5 + 0.5) * ember.sigmoid(x) - ember.tanh(x) / 2


def test_default_backend_is_llvm():
    assert default_backend() == "llvm"
    c = ember.compile(_chain)
    assert c.backend == "llvm"


def test_chain_is_one_native_call_with_readable_name():
    c = _compiled(_chain)
    x = ember.randn(7, 33)
    x64 = x.numpy().astype(np.float64)
    ref = np.maximum(x64 * 1.5 + 0.5, 0) / (1 + np.exp(-x64)) - np.tanh(x64) / 2
    np.testing.assert_allclose(c(x).numpy(), ref, rtol=2e-6, atol=1e-6)
    r = _runner(c)
    assert r.all_native and len(r.steps) == 1
    names = [s.name for s in r.plan.steps]
    assert len(names) == 1 and names[0].startswith("fused_") and "relu" in names[0] \
        or "mul" in names[0]


@pytest.mark.parametrize("case", ["softmax", "layer_norm", "log_softmax_nll", "sum_all",
                                  "argmax", "var"])
def test_reductions_vs_float64(case):
    rng = np.random.default_rng(1)
    xn = rng.standard_normal((5, 67)).astype(np.float32)
    x64 = xn.astype(np.float64)
    tgt = rng.integers(0, 67, 5)
    x, t = ember.tensor(xn), ember.tensor(tgt)
    if case == "softmax":
        fn, ref = (lambda a: F.softmax(a, -1)), np.exp(x64) / np.exp(x64).sum(-1, keepdims=True)
    elif case == "layer_norm":
        mu, var = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
        fn, ref = (lambda a: F.layer_norm(a, (67,))), (x64 - mu) / np.sqrt(var + 1e-5)
    elif case == "log_softmax_nll":
        ls = x64 - np.log(np.exp(x64).sum(-1, keepdims=True))
        fn, ref = (lambda a: F.cross_entropy(a, t)), -ls[np.arange(5), tgt].mean()
    elif case == "sum_all":
        fn, ref = (lambda a: (a * 2).sum()), (x64 * 2).sum()
    elif case == "argmax":
        fn, ref = (lambda a: a.argmax(-1)), x64.argmax(-1)
    else:
        fn, ref = (lambda a: a.var(0)), x64.var(0, ddof=1)
    c = _compiled(fn)
    got = c(x).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    kinds = [s.kind for s in _runner(c).plan.steps]
    if case in ("softmax", "layer_norm"):
        assert kinds == ["kernel"]                 # row-local: one kernel
    elif case == "log_softmax_nll":
        assert kinds == ["kernel", "kernel"]       # rows, then the mean over rows (post)


@ember.no_grad()
def test_linear_transpose_is_a_blas_flag_and_outputs_are_fresh():
    lin = nn.Linear(6, 4)
    x = ember.randn(3, 6)
    c = _compiled(lambda a: lin(a))
    y1 = c(x)
    ref = x.numpy().astype(np.float64) @ lin.weight.detach().numpy().T.astype(np.float64) + \
        lin.bias.detach().numpy()
    np.testing.assert_allclose(y1.numpy(), ref, rtol=1e-5, atol=1e-6)
    r = _runner(c)
    kinds = [s.kind for s in r.plan.steps]
    assert "matmul" in kinds
    mm = next(s.kernel for s in r.plan.steps if s.kind == "matmul")
    assert mm.blas_layout("b")[0] is True          # W.T read in place, transposed by BLAS
    assert mm.beta == 1.0                          # bias pre-filled, folded into the gemm
    assert not any(s.kernel is not None and s.name.startswith("fused_permute")
                   for s in r.plan.steps)
    keep = y1.numpy().copy()
    y2 = c(ember.randn(3, 6))
    np.testing.assert_array_equal(y1.numpy(), keep)  # the second call did not overwrite y1
    assert not np.shares_memory(y1.numpy(), y2.numpy())


@ember.no_grad()
def test_bias_add_fused_with_its_consumer_is_not_prefilled():
    # relu(x @ W.T + b): the add belongs to the relu's kernel, so no pre-fill pass
    lin = nn.Linear(6, 40)
    x = ember.randn(50, 6)
    c = _compiled(lambda a: F.relu(lin(a)))
    got = c(x)
    ref = np.maximum(x.numpy().astype(np.float64) @ lin.weight.detach().numpy().T.astype(
        np.float64) + lin.bias.detach().numpy(), 0)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)
    steps = _runner(c).plan.steps
    assert [s.kind for s in steps] == ["matmul", "kernel"]
    assert steps[0].kernel.beta == 0.0


def test_large_outputs_come_from_a_recycled_pool():
    c = _compiled(lambda a: a * 2.0)
    x = ember.randn(256, 512)
    p1 = c(x).numpy().__array_interface__["data"][0]     # dropped at once
    p2 = c(x).numpy().__array_interface__["data"][0]
    assert p1 == p2
    held = c(x)
    p3 = c(x).numpy().__array_interface__["data"][0]
    assert p3 != held.numpy().__array_interface__["data"][0]
    np.testing.assert_array_equal(held.numpy(), x.numpy() * 2)


def test_two_threads_call_one_compiled_function():
    c = _compiled(lambda a, b: F.softmax(a * b + 1.0, -1))
    xs = [ember.randn(64, 300) for _ in range(4)]
    ys = [ember.randn(64, 300) for _ in range(4)]
    refs = [F.softmax(a * b + 1.0, -1).numpy() for a, b in zip(xs, ys)]
    c(xs[0], ys[0])
    errors = []

    def work(k):
        for _ in range(30):
            got = c(xs[k], ys[k]).numpy()
            if not np.allclose(got, refs[k], rtol=1e-5, atol=1e-7):
                errors.append(k)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_interp_group_fallback_is_logged(capsys):
    def f(x, i):
        return ember.gather(x * 2, 1, i) + 1
    x = ember.randn(3, 5)
    i = ember.tensor(np.array([[0, 4], [1, 1], [3, 2]]))
    with ember.debug(5):
        got = _compiled(f)(x, i)
    err = capsys.readouterr().err
    assert "interp group" in err and "gather" in err
    np.testing.assert_allclose(got.numpy(), np.take_along_axis(x.numpy() * 2, i.numpy(), 1) + 1)


def test_debug_levels_and_dump(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EMBER_DUMP_DIR", str(tmp_path))
    monkeypatch.setenv("EMBER_CACHE", "0")
    from ember.runtime import cache
    cache._DEFAULT.clear()
    try:
        with ember.debug(4):
            _compiled(lambda a: ember.exp(a) + 1)(ember.randn(9))
    finally:
        cache._DEFAULT.clear()
    err = capsys.readouterr().err
    assert "[ember:2] llvm" in err and "kernel outer" in err
    assert "define void @\"fused_exp_add_0\"" in err
    assert any(p.suffix == ".ll" for p in tmp_path.iterdir())


def test_compiled_training_step_matches_eager_float64():
    def make():
        ember.manual_seed(0)
        m = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).double()
        return m, ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    x = ember.randn(4, 5).double()
    y = ember.tensor(np.array([0, 2, 1, 2]))
    me, oe = make()
    mc, oc = make()
    se, sc = training_step(me, oe), ember.compile(training_step(mc, oc), backend="llvm")
    for _ in range(5):
        le, lc = se(x, y), sc(x, y)
        np.testing.assert_allclose(lc.detach().numpy(), le.detach().numpy(), rtol=1e-10)
    for pe, pc in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-10)


def test_compiled_forward_eager_backward():
    lin = nn.Linear(4, 3)
    c = ember.compile(lin, backend="llvm")
    x = ember.randn(5, 4, requires_grad=True)
    for _ in range(2):
        lin.zero_grad()
        x.grad = None
        (c(x) ** 2).sum().backward()
    gw, gx = lin.weight.grad.numpy().copy(), x.grad.numpy().copy()
    lin.zero_grad()
    x.grad = None
    (lin(x) ** 2).sum().backward()
    np.testing.assert_allclose(gw, lin.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-5, atol=1e-6)


_CACHE_SCRIPT = textwrap.dedent("""
    import sys, ember, ember.nn as nn
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    c = ember.compile(m)
    x = ember.randn(2, 8)
    c(x); y = c(x)
    from ember.runtime import cache
    st = cache.default_cache().stats()
    print("HITS", st["hits"], "WRITES", st["writes"], "LLVMLITE", "llvmlite" in sys.modules,
          "SUM", float(y.sum()))
""")


def test_second_process_hits_the_cache_without_llvmlite(tmp_path):
    env = dict(os.environ, EMBER_CACHE_DIR=str(tmp_path), EMBER_CACHE="1")
    outs = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", _CACHE_SCRIPT], env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.split())
    first, second = outs
    n = int(first[first.index("WRITES") + 1])     # forward and backward graphs
    assert n == 2 and first[first.index("HITS") + 1] == "0"
    assert int(second[second.index("HITS") + 1]) == n
    assert second[second.index("WRITES") + 1] == "0"
    assert second[second.index("LLVMLITE") + 1] == "False"
    assert first[-1] == second[-1]


# ------------------------------------------------------------------ random programs

@settings(max_examples=int(os.environ.get("EMBER_FUZZ_EXAMPLES", "20")), deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["unary", "binary", "move", "reduce",
                                               "inplace_view"]),
                              st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=6),
       n=st.sampled_from([0, 1, 3, 7]), m=st.sampled_from([1, 2, 5]),
       layout=st.sampled_from(["contiguous", "transposed", "broadcast"]),
       seed=st.integers(0, 2 ** 16))
def test_random_programs_llvm_equal_interp(ops, n, m, layout, seed):
    g = ember.Generator().manual_seed(seed)
    if layout == "transposed":
        x = ember.randn(m, n, generator=g).t()        # non-contiguous input
    else:
        x = ember.randn(n, m, generator=g)
    if layout == "broadcast":
        y = ember.randn(1, m, generator=g).expand(max(n, 1), m)
        if n == 0:
            y = ember.randn(m, generator=g)
    else:
        y = ember.randn(m, generator=g)
    f = program(ops)
    try:
        ref = _compiled(f, "interp")(x, y)
    except (RuntimeError, IndexError, ValueError):   # ShapeError: e.g. amax over 0 elements
        return                      # programs eager rejects are not this test's concern
    got = _compiled(f, "llvm")(x, y)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=2e-5)


def test_sgd_updates_are_written_into_parameter_storage():
    ember.manual_seed(1)
    m = nn.Linear(5, 3)
    opt = ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        loss = (m(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    c = ember.compile(step, backend="llvm")
    x = ember.randn(4, 5)
    c(x)                    # eager warm-up (creates the momentum buffers)
    storage = [p._data for p in m.parameters()]
    before = [p.detach().numpy().copy() for p in m.parameters()]
    c(x)
    r = _runner(c)
    assert len(r.plan.inplace) == len(list(c._cache.values())[0].executable.graph.updates)
    assert all(p._data is s for p, s in zip(m.parameters(), storage))
    # the same step eagerly from the same state gives the same parameters
    ember.manual_seed(1)
    m2 = nn.Linear(5, 3)
    opt2 = ember.optim.SGD(m2.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt2.zero_grad()
        (m2(x) ** 2).mean().backward()
        opt2.step()
    for p, q, b in zip(m.parameters(), m2.parameters(), before):
        assert not np.allclose(p.detach().numpy(), b)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


_DTYPE_CASES = {
    "float16_chain": (lambda a: _chain(a), lambda: (ember.randn(37, 5).half(),), 2e-3),
    "int_floor_div_mod": (lambda a, b: (a // b, a % b, a * b - 3, (a > 0) & (b < 3)),
                          lambda: (ember.randint(-20, 20, (7, 9)), ember.randint(-4, 5, (7, 9))),
                          0),
    "int_reductions": (lambda a: (a.sum(0), a.amax(1), a.argmax(1)),
                       lambda: (ember.randint(-20, 20, (7, 9)),), 0),
    "float64_softmax": (lambda a: (F.softmax(a, -1), F.log_softmax(a, 0), ember.exp(a).mean()),
                        lambda: (ember.randn(6, 11).double(),), 1e-12),
    "nan_inf": (lambda a: (ember.maximum(a, ember.zeros_like(a)), a.amax(), ember.relu(a)),
                lambda: (ember.tensor(np.array([np.nan, -np.inf, 1.0, np.inf, -0.0],
                                               np.float32)),), 0),
    "batched_matmul_views": (lambda a, b, c: (a @ b, a.transpose(-1, -2).transpose(-1, -2) @ c.t()),
                             lambda: (ember.randn(2, 3, 4, 5), ember.randn(5, 6),
                                      ember.randn(6, 5)), 1e-5),
}


@pytest.mark.parametrize("case", sorted(_DTYPE_CASES))
def test_dtypes_and_specials_match_eager(case):
    fn, make, tol = _DTYPE_CASES[case]
    args = make()
    got, ref = _compiled(fn)(*args), fn(*args)
    got = got if isinstance(got, tuple) else (got,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    for g, r in zip(got, ref):
        g, r = g.numpy(), r.numpy()
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g.astype(np.float64), r.astype(np.float64), rtol=tol,
                                   atol=tol)


def test_default_falls_back_to_interp_with_one_warning(monkeypatch):
    from ember.compiler import backends
    monkeypatch.setattr(backends, "_LLVM_STATE", ["ImportError: llvmlite is not installed"])
    monkeypatch.setattr(backends, "_WARNED", [])
    with pytest.warns(RuntimeWarning, match="falling back to the reference interpreter"):
        assert backends.default_backend() == "interp"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert backends.default_backend() == "interp"     # warned once only
    with pytest.raises(RuntimeError, match="llvmlite is unusable"):
        backends.get("llvm")


def _update_graph():
    """p_new = p + 1 (an in-place update of p), q_out = q * 2 read AFTER it (its own
    later kernel: a reduction)."""
    from ember.ir import GraphBuilder
    from ember.ops import dtypes, interpreter, lax
    from ember.passes import optimize
    b = GraphBuilder("upd")
    p = b.input("p", (8,), dtypes.float32)
    q = b.input("q", (4,), dtypes.float32)
    with interpreter(b):
        pn = lax.add(p, lax.full((8,), 1.0, dtypes.float32))
        s = lax.sum_(lax.mul(q, q), (0,))
    b.output("p_new", pn)
    b.output("s", s)
    b.update("p_new", "p")
    return optimize(b.build())


def test_inplace_update_is_skipped_when_another_input_overlaps_it():
    from ember.compiler.backends import get
    g = _update_graph()
    run = get("llvm").prepare(g)
    assert len(run.plan.inplace) == 1
    p = np.arange(8, dtype=np.float32)
    q = np.ones(4, np.float32)
    pn, s = run([p, q])
    assert pn is p and np.array_equal(p, np.arange(8) + 1) and s == 4   # written in place
    p = np.arange(8, dtype=np.float32)
    q = p[2:6]                       # overlaps p: must read the values from before the update
    pn, s = run([p, q])
    assert pn is not p
    np.testing.assert_array_equal(pn, np.arange(8) + 1)
    assert s == float((np.arange(2, 6) ** 2).sum())
