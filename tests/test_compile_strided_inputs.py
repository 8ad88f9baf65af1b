"""Strided arguments on the llvm backend: a transposed, sliced or expanded view passed to a
compiled function is read in place through its strides (no per-call copy); values match
eager, gradients flow, in-place updates of such a view land in its storage, and views the
kernels cannot read (negative strides, flat reshapes) still give the right answer."""
import numpy as np
import pytest

pytest.importorskip("llvmlite")

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402

from _helpers import private_cache  # noqa: E402,F401  (autouse: a private EMBER_CACHE_DIR)
from _helpers import compiled as _compiled, runner as _runner  # noqa: E402


def _read_in_place(c, got_array):
    """The caller's array itself was bound (not a contiguous copy of it)."""
    r = _runner(c)
    return bool(r.input_strides) and any(a is got_array for a in r._free[0].last_inputs)


rng = np.random.default_rng(0)
BASE = rng.standard_normal((24, 40)).astype(np.float32)
VIEWS = {
    "transpose": lambda t: t.t(),
    "column_slice": lambda t: t[:, 3:30],
    "step_slice": lambda t: t[::2, 1::3],
    "expand": lambda t: t[:1].expand(24, 40),
    "permuted_3d": lambda t: t.reshape(4, 6, 40).permute(2, 0, 1),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_elementwise_and_reductions_read_views_in_place(view):
    x = VIEWS[view](ember.tensor(BASE))
    assert not x.numpy().flags.c_contiguous

    def f(a):
        return (F.gelu(a) * 2 + a.sum(-1, keepdim=True)).softmax(-1)
    c = _compiled(f)
    got = c(x)
    np.testing.assert_allclose(got.numpy(), f(x).numpy(), rtol=2e-5, atol=1e-6)
    assert _read_in_place(c, x.numpy())
    assert all(s.kind != "interp" for s in _runner(c).plan.steps)
    # the same layout again: no retrace, same answer
    y = VIEWS[view](ember.tensor(BASE * 0.5))
    np.testing.assert_allclose(c(y).numpy(), f(y).numpy(), rtol=2e-5, atol=1e-6)
    assert c.traces == 1


def test_transposed_matmul_operand_is_a_blas_flag_not_a_copy():
    w = ember.tensor(rng.standard_normal((16, 24)).astype(np.float32))
    a = ember.tensor(rng.standard_normal((24, 40)).astype(np.float32)).t()    # (40, 24)

    def f(x):
        return F.relu(x @ w.t())
    c = _compiled(f)
    np.testing.assert_allclose(c(a).numpy(), f(a).numpy(), rtol=1e-5, atol=1e-5)
    steps = _runner(c).plan.steps
    assert [s.kind for s in steps] == ["matmul", "kernel"]
    assert steps[0].kernel.blas_layout("a")[0] is True       # x read transposed by BLAS
    assert _read_in_place(c, a.numpy())


def test_conv_reads_a_channels_last_view():
    w = ember.tensor(rng.standard_normal((8, 3, 3, 3)).astype(np.float32))
    nhwc = ember.tensor(rng.standard_normal((2, 10, 12, 3)).astype(np.float32))
    x = nhwc.permute(0, 3, 1, 2)                                             # NCHW view

    def f(t):
        return F.conv2d(t, w, padding=1).relu()
    c = _compiled(f)
    np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-4, atol=1e-5)
    assert _read_in_place(c, x.numpy())


@pytest.mark.parametrize("make", [lambda t: t.flip(1), lambda t: t.t()],
                         ids=["negative_strides", "flat_reshape_of_transpose"])
def test_views_kernels_cannot_read_still_compute_right(make):
    x = make(ember.tensor(BASE))

    def f(a):
        return a.reshape(-1)[::7] * 3 + 1
    c = _compiled(f)
    np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-6)


def test_layout_change_retraces_and_both_are_right():
    def f(a):
        return a.exp().sum(0)
    c = _compiled(f)
    t = ember.tensor(BASE)
    np.testing.assert_allclose(c(t).numpy(), f(t).numpy(), rtol=1e-5)
    np.testing.assert_allclose(c(t.t()).numpy(), f(t.t()).numpy(), rtol=1e-5)
    np.testing.assert_allclose(c(t).numpy(), f(t).numpy(), rtol=1e-5)
    assert c.traces == 2


def test_gradients_through_a_strided_argument():
    base = ember.tensor(BASE, requires_grad=True)

    def f(a):
        return (a.tanh() * a).sum()
    c = _compiled(f)
    x = base.t()
    (g,) = ember.autograd.grad(c(x), base)
    base2 = ember.tensor(BASE, requires_grad=True)
    (want,) = ember.autograd.grad(f(base2.t()), base2)
    np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@ember.no_grad()
def test_in_place_update_of_a_strided_argument_lands_in_its_storage():
    store = ember.tensor(BASE.copy())
    view = store[:, 5:25]

    def f(a):
        a.mul_(2).add_(1)
        return a.sum()
    c = _compiled(f)
    want = BASE.copy()
    want[:, 5:25] = want[:, 5:25] * 2 + 1
    total = c(view)
    np.testing.assert_allclose(store.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(total.item(), want[:, 5:25].sum(), rtol=1e-5)
