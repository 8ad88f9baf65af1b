"""``ember.ops`` stands alone: with ``ember.frontend`` blocked it imports, runs primitives
on raw numpy arrays through ``ops.bind`` (the ArrayInterpreter) and evaluates VJP rules,
whose inner ``bind`` calls also run on arrays."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(r"""
    import sys
    import os
    import types
    sys.modules["ember.frontend"] = None          # any import of the frontend now fails
    # ember/__init__.py builds the torch-like namespace from the frontend, so stand in an
    # empty package for ``ember``: only ember.ops (and what it imports) can load
    pkg = types.ModuleType("ember")
    pkg.__path__ = [os.path.join(ROOT, "ember")]
    sys.modules["ember"] = pkg
    import numpy as np
    from ember import ops
    from ember.ops import lax as L
    assert "ember.frontend" not in [m for m in sys.modules if sys.modules[m] is not None]
    assert isinstance(ops.current_interpreter(), ops.ArrayInterpreter)
    P = ops.PRIMITIVES
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((2, 3))

    assert np.array_equal(ops.bind(P["add"], a, b), a + b)
    assert np.allclose(ops.bind(P["exp"], a), np.exp(a))
    assert ops.bind(P["gt"], a, b).dtype == np.bool_
    s = ops.bind(P["sum"], a, axes=(1,), keepdim=False)
    assert np.allclose(s, a.sum(1))
    m = ops.bind(P["matmul"], a, b.T.copy())
    assert np.allclose(m, a @ b.T)
    r = ops.bind(P["reshape"], a, shape=(3, 2))
    assert r.shape == (3, 2)
    f = ops.bind(P["full"], shape=(2,), value=1.5, dtype=ops.dtypes.float64)
    assert f.tolist() == [1.5, 1.5]
    bits = ops.bind(P["random_bits"], np.array([0, 0], np.int64), shape=(4,))
    assert [hex(v) for v in bits.tolist()] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c",
                                               "0x9b00dbd8"]

    # meta errors name the op and the shapes
    try:
        ops.bind(P["add"], a, np.zeros((3, 2)))
    except ops.ShapeError as e:
        assert "add" in str(e) and "(2, 3)" in str(e) and "(3, 2)" in str(e)
    else:
        raise AssertionError("shape mismatch not caught")

    # VJP rules run on arrays too: d/da (a * b) . g = g * b ; d tanh = g * (1 - out^2)
    g = rng.standard_normal((2, 3))
    ga, gb = P["mul"].vjp(g, a * b, a, b)
    assert np.allclose(ga, g * b) and np.allclose(gb, g * a)
    out = np.tanh(a)
    (gx,) = P["tanh"].vjp(g, out, a)
    assert np.allclose(gx, g * (1 - out ** 2))
    # a structural rule: the reduction VJP broadcasts back over the reduced axes
    (gs,) = P["sum"].vjp(np.ones(2), s, a, axes=(1,), keepdim=False)
    assert gs.shape == (2, 3) and np.all(gs == 1)
    # matmul's VJP with batch broadcasting sums over the broadcast batch dims
    x = rng.standard_normal((4, 2, 3)); w = rng.standard_normal((3, 5))
    gy = rng.standard_normal((4, 2, 5))
    gx, gw = P["matmul"].vjp(gy, x @ w, x, w)
    assert np.allclose(gx, gy @ w.T) and np.allclose(gw, np.einsum("bij,bik->jk", x, gy))
    # conv's VJP is conv again: check <conv(x, w), g> = <x, conv_vjp_x(g)> (adjointness)
    x = rng.standard_normal((1, 2, 6)); w = rng.standard_normal((3, 2, 3))
    attrs = dict(stride=(2,), padding=((1, 1),), lhs_dilation=(1,), rhs_dilation=(1,), groups=1)
    y = ops.bind(P["conv_general"], x, w, **attrs)
    gy = rng.standard_normal(y.shape)
    gx, gw = P["conv_general"].vjp(gy, y, x, w, **attrs)
    assert np.isclose(np.sum(y * gy), np.sum(x * gx)) and np.isclose(np.sum(y * gy), np.sum(w * gw))
    loaded = sorted(m for m in sys.modules if m.startswith("ember.") and sys.modules[m] is not None)
    assert all(m.startswith("ember.ops") for m in loaded), loaded
    print("OK")
""")


def test_ops_runs_without_the_frontend():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([sys.executable, "-c", f"ROOT = {root!r}\n" + SCRIPT],
                         capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("OK")
