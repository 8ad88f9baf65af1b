"""Native conv_general (pad + im2col kernels + batched gemm), max pooling (window,
argmax and the pooled gather in one reduction kernel) and fold (the pooling gradient)
on the llvm backend: values against PyTorch in float64, gradients against eager, the
small CNN's training step against eager, and that no group falls back to the
interpreter."""

import numpy as np
import pytest

pytest.importorskip("llvmlite")
torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.nn.functional as F  # noqa: E402


from _helpers import private_cache, training_step  # noqa: E402,F401  (private_cache: autouse)


def _compiled(fn):
    c = ember.compile(fn, backend="llvm")
    inner = getattr(c, "_compiled_forward", c)      # a compiled module wraps one
    inner.eager_calls = 1      # compile on the first call
    return c


def _runners(c):
    c = getattr(c, "_compiled_forward", c)
    exe = list(c._cache.values())[-1].executable
    return [r for r in exe._runners.values()]


def _interp_steps(c, ops=None):
    """Names of steps that fell back to the eager kernels (only those with one of ``ops``)."""
    return [s.name for r in _runners(c) for s in r.plan.steps if s.kind == "interp"
            and (ops is None or any(n.op in ops for n in s.group.nodes))]


def _rand(rng, *shape):
    return rng.standard_normal(shape)


CONVS = [
    # (input, weight, kwargs)
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ((2, 4, 7, 6), (6, 2, 3, 2), dict(padding=(2, 1), stride=(2, 1), dilation=(1, 2),
                                      groups=2)),
    ((1, 2, 5, 5), (3, 2, 1, 1), dict()),
    ((2, 3, 9, 8), (3, 1, 3, 3), dict(stride=2, groups=3, padding=(0, 1))),
    ((2, 4, 9), (4, 4, 3), dict(stride=3)),
    ((1, 2, 4, 5, 4), (2, 2, 2, 3, 2), dict(padding=1, stride=(1, 2, 1))),
]


@pytest.mark.parametrize("xs,ws,kw", CONVS)
def test_conv_matches_torch_and_is_native(xs, ws, kw):
    rng = np.random.default_rng(0)
    x, w = _rand(rng, *xs), _rand(rng, *ws)
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(xs)]
    tconv = {3: torch.nn.functional.conv1d, 4: torch.nn.functional.conv2d,
             5: torch.nn.functional.conv3d}[len(xs)]
    c = _compiled(lambda a, b: conv(a, b, **kw))
    got = c(ember.tensor(x), ember.tensor(w)).numpy()
    ref = tconv(torch.tensor(x), torch.tensor(w), **kw).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    assert not _interp_steps(c)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1)),
                                dict(stride=2, groups=2)])
def test_transposed_conv_matches_torch(kw):
    rng = np.random.default_rng(1)
    x, w = _rand(rng, 2, 4, 5, 4), _rand(rng, 4, 3, 3, 3)
    c = _compiled(lambda a, b: F.conv_transpose2d(a, b, **kw))
    got = c(ember.tensor(x), ember.tensor(w)).numpy()
    ref = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    # (the grouped case's kernel regrouping, a reshape of a permuted view, may still copy
    # through the interpreter; the conv itself must be native)
    assert not _interp_steps(c, ("conv_general",))


def _ref_conv(x, w, stride, padding, lhs, rhs, groups):
    """conv_general by definition: zero-dilate, pad (or crop), correlate window by window."""
    n, c = x.shape[:2]
    nsp = x.ndim - 2
    xd = np.zeros((n, c) + tuple((s - 1) * d + 1 for s, d in zip(x.shape[2:], lhs)))
    xd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in lhs)] = x
    for i, (lo, hi) in enumerate(padding):
        ax = 2 + i
        xd = xd[(slice(None),) * ax + (slice(max(-lo, 0), xd.shape[ax] - max(-hi, 0)),)]
        widths = [(0, 0)] * xd.ndim
        widths[ax] = (max(lo, 0), max(hi, 0))
        xd = np.pad(xd, widths)
    o, cg = w.shape[:2]
    og = o // groups
    out = [(m - ((k - 1) * d + 1)) // s + 1
           for m, k, d, s in zip(xd.shape[2:], w.shape[2:], rhs, stride)]
    y = np.zeros((n, o) + tuple(out))
    for kpos in np.ndindex(*w.shape[2:]):
        sl = tuple(slice(k * d, k * d + (m - 1) * s + 1, s)
                   for k, d, m, s in zip(kpos, rhs, out, stride))
        patch = xd[(slice(None), slice(None)) + sl]
        for g in range(groups):
            wk = w[(slice(g * og, (g + 1) * og), slice(None)) + kpos]
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...",
                                                   patch[:, g * cg:(g + 1) * cg], wk)
    assert nsp == len(out)
    return y


@pytest.mark.parametrize("attrs", [
    # stride, padding (negative = crop), lhs dilation, rhs dilation, groups
    ((2, 1), ((-1, 2), (1, -1)), (2, 3), (1, 2), 2),
    ((1, 1), ((0, -2), (-1, 0)), (1, 1), (1, 1), 1),
    ((1, 3), ((2, 2), (0, 0)), (3, 1), (2, 1), 1),
    ((1, 1), ((1, -1), (-2, 3)), (1, 1), (1, 1), 2),      # border fill next to a crop
    ((2, 1), ((0, 2), (3, 1)), (1, 1), (2, 1), 1),
])
def test_conv_general_padding_crop_and_lhs_dilation_vs_definition(attrs):
    from ember.ops import lax
    rng = np.random.default_rng(7)
    x, w = _rand(rng, 2, 4, 9, 7), _rand(rng, 6, 4 // attrs[-1], 3, 2)
    c = _compiled(lambda a, b: lax.conv_general(a, b, *attrs))
    got = c(ember.tensor(x), ember.tensor(w)).numpy()
    np.testing.assert_allclose(got, _ref_conv(x, w, *attrs), rtol=1e-10, atol=1e-12)
    assert not _interp_steps(c)


def test_conv_reads_a_permuted_input_through_its_strides():
    rng = np.random.default_rng(8)
    x, w = _rand(rng, 2, 6, 5, 3), _rand(rng, 4, 3, 2, 2)
    c = _compiled(lambda a, b: F.conv2d(a.permute(0, 3, 2, 1), b, stride=(2, 1)))
    got = c(ember.tensor(x), ember.tensor(w)).numpy()
    ref = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 2, 1), torch.tensor(w),
                                     stride=(2, 1)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    names = [s.name for r in _runners(c) for s in r.plan.steps]
    assert not any("permute" in nm for nm in names)     # no copy of the view
    assert not _interp_steps(c)


def test_conv_float32_close_to_float64_reference():
    rng = np.random.default_rng(2)
    x, w = _rand(rng, 3, 5, 11, 10), _rand(rng, 7, 5, 3, 3)
    c = _compiled(lambda a, b: F.conv2d(a, b, padding=1, stride=2))
    got = c(ember.tensor(x.astype(np.float32)), ember.tensor(w.astype(np.float32))).numpy()
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1,
                                     stride=2).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kw", [dict(padding=1), dict(stride=2, dilation=(1, 2), groups=2),
                                dict(stride=(2, 3))])
def test_conv_gradients_match_torch(kw):
    """The VJPs are conv_general again (flipped kernel, lhs dilation, transposed operands
    read through strides): the compiled backward graph lowers them natively."""
    rng = np.random.default_rng(3)
    x, w, b = _rand(rng, 2, 4, 7, 8), _rand(rng, 6, 4 // kw.get("groups", 1), 3, 3), \
        _rand(rng, 6)

    def f(a, wt, bias):
        y = F.conv2d(a, wt, bias, **kw)
        return (y * y).sum()

    xe, we, be = (ember.tensor(v, requires_grad=True) for v in (x, w, b))
    c = _compiled(f)
    c(xe, we, be).backward()
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, **kw)
    (yt * yt).sum().backward()
    for e, t in ((xe, xt), (we, wt), (be, bt)):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert not _interp_steps(c, ("conv_general",))


# overlapping windows (accumulating fold), gaps between windows (zero-filled fold),
# padding and ceil_mode (a padded buffer read through the window), dilation
POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)), dict(kernel_size=3, stride=2),
         dict(kernel_size=2, stride=3), dict(kernel_size=3, stride=3, ceil_mode=True)]


@pytest.mark.parametrize("kw", POOLS)
def test_max_pool_forward_backward_matches_torch(kw):
    rng = np.random.default_rng(4)
    x = _rand(rng, 2, 3, 9, 8)
    x[0, 0, :2, :2] = 0.0                     # ties: the first maximum wins, as PyTorch
    n = torch.nn.functional.max_pool2d(torch.tensor(x), **kw)[0].numel()
    wm = _rand(rng, n, 3)

    def f(a, w, lib):
        y = lib.nn.functional.max_pool2d(a, **kw)
        z = y.flatten(1) @ w                  # as in a CNN: the pooled values feed a gemm
        return y, (z * z).sum()

    xe = ember.tensor(x, requires_grad=True)
    c = _compiled(lambda a, w: f(a, w, ember))
    y, s = c(xe, ember.tensor(wm))
    s.backward()
    xt = torch.tensor(x, requires_grad=True)
    yt, st = f(xt, torch.tensor(wm), torch)
    st.backward()
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(s.detach().numpy(), st.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert not _interp_steps(c, ("window", "fold", "argmax", "gather", "pad"))


@pytest.mark.parametrize("k", [2, (2, 3)])      # unrolled selects / the window loop
def test_max_pool_nan_and_signed_zero_are_exact(k):
    """The pooled value is the element at the first maximum, as PyTorch's: a nan wins,
    and a -0.0/+0.0 tie keeps the first (IEEE maximum would give +0.0)."""
    x = np.array([[[[-0.0, 0.0, 0.0, 1.0, np.nan, 2.0],
                    [0.0, -0.0, 0.0, 2.0, 3.0, 1.0],
                    [-np.inf, -np.inf, -np.inf, np.inf, 1.0, 0.0],
                    [-np.inf, -np.inf, -np.inf, 0.0, 1.0, np.nan]]]], dtype=np.float32)
    c = _compiled(lambda a: F.max_pool2d(a, k))
    got = c(ember.tensor(x)).numpy()
    ref = torch.nn.functional.max_pool2d(torch.tensor(x), k).numpy()
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))
    assert np.signbit(got[0, 0, 0, 0])
    assert not _interp_steps(c)


def test_pad_inside_a_fused_group():
    """A pad of a computed value is materialised (fill + interior copy) and the rest of
    the group reads it as a buffer; the pad and a later use of its input both lower."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 4, 5))

    def f(a):
        r = ember.relu(a * 2)
        return ember.exp(F.pad(r, (1, 2, 0, 3), value=-1.5)) + 1, r.sum()

    c = _compiled(f)
    got, total = c(ember.tensor(x))
    r = np.maximum(x * 2, 0)
    ref = np.exp(np.pad(r, ((0, 0), (0, 0), (0, 3), (1, 2)), constant_values=-1.5)) + 1
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-13)
    np.testing.assert_allclose(total.numpy(), r.sum(), rtol=1e-13)
    assert not _interp_steps(c)


def _cnn(nn_mod):
    return nn_mod.Sequential(
        nn_mod.Conv2d(1, 4, 3, padding=1), nn_mod.ReLU(), nn_mod.MaxPool2d(2),
        nn_mod.Conv2d(4, 8, 3, padding=1), nn_mod.ReLU(), nn_mod.MaxPool2d(2),
        nn_mod.Flatten(), nn_mod.Linear(8 * 3 * 3, 5))


def test_small_cnn_inference_is_one_native_call():
    ember.manual_seed(0)
    m = _cnn(nn).eval()
    x = ember.randn(3, 1, 12, 12)
    c = _compiled(m)
    with ember.no_grad():
        got = c(x).numpy()
        ref = m(x).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    (r,) = _runners(c)
    assert r.all_native and len(r.steps) == 1


def test_small_cnn_training_step_matches_eager_float64():
    def make():
        ember.manual_seed(0)
        m = _cnn(nn).double()
        return m, ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)

    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((4, 1, 12, 12)))
    y = ember.tensor(rng.integers(0, 5, 4))
    me, oe = make()
    mc, oc = make()
    se, sc = training_step(me, oe), ember.compile(training_step(mc, oc), backend="llvm")
    for i in range(4):
        le, lc = se(x, y), sc(x, y)
        np.testing.assert_allclose(lc.detach().numpy(), le.detach().numpy(), rtol=1e-10,
                                   err_msg=f"step {i}")
    for pe, pc in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-10,
                                   atol=1e-13)
    assert not _interp_steps(sc)


def test_max_with_dim_values_and_indices():
    """``max(x, dim)`` is the same argmax + gather pattern as pooling (no window)."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 7)).astype(np.float32)
    x[1, 3] = np.nan
    x[2, :] = 0.0
    x[2, 1] = -0.0
    c = _compiled(lambda a: ember.max(a * 1.0, 1))
    v, i = c(ember.tensor(x))
    tv, ti = torch.max(torch.tensor(x), 1)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(np.signbit(v.numpy()), np.signbit(tv.numpy()))
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert not _interp_steps(c)
