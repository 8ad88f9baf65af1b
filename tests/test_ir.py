"""The graph IR: builder, text form, verifier, JSON, structural hash, networkx/DOT."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from ember import ops
from ember.ops import dtypes as D
from ember.ops import lax as L
from ember.ir import (INPUT, Graph, GraphBuilder, Group, Node, VerifyError, from_json,
                      structural_hash, to_json, verify)
from ember.ir.samples import layer_norm, softmax, trace
from ember.passes import fuse

HERE = os.path.basename(__file__)


def _mlp_graph():
    b = GraphBuilder("mlp")
    x = b.input("x", (4, 3), D.float32)
    w = b.input("w", (5, 3), D.float32)
    with ops.interpreter(b):
        y = L.matmul(x, L.permute(w, (1, 0)))
        z = L.where(L.gt(y, L.scalar_like(y, 0)), y, L.scalar_like(y, 0))
    b.output("z", z)
    return b.build()


def test_builder_derives_types_and_locations():
    b = GraphBuilder()
    x = b.input("x", (2, 3), D.float32)
    with ops.interpreter(b):
        s = L.sum_(L.exp(x), (1,), keepdim=True); line = sys._getframe().f_lineno  # noqa: E702
    assert s.shape == (2, 1) and s.dtype is D.float32
    assert s.op == "sum" and s.attrs == {"axes": (1,), "keepdim": True}
    assert s.loc == f"{__file__}:{line}"
    b.output("s", s)
    g = b.build()
    assert [n.op for n in g.nodes] == ["input", "exp", "sum"]
    assert g.input_names == ["x"] and g.output_names == ["s"]
    verify(g)


def test_builder_rejects_bad_input():
    b = GraphBuilder()
    x = b.input("x", (2, 3), D.float32)
    y = b.input("y", (3, 2), D.float32)
    with pytest.raises(ops.ShapeError, match=r"add: .*\(2, 3\) and \(3, 2\) \(at .*test_ir.py:"):
        b.add("add", (x, y))
    with pytest.raises(TypeError, match="operand 1 is a float"):
        b.add("add", (x, 1.0))
    with pytest.raises(ValueError, match="duplicate input name 'x'"):
        b.input("x", (1,), D.float32)
    with pytest.raises(ValueError, match="unknown op 'frobnicate'"):
        b.add("frobnicate", (x,))
    other = GraphBuilder().input("z", (2, 3), D.float32)
    with pytest.raises(ValueError, match="another graph"):
        b.add("add", (x, other))


def test_text_form_one_line_per_node_with_user_location():
    g = _mlp_graph()
    text = str(g)
    lines = text.splitlines()
    assert lines[0] == "graph mlp(x: float32[4, 3], w: float32[5, 3]) {"
    body = [ln for ln in lines if "=" in ln and "return" not in ln]
    assert len(body) == len(g.nodes) - 2  # inputs are in the header
    assert any("matmul(x, %2)" in ln for ln in body)
    assert all(f"# {HERE}:" in ln for ln in body)
    assert "float32[4, 5] = where(" in text
    assert lines[-2] == "  return (z=%7)" and lines[-1] == "}"
    fused = str(fuse(g))
    assert "group extern_matmul_" in fused and "(pointwise)" in fused


def _node(g, op):
    return next(n for n in g.nodes if n.op == op)


def test_verifier_rederives_shapes_and_dtypes():
    g = _mlp_graph()
    verify(g)
    _node(g, "where").shape = (4, 4)
    with pytest.raises(VerifyError, match=r"recorded float32\[4, 4\] but the meta rule gives "
                                          r"float32\[4, 5\]"):
        verify(g)


def test_verifier_rejects_mixed_dtype_binary():
    b = GraphBuilder()
    x = b.input("x", (3,), D.float32)
    y = b.input("y", (3,), D.float64)
    n = Node(99, "add", (x, y), {}, (3,), D.float32, "cpu")
    g = Graph([x, y, n], [("o", n)])
    with pytest.raises(VerifyError, match="mixed operand dtypes.*insert a cast"):
        verify(g)


def test_verifier_def_before_use_outputs_updates():
    g = _mlp_graph()
    g.nodes.reverse()
    with pytest.raises(VerifyError, match="used before it is defined"):
        verify(g)
    g = _mlp_graph()
    stray = Node(123, "neg", (g.nodes[0],), {}, (4, 3), D.float32, "cpu")
    with pytest.raises(VerifyError, match="not in the graph"):
        verify(Graph(g.nodes, [("o", stray)]))
    with pytest.raises(VerifyError, match="no input named 'nope'"):
        verify(Graph(g.nodes, g.outputs, {"z": "nope"}))
    with pytest.raises(VerifyError, match=r"cannot be written into input float32\[4, 3\]"):
        verify(Graph(g.nodes, g.outputs, {"z": "x"}))
    dup = g.nodes[1]
    with pytest.raises(VerifyError, match="duplicate node id"):
        verify(Graph(g.nodes + [Node(dup.id, "neg", (dup,), {}, dup.shape, dup.dtype, "cpu")],
                     g.outputs))


def test_verifier_checks_groups():
    g = _mlp_graph()
    nodes = [n for n in g.nodes if n.op != INPUT]
    verify(Graph(g.nodes, g.outputs, groups=[Group("a", "pointwise", nodes)]))
    with pytest.raises(VerifyError, match="in no group"):
        verify(Graph(g.nodes, g.outputs, groups=[Group("a", "pointwise", nodes[:-1])]))
    with pytest.raises(VerifyError, match="not contiguous"):
        verify(Graph(g.nodes, g.outputs, groups=[Group("a", "pointwise", nodes[::2]),
                                                 Group("b", "pointwise", nodes[1::2])]))


def test_verifier_rejects_groups_that_would_form_a_cycle():
    # a -> b -> c with a and c in one group and b outside: the group graph AC <-> B has a
    # cycle; groups must be contiguous in a topological node order, which rules it out
    b = GraphBuilder()
    x = b.input("x", (3,), D.float32)
    with ops.interpreter(b):
        a = L.neg(x)
        b1 = L.exp(a)
        c = L.add(a, b1)
    b.output("c", c)
    g = b.build()
    verify(Graph(g.nodes, g.outputs, groups=[Group("A", "pointwise", [a]),
                                             Group("B", "pointwise", [b1]),
                                             Group("C", "pointwise", [c])]))
    with pytest.raises(VerifyError, match="not contiguous"):
        verify(Graph(g.nodes, g.outputs, groups=[Group("AC", "pointwise", [a, c]),
                                                 Group("B", "pointwise", [b1])]))


def _rich_graph():
    b = GraphBuilder("rich")
    x = b.input("x", (2, 3), D.float32)
    t = b.input("t", (2,), D.int64)
    st = b.input("state", (2,), D.int64)
    with ops.interpreter(b):
        c = b.constant([[1.5, -0.0, math.nan], [math.inf, -math.inf, 1e-30]], D.float32)
        y = L.add(L.mul(x, c), L.full((2, 3), -0.0, D.float32))
        y = L.pad(y, ((0, 0), (1, 1)), value=float("-inf"))
        r = L.random_bits(st, (2, 5))
        h = L.cast(r, D.float32)
        g = L.gather(L.add(y, h), L.reshape(t, (2, 1)), 1)
        s = b.stop_gradient(g)
        bump = L.add(st, L.full((2,), 1, D.int64))
    b.output("s", s)
    b.output("state_out", bump)
    b.update("state_out", "state")
    return fuse(b.build())


def test_json_round_trip_is_exact():
    g = _rich_graph()
    text = to_json(g)
    json.loads(text)  # standard JSON: no NaN/Infinity literals
    assert "NaN" not in text and "Infinity" not in text
    g2 = from_json(text)
    assert to_json(g2) == text
    verify(g2)
    assert structural_hash(g2) == structural_hash(g)
    assert str(g2) == str(g)
    for a, b in zip(g.nodes, g2.nodes):
        assert (a.id, a.op, a.shape, a.dtype, a.device, a.loc) == (b.id, b.op, b.shape, b.dtype,
                                                                   b.device, b.loc)
        assert [i.id for i in a.inputs] == [i.id for i in b.inputs]
        assert repr(a.attrs) == repr(b.attrs)  # tuples stay tuples, -0.0 stays -0.0, nan
    assert [(x.name, x.kind, [n.id for n in x.nodes], x.hints) for x in g.groups] == \
        [(x.name, x.kind, [n.id for n in x.nodes], x.hints) for x in g2.groups]
    assert g2.updates == {"state_out": "state"}


def test_json_rejects_other_versions():
    rec = json.loads(to_json(_mlp_graph()))
    rec["version"] = 99
    with pytest.raises(ValueError, match="version 99 is not supported"):
        from_json(json.dumps(rec))
    with pytest.raises(ValueError, match="not an ember IR graph"):
        from_json("{}")


def test_structural_hash_ignores_locations_and_names_but_not_structure():
    g = _mlp_graph()
    h = structural_hash(g)
    for n in g.nodes:
        n.loc = "elsewhere.py:1"
        n.meta["fn"] = "x"
    g.name = "renamed"
    assert structural_hash(g) == h
    _node(g, "permute").attrs["perm"] = (0, 1)
    assert structural_hash(g) != h
    g2 = trace(lambda x: L.add(x, L.full((3,), 0.0, D.float32)), ("x", (3,), D.float32))
    g3 = trace(lambda x: L.add(x, L.full((3,), -0.0, D.float32)), ("x", (3,), D.float32))
    assert structural_hash(g2) != structural_hash(g3)


_HASH_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
import test_ir
print(test_ir._rich_graph().structural_hash())
"""


def test_structural_hash_stable_across_processes():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = _HASH_SCRIPT.format(root=root, tests=os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == _rich_graph().structural_hash()


def test_networkx_and_dot():
    nx = pytest.importorskip("networkx")
    g = fuse(trace(lambda x, w, b: layer_norm(x, w, b), ("x", (2, 4), D.float32),
                   ("w", (4,), D.float32), ("b", (4,), D.float32)))
    dg = g.to_networkx()
    assert nx.is_directed_acyclic_graph(dg)
    assert dg.number_of_nodes() == len(g.nodes)
    assert dg.number_of_edges() == len({(i.id, n.id) for n in g.nodes for i in n.inputs})
    sums = [k for k, d in dg.nodes(data=True) if d["op"] == "sum"]
    assert len(sums) == 2 and nx.has_path(dg, sums[0], sums[1])
    assert {d["group"] for k, d in dg.nodes(data=True) if d["op"] != "input"} == {g.groups[0].name}
    out = g.output("out")
    assert dg.nodes[out.id]["outputs"] == ["out"]
    dot = g.to_dot()
    assert dot.startswith('digraph "f" {') and dot.rstrip().endswith("}")
    assert "subgraph cluster_0" in dot and g.groups[0].name in dot
    assert dot.count(" -> ") == sum(len(n.inputs) for n in g.nodes)
    assert "\\n" in dot and "\\\\n" not in dot


def test_ir_values_work_with_lax_helpers():
    g = trace(lambda x: softmax(x, 1), ("x", (2, 5), D.float64))
    assert g.output("out").shape == (2, 5)
    assert any(n.op == "stop_gradient" for n in g.nodes)
    assert np.dtype(g.output("out").dtype.np) == np.float64
