"""Bad input gets a clear error (naming the op, the argument and the shapes), never a
wrong answer."""
import numpy as np
import pytest

import ember


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "lt", "eq", "maximum", "pow"])
def test_broadcast_mismatch_names_op_and_both_shapes(op):
    a, b = ember.ones(2, 3), ember.ones(4, 3)
    with pytest.raises(RuntimeError) as e:
        getattr(a, op)(b)
    msg = str(e.value)
    assert "(2, 3)" in msg and "(4, 3)" in msg
    assert msg.split(":")[0] in (op, "pow", "div", "maximum") or op in msg


def test_other_shape_errors_name_shapes():
    a = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"2x3 and 4x3"):
        a @ ember.ones(4, 3)
    with pytest.raises(RuntimeError, match=r"cat.*Expected size 3 but got size 4"):
        ember.cat([a, ember.ones(2, 4)])
    with pytest.raises(RuntimeError, match=r"stack.*\(2, 3\).*\(4, 3\)"):
        ember.stack([a, ember.ones(4, 3)])
    with pytest.raises(RuntimeError, match=r"expanded size.*\[3, 3\].*\[2, 3\]"):
        a.expand(3, 3)
    with pytest.raises(RuntimeError, match=r"copy_.*\[2\].*\[3\]"):
        ember.ones(2).copy_(ember.ones(3))
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        a.view(5)


def test_impossible_view_explains_and_suggests_reshape():
    with pytest.raises(RuntimeError) as e:
        ember.ones(2, 3).t().view(6)
    msg = str(e.value)
    assert "reshape" in msg and "(3, 2)" in msg and "stride" in msg


def test_backward_on_non_scalar_says_so():
    x = ember.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 2\).*gradient"):
        (x * 2).backward()


def test_inplace_on_leaf_requiring_grad():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul_: a leaf Variable that requires grad"):
        x.mul_(2)
    with pytest.raises(RuntimeError, match=r"leaf Variable that requires grad"):
        x += 1


@pytest.mark.parametrize("fn,dtypes", [
    (lambda: ember.ones(2, dtype=ember.int64) & ember.ones(2), ["float32"]),
    (lambda: ember.ones(2) | ember.ones(2), ["float32"]),
    (lambda: ember.ones(2, dtype=ember.int64).add_(1.5), ["float32", "int64"]),
    (lambda: ember.ones(2, dtype=ember.int32).sqrt_(), ["float32", "int32"]),
    (lambda: ember.ones(2).gather(0, ember.ones(2)), ["int64", "float32"]),
    (lambda: ember.ones(3)[ember.tensor([0.5])], ["long", "int", "byte", "bool"]),
])
def test_unsupported_dtype_combinations_name_the_dtypes(fn, dtypes):
    with pytest.raises((TypeError, RuntimeError, IndexError)) as e:
        fn()
    for d in dtypes:
        assert d in str(e.value)


def test_indexing_out_of_range_raises_index_error():
    x = ember.ones(2, 3)
    for bad in [lambda: x[2], lambda: x[-3], lambda: x[0, 3], lambda: x[ember.tensor([0, 2])],
                lambda: x[:, [3]], lambda: x.select(1, 5), lambda: x.__setitem__(5, 1.0)]:
        with pytest.raises(IndexError, match=r"out of (bounds|range)"):
            bad()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.transpose(0, 2)


def test_expand_write_and_readonly_write():
    x = ember.ones(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match=r"add_.*single memory location.*clone"):
        x.add_(1)
    a = np.ones(3)
    a.flags.writeable = False
    t = ember.from_numpy(a)
    with pytest.raises(RuntimeError, match="read-only"):
        t.mul_(2)
    assert a.tolist() == [1., 1., 1.]


def test_misc_clear_errors():
    with pytest.raises(RuntimeError, match="ambiguous"):
        if ember.ones(3):
            pass
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        ember.ones(6).view(-1, -1)
    with pytest.raises(RuntimeError, match="CUDA|cuda"):
        ember.ones(2).cuda()
    with pytest.raises(RuntimeError, match="second time"):
        x = ember.ones(2, requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
