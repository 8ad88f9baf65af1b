"""Fusion: kernel counts for the standard patterns, group invariants, refusals and their
logged reasons, extern groups."""
import numpy as np
import pytest

from ember import ops
from ember.compiler.interp import run
from ember.ir import GraphBuilder
from ember.ir.samples import (chain, gelu, layer_norm, linear, log_softmax, nll_loss, relu,
                              softmax, trace)
from ember.ops import dtypes as D
from ember.ops import lax as L
from ember.passes import PassLog, autodiff, fuse, optimize
from ember.passes import fusion as fusion_mod

f32, i64 = D.float32, D.int64
nx = pytest.importorskip("networkx")


def compiled(g, log=None):
    o = optimize(g, verify=True, log=log)
    _check_groups(o)
    return o


def _check_groups(g):
    """Group invariants, checked independently of the pass with networkx."""
    dg = g.to_networkx()
    cond = nx.DiGraph()
    for u, v in dg.edges:
        gu, gv = dg.nodes[u]["group"], dg.nodes[v]["group"]
        if gu is not None and gu != gv:
            cond.add_edge(gu, gv)
    assert nx.is_directed_acyclic_graph(cond)
    users = g.users()
    for grp in g.groups:
        assert not grp.name.startswith("kernel")
        outs = g.group_outputs(grp, users)
        if grp.kind == "pointwise":
            assert len({n.shape for n in outs}) <= 1, grp
        if grp.kind in ("extern", "opaque"):
            assert len(grp.nodes) == 1


def _counts(fn, *specs):
    return len(compiled(trace(fn, *specs)).groups)


def test_elementwise_chain_is_one_kernel():
    g = compiled(trace(chain, ("x", (8, 16), f32)))
    assert len(g.groups) == 1
    assert g.groups[0].name.startswith("fused_mul_add_relu_sigmoid")


def test_gelu_forward_is_one_kernel():
    assert _counts(gelu, ("x", (8, 16), f32)) == 1


def test_softmax_is_one_kernel():
    g = compiled(trace(lambda x: softmax(x, 1), ("x", (8, 16), f32)))
    assert len(g.groups) == 1 and g.groups[0].kind == "reduction"
    assert sum(n.op in ("sum", "reduce_max") for n in g.groups[0].nodes) == 2


def test_log_softmax_nll_is_one_kernel():
    g = compiled(trace(lambda x, t: nll_loss(log_softmax(x, 1), t), ("x", (8, 16), f32),
                       ("t", (8,), i64)))
    assert len(g.groups) == 1
    assert g.groups[0].name.startswith("fused_log_softmax_nll_loss")


def test_layer_norm_forward_is_one_kernel():
    assert _counts(layer_norm, ("x", (8, 16), f32), ("w", (16,), f32), ("b", (16,), f32)) == 1


@pytest.mark.parametrize("seed", ["ones", "cotangent"])
def test_gelu_forward_backward_at_most_two_kernels(seed):
    g = trace(lambda x: L.sum_(gelu(x), (0, 1)), ("x", (8, 16), f32))
    joint = autodiff(g, seed=seed)
    fused = compiled(joint.graph)
    assert len(fused.groups) <= 2
    args = [np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32)]
    args += [np.float32(1.0).reshape(())] if seed == "cotangent" else []
    for a, b in zip(run(fused, *args), run(joint.graph, *args)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_softmax_and_layer_norm_backward_fuse_into_few_kernels():
    g = trace(lambda x: softmax(x, 1), ("x", (8, 16), f32))
    assert len(compiled(autodiff(g).graph).groups) <= 2
    g = trace(layer_norm, ("x", (8, 16), f32), ("w", (16,), f32), ("b", (16,), f32))
    # row-local input grads + column sums for w and b
    assert len(compiled(autodiff(g).graph).groups) <= 4


def test_matmul_is_extern_with_bias_hint_and_activation_after():
    g = compiled(trace(lambda x, w, b: relu(linear(x, w, b)), ("x", (4, 3), f32),
                       ("w", (5, 3), f32), ("b", (5,), f32)))
    kinds = [grp.kind for grp in g.groups]
    assert kinds.count("extern") == 1 and len(g.groups) <= 3
    ext = next(grp for grp in g.groups if grp.kind == "extern")
    assert ext.name.startswith("extern_matmul")
    add = next(n for n in g.nodes if n.id == ext.hints["bias_add"])
    assert add.op == "add"
    after = g.group_of()[add]
    assert after.kind == "pointwise" and any(n.op == "where" for n in after.nodes)
    (wt,) = [grp for grp in g.groups if grp.hints.get("view")]
    assert [n.op for n in wt.nodes] == ["permute"]


def test_scatter_is_opaque():
    def f(x, i):
        return L.exp(L.scatter_add(L.neg(x), i, L.slice_(x, (0, 0), (2, 2)), 1))
    g = compiled(trace(f, ("x", (3, 4), f32), ("i", (2, 2), i64)))
    kinds = [grp.kind for grp in g.groups]
    assert kinds.count("opaque") == 1 and kinds[-1] == "pointwise"
    (op,) = [grp for grp in g.groups if grp.kind == "opaque"]
    assert [n.op for n in op.nodes] == ["scatter_add"] and op.name.startswith("scatter_add_")


def test_refused_fusions_are_logged_with_reasons():
    log = PassLog()
    # a column sum plus a row sum laid out as a row: two reductions over different axes
    compiled(trace(lambda x: L.add(L.sum_(x, (0,), keepdim=True),
                                   L.reshape(L.sum_(x, (1,)), (1, 4))),
                   ("x", (4, 4), f32)), log=log)
    msgs = log.messages(5)
    refusals = [m for m in msgs if m.startswith("cannot fuse")]
    assert refusals and all(": " in m for m in refusals)
    assert any("moves a reduced value to shape (1, 4), which is neither the full shape (4, 4)"
               in m for m in refusals)


def test_fusion_never_creates_a_cycle_through_an_extern():
    # a -> matmul -> c and a -> c: fusing a into c would need matmul inside the group
    log = PassLog()

    def f(x, w):
        a = L.exp(x)
        return L.add(a, L.matmul(a, w))
    g = compiled(trace(f, ("x", (4, 4), f32), ("w", (4, 4), f32)), log=log)
    assert len(g.groups) == 3
    assert any("cycle" in m for m in log.messages(5))


def test_row_limit_splits_global_two_pass_patterns(monkeypatch):
    def f(x):  # x - mean(x) over the whole tensor: two passes over all data
        m = L.sum_(x, (0, 1))
        return L.sub(L.exp(x), L.expand(L.reshape(m, (1, 1)), (4, 8)))
    g = trace(f, ("x", (4, 8), f32))
    assert len(compiled(g).groups) == 1          # 32 elements: one row-local kernel
    monkeypatch.setattr(fusion_mod, "ROW_LIMIT", 16)
    log = PassLog()
    fused = compiled(g, log=log)
    assert len(fused.groups) == 2
    assert any("exceeds ROW_LIMIT=16" in m for m in log.messages(5))
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    np.testing.assert_allclose(run(fused, x)[0], run(g, x)[0], rtol=1e-6)


def test_post_level_values_cannot_feed_rows():
    # mean over rows of a row statistic, then used per row: needs every row first
    def f(x):
        r = L.sum_(x, (1,), keepdim=True)                     # (4, 1)
        tot = L.sum_(r, (0, 1))                                # post level
        return L.mul(x, L.expand(L.reshape(tot, (1, 1)), (4, 8)))
    log = PassLog()
    g = compiled(trace(f, ("x", (4, 8), f32)), log=log)
    assert len(g.groups) == 2
    assert any("needs every row first" in m or "neither" in m or "not a reduction" in m
               for m in log.messages(5))


def test_group_names_use_ops_and_are_unique():
    g = compiled(trace(lambda x, w: L.tanh(L.matmul(L.exp(x), w)), ("x", (4, 4), f32),
                       ("w", (4, 4), f32)))
    names = [grp.name for grp in g.groups]
    assert names == ["fused_exp_0", "extern_matmul_1", "fused_tanh_2"]


def test_fuse_is_idempotent_and_keeps_updates():
    b = GraphBuilder()
    p = b.input("p", (3,), f32)
    with ops.interpreter(b):
        new = L.sub(p, L.mul(p, L.full((3,), 0.5, f32)))
    b.output("p_new", new)
    b.update("p_new", "p")
    g1 = fuse(b.build())
    g2 = fuse(g1)
    g2.verify()
    assert g2.updates == {"p_new": "p"}
    assert [grp.name for grp in g1.groups] == [grp.name for grp in g2.groups]


def test_reduction_groups_describe_their_rows_for_code_generators():
    g = compiled(trace(lambda x, t: nll_loss(log_softmax(x, 1), t), ("x", (8, 16), f32),
                       ("t", (8,), i64)))
    (grp,) = g.groups
    assert grp.hints["shape"] == (8, 16) and grp.hints["axes"] == (1,)
    levels = {n.op: n.meta["level"] for n in grp.nodes if n.op in ("gather", "exp", "div")}
    assert levels == {"gather": "row", "exp": "full", "div": "post"}
    again = type(g).from_json(g.to_json())
    assert again.groups[0].hints == grp.hints
    assert [n.meta["level"] for n in again.groups[0].nodes] == [n.meta["level"] for n in grp.nodes]


@pytest.mark.parametrize("move,groups", [
    (lambda y: L.flip(y, (1,)), 1),              # reverses within each row: row-local
    (lambda y: L.flip(y, (0,)), 2),              # row i reads row n-1-i's statistics
    (lambda y: L.permute(y, (1, 0)), 2),         # square, so the shape alone cannot tell
])
def test_movement_of_reduced_values_stays_within_rows(move, groups):
    def f(x):
        return L.mul(move(softmax(x, 1)), x)
    log = PassLog()
    g = trace(f, ("x", (6, 6), f32))
    fused = compiled(g, log=log)
    assert len(fused.groups) == groups
    if groups == 2:
        assert any("across rows" in m for m in log.messages(5))
    x = np.random.default_rng(0).standard_normal((6, 6)).astype(np.float32)
    np.testing.assert_allclose(run(fused, x)[0], run(g, x)[0], rtol=1e-6)
