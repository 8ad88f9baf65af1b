"""Tiny-size runs of every compiled-benchmark workload (correctness only, never timing):
ember compiled must equal ember eager, and the hand-written numpy versions the benchmark
compares against must compute the same thing as ember eager."""
import numpy as np
import pytest

from bench import compiled_workloads as cw

EMBER_WORKLOADS = [w for w in cw.WORKLOADS if w.name != "copy"]
CALLS = 3  # the first compiled call runs eagerly, the second traces, the third hits the cache


def _inputs(w):
    return w.inputs(w.sizes["tiny"], np.random.default_rng(1))


def _close(a, b, what):
    np.testing.assert_allclose(cw.to_numpy(a), cw.to_numpy(b), rtol=2e-4, atol=2e-5,
                               err_msg=what)


@pytest.mark.parametrize("w", EMBER_WORKLOADS, ids=lambda w: w.name)
def test_compiled_equals_eager(w):
    import ember
    inp = _inputs(w)
    eager = w.build(ember, inp, lambda f: f)
    wrap = cw.ember_compile_wrap()
    compiled = w.build(ember, inp, wrap)
    for k in range(CALLS):
        _close(compiled(), eager(), f"{w.name}: call {k}")
    c = cw.compiled_fn(wrap.made[0])
    assert c.traces == 1 and c.retraces == 0, c.stats()
    assert cw.backend_of(wrap.made[0]) != "default"
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
