"""The reference interpreter backend against direct eager execution of the same programs."""
import numpy as np
import pytest

from ember import ops
from ember.compiler.interp import InterpreterError, run, run_dict
from ember.ir import GraphBuilder
from ember.ir.samples import (chain, gelu, layer_norm, linear, log_softmax, nll_loss, softmax,
                              trace)
from ember.ops import dtypes as D
from ember.ops import lax as L
from ember.passes import fuse, optimize

f32, f64, i64 = D.float32, D.float64, D.int64


def _direct(fn, arrays):
    """The same lax program on raw numpy arrays (ArrayInterpreter: eager kernels)."""
    with ops.interpreter(ops.ArrayInterpreter()):
        out = fn(*arrays)
    return out if isinstance(out, tuple) else (out,)


def _conv_pool(x, w):
    y = L.conv_general(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1), (1, 1), 1)
    win = L.window(y, (2, 2), (2, 2), (1, 1))
    return L.reduce_max(win, (4, 5)), L.fold(win, (4, 4), (2, 2), (2, 2), (1, 1))


def _indexing(x, idx, state):
    a = L.scatter_add(L.zeros_like(x), idx, L.slice_(x, (0, 0), (3, 2)), 1)
    b = L.slice_scatter(a, L.full((1, 4), 2.0, f64), (1, 0), (2, 4), (1, 1))
    c = L.cat([b, L.flip(x, (0,))], 0)
    bits = L.random_bits(state, (6, 4))
    noise = L.div(L.cast(bits, f64), L.full((6, 4), 2.0 ** 32, f64))
    return (L.add(c, noise), L.argmax(c, 1), L.prod(x, (0,)), L.scatter(x, idx, L.neg(
        L.slice_(x, (0, 0), (3, 2))), 1))


CASES = [
    ("chain", chain, [((4, 8), f32)]),
    ("gelu", gelu, [((3, 5), f64)]),
    ("softmax", lambda x: softmax(x, 1), [((4, 6), f32)]),
    ("log_softmax_nll", lambda x, t: nll_loss(log_softmax(x, 1), t), [((4, 6), f64), "target"]),
    ("layer_norm", layer_norm, [((3, 8), f32), ((8,), f32), ((8,), f32)]),
    ("linear", linear, [((4, 3), f64), ((5, 3), f64), ((5,), f64)]),
    ("conv_pool", _conv_pool, [((2, 3, 4, 4), f64), ((2, 3, 3, 3), f64)]),
    ("indexing", _indexing, [((3, 4), f64), "index", "state"]),
]


def _arrays(specs, rng):
    out = []
    for s in specs:
        if s == "target":
            out.append(rng.integers(0, 6, size=(4,)).astype(np.int64))
        elif s == "index":
            out.append(rng.integers(0, 4, size=(3, 2)).astype(np.int64))
        elif s == "state":
            out.append(np.array([7, 3], dtype=np.int64))
        else:
            shape, dt = s
            out.append(rng.standard_normal(shape).astype(dt.np))
    return out


@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_interpreter_equals_direct_execution(name, fn, specs, rng):
    arrays = _arrays(specs, rng)
    g = trace(fn, *[(f"a{k}", a.shape, D.from_numpy(a.dtype)) for k, a in enumerate(arrays)])
    g.verify()
    want = _direct(fn, arrays)
    got = run(g, *arrays)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # same kernels, same order: bitwise
    fused = fuse(g)
    fused.verify()
    for a, b in zip(run(fused, *arrays), want):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(run(optimize(g, verify=True), *arrays), want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_inputs_by_name_and_bad_inputs(rng):
    g = trace(lambda x, y: L.add(x, y), ("x", (2, 3), f32), ("y", (2, 3), f32))
    x, y = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2))
    np.testing.assert_array_equal(run_dict(g, {"x": x, "y": y})["out"], x + y)
    with pytest.raises(InterpreterError, match=r"takes 2 inputs \(x, y\), got 1"):
        run(g, x)
    with pytest.raises(InterpreterError, match=r"input 'y' expects float32\[2, 3\], got "
                                               r"float64\[2, 3\]"):
        run(g, x, y.astype(np.float64))
    with pytest.raises(InterpreterError, match=r"missing inputs \['y'\]"):
        run(g, {"x": x})


def test_calling_convention_updates_inputs_in_place(rng):
    b = GraphBuilder()
    p = b.input("p", (3,), f64)
    gr = b.input("grad", (3,), f64)
    with ops.interpreter(b):
        new = L.sub(p, L.mul(gr, L.full((3,), 0.1, f64)))
        view = L.reshape(p, (3, 1))
    b.output("p_new", new)
    b.output("p_view", view)
    b.update("p_new", "p")
    g = b.build()
    g.verify()
    pa, ga = rng.standard_normal(3), rng.standard_normal(3)
    before = pa.copy()
    storage = pa
    outs = run(g, pa, ga, update_inputs=True)
    assert storage is pa
    np.testing.assert_array_equal(pa, before - ga * 0.1)
    # the reshape output is a copy taken before the write-back: it never aliases an input
    np.testing.assert_array_equal(outs[1][:, 0], before)
    assert not np.shares_memory(outs[1], pa)


def test_markers_constant_and_stop_gradient():
    b = GraphBuilder()
    x = b.input("x", (2, 2), f32)
    with ops.interpreter(b):
        c = b.constant([[1.0, -2.0], [np.nan, 0.5]], f32)
        y = b.stop_gradient(L.mul(x, c))
    b.output("y", y)
    x_ = np.arange(4, dtype=np.float32).reshape(2, 2)
    np.testing.assert_array_equal(run(b.build(), x_)[0],
                                  x_ * np.array([[1, -2], [np.nan, 0.5]], np.float32))
