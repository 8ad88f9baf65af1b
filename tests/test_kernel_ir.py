"""The kernel IR on its own (no LLVM): verification errors, coalescing, helpers, text."""
import subprocess
import sys

import pytest

from ember.compiler import kernel_ir as K


def P(name, shape, dtype="float32", role="in"):
    return K.Param(name, dtype, tuple(shape), role)


def elementwise(shape=(4, 5), strides=(5, 1), offset=0):
    ps = (P("x", (4, 5)), P("y", (4, 5), role="out"))
    x = K.Load(K.Access(0, strides, offset), "float32")
    return K.Kernel("fused_exp_1", ps, shape, (), (K.Store(K.Access(1, (5, 1)), K.op("exp", x)),))


def test_valid_kernel_verifies_and_prints():
    k = K.verify(elementwise())
    text = str(k)
    assert text.splitlines()[0] == "kernel fused_exp_1(in x: float32[4, 5], out y: float32[4, 5])"
    assert "y[0+[5, 1]] = exp(x[0+[5, 1]])" in text


@pytest.mark.parametrize("kw,match", [
    (dict(strides=(5, 1), offset=1), "reaches elements 1..20 of param 'x'"),
    (dict(strides=(5,)), "1 strides for iteration space"),
    (dict(strides=(-5, 1)), "reaches elements -15"),
])
def test_out_of_bounds_and_bad_ranks_are_rejected(kw, match):
    with pytest.raises(K.KernelIRError, match=match):
        K.verify(elementwise(**kw))


def test_dtype_and_role_errors_name_the_problem():
    ps = (P("x", (3,)), P("i", (3,), "int32"), P("y", (3,), role="out"))
    x = K.Load(K.Access(0, (1,)), "float32")
    i = K.Load(K.Access(1, (1,)), "int32")
    bad_mix = K.Kernel("k", ps, (3,), (), (K.Store(K.Access(2, (1,)), K.Op("add", (x, i), "float32")),))
    with pytest.raises(K.KernelIRError, match="different dtypes"):
        K.verify(bad_mix)
    into_input = K.Kernel("k", ps, (3,), (), (K.Store(K.Access(0, (1,)), x),))
    with pytest.raises(K.KernelIRError, match="stores into input param 'x'"):
        K.verify(into_input)
    wrong_store = K.Kernel("k", ps, (3,), (), (K.Store(K.Access(2, (1,)), i),))
    with pytest.raises(K.KernelIRError, match="stores int32 into 'y'"):
        K.verify(wrong_store)
    ips = (P("i", (3,), "int32"), P("o", (3,), "int32", "out"))
    int_exp = K.Kernel("k", ips, (3,), (), (K.Store(K.Access(1, (1,)), K.Op(
        "exp", (K.Load(K.Access(0, (1,)), "int32"),), "int32")),))
    with pytest.raises(K.KernelIRError, match="exp: needs a float operand"):
        K.verify(int_exp)
    with pytest.raises(K.KernelIRError, match="name must be an identifier"):
        K.verify(K.Kernel("bad name", ps, (3,)))


def test_reduction_rules():
    ps = (P("x", (2, 3)), P("s", (2,), role="out"))
    x = K.Load(K.Access(0, (3, 1)), "float32")
    use_first = K.Kernel("k", ps, (2,), (3,), (K.Store(K.Access(1, (1, 0)), K.AccRef("s", "float32")),
                                              K.Reduce("s", "sum", x)))
    with pytest.raises(K.KernelIRError, match="used before its Reduce"):
        K.verify(use_first)
    race = K.Kernel("k", ps, (2,), (3,), (K.Store(K.Access(1, (1, 0)), x),))
    with pytest.raises(K.KernelIRError, match="race"):
        K.verify(race)
    overlap = K.Kernel("k", ps, (2, 3), (), (K.Store(K.Access(1, (1, 0)), x),))
    with pytest.raises(K.KernelIRError, match="stride 0 along axis 1"):
        K.verify(overlap)
    no_inner = K.Kernel("k", ps, (2,), (), (K.Reduce("s", "sum", K.Load(K.Access(0, (3,)), "float32")),))
    with pytest.raises(K.KernelIRError, match="needs inner axes"):
        K.verify(no_inner)
    ok = K.Kernel("k", ps, (2,), (3,), (K.Reduce("s", "sum", x),
                                       K.Store(K.Access(1, (1, 0)), K.AccRef("s", "float32"))))
    assert K.is_row_level(ok, ok.body[1]) and not K.is_row_level(ok, ok.body[0])
    assert K.Reduce("a", "argmax", x).dtype == "int64"


def test_coalesce_merges_contiguous_axes_and_drops_size_one():
    ps = (P("x", (4, 1, 5)), P("b", (5,)), P("y", (4, 1, 5), role="out"))
    x = K.Load(K.Access(0, (5, 5, 1)), "float32")
    k = K.Kernel("k", ps, (4, 1, 5), (), (K.Store(K.Access(2, (5, 5, 1)), x * 2.0),))
    c = K.coalesce(K.verify(k))
    assert c.outer == (20,) and c.body[0].access.strides == (1,)
    # a broadcast operand blocks the merge: (4, 5) stays two axes
    kb = K.Kernel("k", ps, (4, 1, 5), (), (K.Store(K.Access(2, (5, 5, 1)),
                                                   x + K.Load(K.Access(1, (0, 0, 1)), "float32")),))
    cb = K.coalesce(K.verify(kb))
    assert cb.outer == (4, 5)
    # axes read by an IndexVar are kept
    ki = K.Kernel("k", ps, (4, 1, 5), (), (K.Store(K.Access(2, (5, 5, 1)),
                                                   K.op("cast", K.IndexVar(0), dtype="float32")),))
    assert K.coalesce(K.verify(ki)).outer[0] == 4


def test_coalesce_keeps_an_inner_axis_for_size_one_reductions():
    ps = (P("x", (3, 1)), P("s", (3,), role="out"))
    k = K.Kernel("k", ps, (3,), (1,), (K.Reduce("s", "sum", K.Load(K.Access(0, (1, 1)), "float32")),
                                      K.Store(K.Access(1, (1, 0)), K.AccRef("s", "float32"))))
    c = K.coalesce(K.verify(k))
    assert c.inner == (1,) and c.outer == (3,)


def test_view_strides_broadcast_and_permute():
    assert K.view_strides((4, 1), (3, 4, 5)) == (0, 1, 0)
    assert K.view_strides((5, 3, 4), (3, 4, 5), perm=(1, 2, 0)) == (4, 1, 12)
    assert K.contiguous_strides((2, 3, 4)) == (12, 4, 1)
    with pytest.raises(K.KernelIRError, match="does not broadcast"):
        K.view_strides((3,), (4,))


def test_operators_build_ops_with_the_operand_dtype():
    x = K.Load(K.Access(0, (1,)), "float64")
    e = 2 - x * 1.5
    assert e.op == "sub" and e.args[0] == K.Const(2, "float64") and e.dtype == "float64"
    assert K.op("lt", x, 0.0).dtype == "bool"
    assert K.op("where", K.op("lt", x, 0.0), x, 0.0).dtype == "float64"
    assert K.op("cast", x, dtype="int32").dtype == "int32"


def test_structural_key_is_stable_across_processes():
    code = ("from ember.compiler import kernel_ir as K\n"
            "ps=(K.Param('x','float32',(4,)),K.Param('y','float32',(4,),'out'))\n"
            "x=K.Load(K.Access(0,(1,)),'float32')\n"
            "print(K.Kernel('k',ps,(4,),(),(K.Store(K.Access(1,(1,)),x*2.0),)).key())")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)}
    ps = (P("x", (4,)), P("y", (4,), role="out"))
    x = K.Load(K.Access(0, (1,)), "float32")
    here = K.Kernel("k", ps, (4,), (), (K.Store(K.Access(1, (1,)), x * 2.0),)).key()
    assert keys == {here}
