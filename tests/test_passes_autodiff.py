"""Symbolic autodiff and the forward/backward partitioner, against eager autograd and
finite differences."""
import numpy as np
import pytest

import ember
from ember import ops
from ember.compiler.interp import run, run_dict
from ember.ir import GraphBuilder
from ember.ir.samples import (chain, gelu, layer_norm, linear, log_softmax, nll_loss, softmax,
                              trace)
from ember.ops import dtypes as D
from ember.ops import lax as L
from ember.passes import autodiff, optimize, partition

f64, f32, i64 = D.float64, D.float32, D.int64


def _conv(x, w):
    y = L.conv_general(x, w, (1, 1), ((1, 1), (0, 1)), (1, 1), (1, 1), 1)
    return L.reduce_max(L.window(y, (2, 2), (1, 1), (1, 1)), (4, 5))


CASES = [
    ("chain", chain, [(3, 4)]),
    ("gelu", gelu, [(3, 4)]),
    ("softmax", lambda x: softmax(x, 1), [(3, 5)]),
    ("log_softmax_nll", lambda x, t: nll_loss(log_softmax(x, 1), t), [(4, 5), "target"]),
    ("layer_norm", layer_norm, [(3, 6), (6,), (6,)]),
    ("linear", linear, [(4, 3), (5, 3), (5,)]),
    ("conv_pool", _conv, [(2, 2, 4, 4), (3, 2, 3, 2)]),
    ("reductions", lambda x: L.add(L.prod(x, (1,), keepdim=True),
                                   L.reduce_min(x, (1,), keepdim=True)), [(3, 4)]),
]


def _args(specs, rng):
    return [rng.integers(0, 5, size=(4,)).astype(np.int64) if s == "target"
            else rng.standard_normal(s) for s in specs]


def _graph(fn, args):
    return trace(fn, *[(f"a{k}", a.shape, D.from_numpy(a.dtype)) for k, a in enumerate(args)])


@pytest.mark.parametrize("name,fn,specs", CASES, ids=[c[0] for c in CASES])
def test_autodiff_matches_eager_autograd(name, fn, specs, rng):
    args = _args(specs, rng)
    g = _graph(fn, args)
    wrt = [n for n, a in zip(g.input_names, args) if a.dtype == np.float64]
    joint = autodiff(g, wrt=wrt)
    joint.graph.verify()
    ct = rng.standard_normal(g.output("out").shape)
    res = run_dict(joint.graph, *args, ct)
    # eager: the same program on ember tensors, the frontend's autograd engine
    ts = [ember.tensor(a, requires_grad=a.dtype == np.float64) for a in args]
    out = fn(*ts)
    out.backward(ember.tensor(ct))
    np.testing.assert_allclose(res["out"], out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for k, t in enumerate(ts):
        if t.requires_grad:
            np.testing.assert_allclose(res[f"grad_a{k}"], t.grad.numpy(), rtol=1e-10,
                                       atol=1e-12)
    # optimised and partitioned versions compute the same gradients
    opt = run_dict(optimize(joint.graph, verify=True), *args, ct)
    p = partition(joint)
    p.forward.verify()
    p.backward.verify()
    fwd = run_dict(p.forward, *args)
    saved = [fwd[r.name] for r in p.residuals]
    bwd = run_dict(p.backward, *saved, ct)
    np.testing.assert_allclose(fwd["out"], res["out"], rtol=1e-12)
    for name_ in joint.grad_outputs:
        np.testing.assert_allclose(opt[name_], res[name_], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bwd[name_], res[name_], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,fn,specs", [c for c in CASES if c[0] in
                                           ("layer_norm", "log_softmax_nll", "conv_pool")],
                         ids=["layer_norm", "log_softmax_nll", "conv_pool"])
def test_autodiff_matches_finite_differences(name, fn, specs, rng):
    args = _args(specs, rng)
    g = _graph(fn, args)
    x_names = [n for n, a in zip(g.input_names, args) if a.dtype == np.float64]
    joint = autodiff(optimize(g), wrt=x_names, seed="ones" if g.output("out").shape == ()
                     else "cotangent")
    ct = [] if joint.cotangent_inputs == [] else [np.ones(g.output("out").shape)]
    grads = run_dict(joint.graph, *args, *ct)
    eps = 1e-6
    for k, a in enumerate(args):
        if a.dtype != np.float64:
            continue
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi = [x.copy() for x in args]
            lo = [x.copy() for x in args]
            hi[k][idx] += eps
            lo[k][idx] -= eps
            num[idx] = (run(g, *hi)[0].sum() - run(g, *lo)[0].sum()) / (2 * eps)
        np.testing.assert_allclose(grads[f"grad_a{k}"], num, rtol=1e-6, atol=1e-7)


def test_stop_gradient_and_non_differentiable_paths():
    b = GraphBuilder()
    x = b.input("x", (3,), f64)
    with ops.interpreter(b):
        y = L.mul(x, b.stop_gradient(x))                 # d/dx = stop(x) only
        z = L.add(y, L.expand(L.cast(L.argmax(x, 0, keepdim=True), f64), (3,)))  # no grad
        b.output("z", L.sum_(z, (0,)))
    joint = autodiff(b.build(), seed="ones")
    xv = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(run_dict(joint.graph, xv)["grad_x"], xv)


def test_unreached_inputs_get_zeros_and_bad_requests_raise():
    g = trace(lambda x, y, i: L.exp(x), ("x", (2,), f64), ("y", (3,), f64), ("i", (2,), i64))
    joint = autodiff(g, seed="ones")
    assert joint.wrt == ["x", "y"]
    out = run_dict(joint.graph, np.zeros(2), np.ones(3), np.zeros(2, np.int64))
    np.testing.assert_array_equal(out["grad_y"], np.zeros(3))
    with pytest.raises(TypeError, match="input 'i' is ember.int64"):
        autodiff(g, wrt=["i"])
    with pytest.raises(ValueError, match="seed must be"):
        autodiff(g, seed="twos")


def test_backward_nodes_point_at_the_forward_line():
    g = trace(lambda x: L.tanh(x), ("x", (2,), f64))
    fwd_loc = g.output("out").loc
    joint = autodiff(g)
    bwd = [n for n in joint.graph.nodes if n.op in ("mul", "sub")]
    assert bwd and all(n.loc == fwd_loc for n in bwd)


def test_partition_saves_row_statistics_not_their_broadcasts():
    g = trace(lambda x: softmax(x, 1), ("x", (4, 16), f32))
    p = partition(autodiff(g))
    shapes = sorted(r.shape for r in p.residuals)
    # softmax backward needs the output-sized exp and the row sums; expands and constants
    # are recomputed in the backward graph rather than saved
    assert all(s in ((4, 16), (4, 1)) for s in shapes), p.report()
    assert sum(1 for s in shapes if s == (4, 16)) <= 2
    assert not any(n.op == "full" for n in p.forward.nodes
                   if n in {p.forward.output(r.name) for r in p.residuals})
    assert "saved residuals" in p.report() and "bytes" in p.report()
    assert p.saved_bytes == sum(r.nbytes for r in p.residuals)


def test_partition_places_backward_only_work_in_the_backward():
    # tanh's derivative 1 - out^2 reads no cotangent, but only the backward needs it; the
    # elementwise tanh is recomputed there from x rather than saved by the forward
    g = trace(lambda x: L.tanh(x), ("x", (8,), f32))
    p = partition(autodiff(g))
    assert [n.op for n in p.forward.nodes if n.op != "input"] == ["tanh"]
    assert [r.shape for r in p.residuals] == [(8,)]
    assert p.residuals[0].is_input is True
    assert "tanh" in [n.op for n in p.backward.nodes]
