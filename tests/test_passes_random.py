"""Hypothesis-generated programs of elementwise, broadcast, movement and reduction ops run
through every pass pipeline (verifier after each pass) must equal the unoptimised graph
under the reference interpreter; their symbolic gradients must match finite differences."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.compiler.interp import run
from ember.ir import GraphBuilder
from ember.ir.samples import softmax
from ember.ops import dtypes as D
from ember.ops import interpreter
from ember.ops import lax as L
from ember.passes import (DEFAULT, autodiff, constant_fold, cse, dce, fuse, run_passes,
                          simplify)

f64 = D.float64
PIPELINES = {
    "simplify": [simplify], "fold": [constant_fold], "cse": [cse], "dce": [dce],
    "fuse": [fuse], "default+fuse": list(DEFAULT) + [fuse], "fuse_twice": [fuse, simplify, fuse],
}


def c(v, x):
    return L.full(L.shape_of(v), x, f64)


def _step(kind, v, w, a, b, choice):
    """One random op on values of shape (a, b) giving shape (a, b)."""
    if kind == 0:
        return [L.neg, L.tanh, L.sin, L.abs_, lambda x: L.exp(L.tanh(x)),
                lambda x: L.sqrt(L.add(L.abs_(x), c(x, 1.0)))][choice % 6](v)
    if kind == 1:
        return [L.add, L.sub, L.mul, L.maximum, L.minimum,
                lambda x, y: L.div(x, L.add(L.abs_(y), c(y, 1.0)))][choice % 6](v, w)
    if kind == 2:   # broadcast a row of w over v
        return L.add(v, L.expand(L.slice_(w, (0, 0), (1, b)), (a, b)))
    if kind == 3:   # row statistic broadcast back (keepdim reduction + expand)
        red = [L.sum_, L.reduce_max, L.reduce_min][choice % 3]
        return L.mul(v, L.expand(red(w, (1,), keepdim=True), (a, b)))
    if kind == 4:   # column statistic
        return L.sub(v, L.expand(L.sum_(w, (0,), keepdim=True), (a, b)))
    if kind == 5:
        return L.permute(L.tanh(L.permute(v, (1, 0))), (1, 0))
    if kind == 6:
        return L.reshape(L.mul(L.reshape(v, (a * b,)), c(L.reshape(v, (a * b,)), 0.5)), (a, b))
    if kind == 7 and b > 1:
        return L.pad(L.slice_(v, (0, 1), (a, b)), ((0, 0), (1, 0)), value=0.25)
    if kind == 8:
        return L.where(L.gt(v, w), v, w)
    if kind == 9:   # simplification bait
        x = L.mul(v, c(v, 1.0))
        x = L.neg(L.neg(L.add(x, c(x, -0.0))))
        return L.sub(L.cast(L.cast(x, f64), f64), c(x, 0.0))
    if kind == 10:
        return softmax(v, 1)
    if kind == 11:
        return L.flip(v, (choice % 2,))
    # total reduction broadcast back (a full, not row-local, dependency)
    return L.add(v, L.expand(L.reshape(L.sum_(w, (0, 1)), (1, 1)), (a, b)))


@st.composite
def programs(draw):
    a, b = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    steps = draw(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 10**6),
                                    st.integers(0, 10**6), st.integers(0, 5)),
                          min_size=1, max_size=8))
    n_out = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    bld = GraphBuilder("random")
    vals = [bld.input("x", (a, b), f64), bld.input("y", (a, b), f64)]
    with interpreter(bld):
        for kind, i, j, choice in steps:
            vals.append(_step(kind, vals[i % len(vals)], vals[j % len(vals)], a, b, choice))
        bld.output("last", vals[-1])
        for k in range(1, n_out):
            bld.output(f"o{k}", vals[(seed + 7 * k) % len(vals)])
        bld.output("rowsum", L.sum_(vals[-1], (1,)))
    rng = np.random.default_rng(seed)
    return bld.build(), [rng.standard_normal((a, b)) for _ in range(2)]


def _check_groups(g):
    users = g.users()
    for grp in g.groups:
        outs = g.group_outputs(grp, users)
        if grp.kind == "pointwise":
            assert len({n.shape for n in outs}) <= 1, grp
        elif grp.kind == "reduction":
            assert all(n.meta["level"] in ("full", "row", "post") for n in outs), grp


def _check_pipelines(g, args):
    want = run(g, *args)
    for name, passes in PIPELINES.items():
        opt = run_passes(g, passes, verify=True)
        _check_groups(opt)
        got = run(opt, *args)
        for w, o in zip(want, got):
            np.testing.assert_allclose(o, w, rtol=1e-12, atol=1e-12, err_msg=name)


@settings(max_examples=20, deadline=None)
@given(programs())
def test_random_programs_survive_every_pipeline(prog):
    g, args = prog
    g.verify()
    _check_pipelines(g, args)


@settings(max_examples=12, deadline=None)
@given(programs())
def test_random_backward_graphs_survive_every_pipeline_and_match_finite_differences(prog):
    g, args = prog
    joint = autodiff(g, wrt=["x", "y"], of=["last", "rowsum"])
    joint.graph.verify()
    rng = np.random.default_rng(1)
    cts = [rng.standard_normal(g.output(n).shape) for n in ("last", "rowsum")]
    _check_pipelines(joint.graph, args + cts)
    grads = run(joint.graph, *args, *cts)[-2:]

    def loss(xs):
        outs = dict(zip(g.output_names, run(g, *xs)))
        return sum(float((outs[n] * ct).sum()) for n, ct in zip(("last", "rowsum"), cts))

    eps = 1e-6
    for k in range(2):
        num = np.zeros_like(args[k])
        for idx in np.ndindex(args[k].shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        # kinks (abs, max, where) are measure-zero for normal inputs; keep a loose atol
        np.testing.assert_allclose(grads[k], num, rtol=1e-4, atol=1e-5)
