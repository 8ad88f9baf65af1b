"""Clean-up passes (DCE, CSE, constant folding, simplification) and their pipeline."""
import math

import numpy as np
import pytest

from ember.compiler.interp import run
from ember.ir import verify
from ember.ir.samples import trace
from ember.ops import dtypes as D
from ember.ops import lax as L
from ember.passes import PassLog, constant_fold, cse, dce, optimize, run_passes, simplify

f32, f64, i64 = D.float32, D.float64, D.int64


def ops_of(g):
    return [n.op for n in g.nodes if n.op != "input"]


def full(shape, v, dt=f32):
    return L.full(shape, v, dt)


# ------------------------------------------------------------------ DCE
def test_dce_drops_unused_keeps_inputs_and_outputs():
    def f(x, unused):
        L.exp(x)                   # dead
        L.random_bits(L.full((2,), 0, i64), (3,))  # a dead draw is dead too
        return L.neg(x)
    g = dce(trace(f, ("x", (3,), f32), ("unused", (3,), f32)))
    verify(g)
    assert ops_of(g) == ["neg"]
    assert g.input_names == ["x", "unused"]


# ------------------------------------------------------------------ CSE
def test_cse_merges_equal_nodes_but_not_random_draws_or_signed_zeros():
    def f(x, st):
        a = L.add(L.exp(x), L.exp(x))
        r = L.add(L.cast(L.random_bits(st, (3,)), f32), L.cast(L.random_bits(st, (3,)), f32))
        z = L.add(L.add(x, full((3,), 0.0)), L.add(x, full((3,), -0.0)))
        return a, r, z
    g = dce(cse(trace(f, ("x", (3,), f32), ("st", (2,), i64))))
    verify(g)
    assert ops_of(g).count("exp") == 1
    assert ops_of(g).count("random_bits") == 2
    assert ops_of(g).count("cast") == 2
    assert sorted(repr(n.attrs["value"]) for n in g.nodes if n.op == "full") == ["-0.0", "0.0"]
    x = np.array([-0.0, 1.0, 2.0], np.float32)
    out = run(g, x, np.array([1, 2], np.int64))
    np.testing.assert_array_equal(out[2], (x + 0.0) + (x + -0.0))


# ------------------------------------------------------------------ constant folding
def test_fold_full_elementwise_stays_full_without_materialising():
    big = (4096, 4096)  # materialising this would be 64 MiB
    g = trace(lambda x: L.add(x, L.reduce_max(L.exp(L.mul(full(big, 2.0), full(big, 3.0))),
                                              (0, 1))), ("x", (), f32))
    g = dce(constant_fold(g))
    verify(g)
    assert ops_of(g) == ["full", "add"]
    assert g.nodes[1].attrs["value"] == float(np.exp(np.float32(6.0)))


def test_fold_small_general_ops_to_constants_and_respects_limit():
    def f(x):
        idx = L.iota(5, f32)
        small = L.mul(idx, idx)              # [0, 1, 4, 9, 16]
        big = L.sum_(L.cast(L.iota(10_000, i64), f32), (0,))
        return L.add(x, small), L.add(L.sum_(x, (0,)), big)
    g = dce(constant_fold(trace(f, ("x", (5,), f32))))
    verify(g)
    consts = [n for n in g.nodes if n.op == "constant"]
    assert len(consts) == 1 and consts[0].attrs["value"] == (0.0, 1.0, 4.0, 9.0, 16.0)
    assert "iota" in ops_of(g)               # the 10 000-element chain was not folded
    x = np.ones(5, np.float32)
    out = run(g, x)
    np.testing.assert_array_equal(out[0], x + np.arange(5, dtype=np.float32) ** 2)
    np.testing.assert_allclose(out[1], 5 + np.arange(10_000, dtype=np.float32).sum(), rtol=1e-6)


def test_fold_never_folds_random_and_leaves_errors_to_run_time():
    def f():
        st = L.full((2,), 5, i64)
        bits = L.random_bits(st, (4,))
        bad = L.gather(L.iota(3, f32), L.full((2,), 7, i64), 0)
        return bits, bad
    g = constant_fold(trace(f))
    assert "random_bits" in ops_of(g) and "gather" in ops_of(g)
    with pytest.raises(IndexError, match="gather: index out of range"):
        run(g)


def test_fold_uniform_result_becomes_full_with_exact_sign():
    g = dce(constant_fold(trace(lambda: L.neg(L.mul(L.iota(3, f32), full((3,), 0.0))))))
    (n,) = [n for n in g.nodes]
    assert n.op == "full" and repr(n.attrs["value"]) == "-0.0"


# ------------------------------------------------------------------ simplification
def _simplified(fn, *specs, exact=True):
    g = trace(fn, *specs)
    s = dce(simplify(g, exact=exact))
    verify(s)
    return g, s


SPECIAL = np.array([-0.0, 0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], np.float32)


@pytest.mark.parametrize("fn,left", [
    (lambda x: L.mul(x, full((7,), 1.0)), []),
    (lambda x: L.mul(full((7,), 1.0), x), []),
    (lambda x: L.div(x, full((7,), 1.0)), []),
    (lambda x: L.pow_(x, full((7,), 1.0)), []),
    (lambda x: L.add(x, full((7,), -0.0)), []),
    (lambda x: L.sub(x, full((7,), 0.0)), []),
    (lambda x: L.neg(L.neg(x)), []),
    (lambda x: L.where(L.gt(x, full((7,), 0.0)), x, x), []),
    (lambda x: L.cast(L.cast(x, f64), f32), []),
    (lambda x: L.add(x, full((7,), 0.0)), ["full", "add"]),        # -0 + 0 = +0: kept
    (lambda x: L.sub(x, full((7,), -0.0)), ["full", "sub"]),       # same reason
    (lambda x: L.sub(x, x), ["sub"]),                              # inf - inf = nan: kept
    (lambda x: L.mul(x, full((7,), 0.0)), ["full", "mul"]),        # nan * 0 = nan: kept
])
def test_float_rules_are_exact_under_ieee(fn, left):
    g, s = _simplified(fn, ("x", (7,), f32))
    assert ops_of(s) == left
    with np.errstate(invalid="ignore"):
        want, got = run(g, SPECIAL)[0], run(s, SPECIAL)[0]
    assert want.tobytes() == got.tobytes()  # bitwise: signs of zeros and nans included


def test_inexact_float_rule_only_when_asked():
    g, s = _simplified(lambda x: L.add(x, full((7,), 0.0)), ("x", (7,), f32), exact=False)
    assert ops_of(s) == []
    np.testing.assert_array_equal(run(s, SPECIAL)[0], run(g, SPECIAL)[0])  # equal as values


def test_integer_rules():
    def f(x):
        zero = L.full((4,), 0, i64)
        return L.add(L.sub(x, x), L.mul(L.add(x, zero), L.full((4,), 0, i64))), L.sub(x, zero)
    g, s = _simplified(f, ("x", (4,), i64))
    assert set(ops_of(s)) <= {"full", "add"}
    assert s.output("out1").op == "input"
    x = np.array([1, -5, 7, 0], np.int64)
    for a, b in zip(run(g, x), run(s, x)):
        np.testing.assert_array_equal(a, b)


def test_movement_rules():
    def f(x):
        a = L.reshape(L.reshape(x, (6, 4)), (2, 12))
        p = L.permute(L.permute(x, (1, 2, 0)), (2, 0, 1))      # identity
        q = L.permute(L.permute(x, (1, 0, 2)), (0, 2, 1))      # composes to (1, 2, 0)
        e = L.expand(L.expand(L.reshape(L.slice_(x, (0, 0, 0), (1, 3, 4)), (1, 3, 4)),
                              (1, 3, 4)), (5, 3, 4))
        s = L.slice_(x, (0, 0, 0), (2, 3, 4))
        return a, p, q, e, s
    g, s = _simplified(f, ("x", (2, 3, 4), f32))
    assert ops_of(s).count("reshape") == 1 and ops_of(s).count("permute") == 1
    assert s.output("out1").op == "input" and s.output("out4").op == "input"
    q = s.output("out2")
    assert q.op == "permute" and q.attrs["perm"] == (1, 2, 0)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for a, b in zip(run(g, x), run(s, x)):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ pipeline
def test_pipeline_verifies_after_each_pass_and_names_the_culprit():
    g = trace(lambda x: L.exp(x), ("x", (3,), f32))

    def broken(graph):
        graph.nodes[-1].shape = (4,)
        return graph
    with pytest.raises(ValueError, match=r"after pass broken: .*meta rule gives float32\[3\]"):
        run_passes(g, [simplify, broken], verify=True)
    log = PassLog()
    optimize(g, verify=True, log=log)
    assert any("pass fuse" in m for m in log.messages(1))
    assert any(m.startswith("graph after simplify") for m in log.messages(3))


def test_passes_do_not_mutate_their_input():
    g = trace(lambda x: L.neg(L.neg(L.mul(x, full((3,), 1.0)))), ("x", (3,), f32))
    before = str(g)
    optimize(g, verify=True)
    assert str(g) == before


def test_full_values_with_int_in_float_dtype_compare_by_value():
    # full(value=1) in a float graph is 1.0: x * 1 still simplifies
    g, s = _simplified(lambda x: L.mul(x, L.full((3,), 1, f32)), ("x", (3,), f32))
    assert ops_of(s) == []
    assert math.isnan(run(s, np.array([np.nan, 0, 1], np.float32))[0][0])
