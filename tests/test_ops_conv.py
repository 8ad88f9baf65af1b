"""conv_general, window and fold: values vs naive loop references and PyTorch's
conv1d/conv2d/conv_transpose2d, VJPs (first and second order) vs finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from ember import ops
from ember.testing import harness, refs

P = ops.PRIMITIVES


def conv(x, w, stride, padding, lhs_dilation=None, rhs_dilation=None, groups=1):
    n = x.ndim - 2
    return ops.bind(P["conv_general"], x, w, stride=tuple(stride),
                    padding=tuple(tuple(p) for p in padding),
                    lhs_dilation=tuple(lhs_dilation or (1,) * n),
                    rhs_dilation=tuple(rhs_dilation or (1,) * n), groups=groups)


def _t(a, rg=False):
    return harness.to_ember(a, rg)


CASES = [
    # x, w, stride, padding, lhs_dilation, rhs_dilation, groups
    ((2, 3, 7), (4, 3, 3), (1,), ((0, 0),), (1,), (1,), 1),
    ((1, 2, 9), (2, 2, 3), (2,), ((2, 1),), (1,), (1,), 1),           # asymmetric padding
    ((1, 2, 9), (2, 2, 2), (1,), ((-2, -1),), (1,), (1,), 1),         # negative padding crops
    ((1, 2, 5), (3, 2, 3), (1,), ((2, 2),), (2,), (1,), 1),           # lhs (input) dilation
    ((1, 2, 9), (2, 2, 3), (1,), ((0, 0),), (1,), (3,), 1),           # rhs (kernel) dilation
    ((2, 4, 6), (6, 2, 3), (1,), ((1, 1),), (1,), (1,), 2),           # groups
    ((1, 3, 6), (3, 1, 3), (2,), ((1, 0),), (1,), (1,), 3),           # depthwise
    ((1, 3, 6), (6, 1, 2), (1,), ((0, 1),), (2,), (2,), 3),           # depthwise x2, dilated
    ((2, 2, 5, 6), (4, 1, 3, 2), (2, 1), ((1, 0), (0, 2)), (1, 1), (1, 2), 2),
    ((1, 2, 4, 4), (3, 2, 2, 2), (1, 2), ((-1, 1), (1, 1)), (2, 1), (1, 1), 1),
    ((1, 1, 3, 3, 3), (2, 1, 2, 2, 2), (1, 1, 2), ((0, 0),) * 3, (1, 1, 1), (1, 1, 1), 1),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_matches_naive_loops(case, dtype, rng):
    xs, ws, stv, pad, ld, rd, g = case
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    got = conv(_t(x), _t(w), stv, pad, ld, rd, g)
    want = refs.conv_ref(x, w, stv, pad, ld, rd, g)
    assert got.dtype.np == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


SMALL = [c for c in CASES if np.prod(c[0]) + np.prod(c[1]) <= 80]  # finite differences are O(n)


def test_the_gradient_cases_cover_every_feature():
    feats = {"stride": any(max(c[2]) > 1 for c in SMALL),
             "neg_pad": any(min(min(p) for p in c[3]) < 0 for c in SMALL),
             "lhs": any(max(c[4]) > 1 for c in SMALL), "rhs": any(max(c[5]) > 1 for c in SMALL),
             "groups": any(c[6] > 1 for c in SMALL), "2d": any(len(c[0]) == 4 for c in SMALL)}
    assert all(feats.values()), feats


@pytest.mark.parametrize("case", SMALL)
def test_conv_vjp_finite_differences(case, rng):
    xs, ws, stv, pad, ld, rd, g = case
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    harness.vjp_check(lambda a, b: conv(a, b, stv, pad, ld, rd, g), [x, w], (0, 1), rng,
                      where=f"conv {case}")


@pytest.mark.parametrize("case", SMALL[:4])
def test_conv_second_order(case, rng):
    xs, ws, stv, pad, ld, rd, g = case
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = conv(_t(x), _t(w), stv, pad, ld, rd, g)
    v = _t(rng.standard_normal(tuple(y.shape)))

    def first(a, b):
        out = conv(a, b, stv, pad, ld, rd, g)
        return ember.autograd.grad(out, [a, b], v, create_graph=True)
    harness.vjp_check(first, [x, w], (0, 1), rng, nested=True, rtol=1e-4, atol=1e-6,
                      where=f"conv second order {case}")


@settings(max_examples=10)
@given(st.data())
def test_conv_random_configs(data):
    nsp = data.draw(st.integers(1, 2))
    groups = data.draw(st.sampled_from([1, 2]))
    cg, og = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    k = [data.draw(st.integers(1, 3)) for _ in range(nsp)]
    stride = [data.draw(st.integers(1, 2)) for _ in range(nsp)]
    ld = [data.draw(st.integers(1, 2)) for _ in range(nsp)]
    rd = [data.draw(st.integers(1, 2)) for _ in range(nsp)]
    pad = [(data.draw(st.integers(-1, 2)), data.draw(st.integers(-1, 2))) for _ in range(nsp)]
    sp = [data.draw(st.integers(3, 6)) for _ in range(nsp)]
    eff = [(n - 1) * l + 1 + lo + hi - ((kk - 1) * r + 1)
           for n, l, (lo, hi), kk, r in zip(sp, ld, pad, k, rd)]
    if min(eff) < 0:
        return  # no output: the meta rejects it (tested below)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    x = rng.standard_normal((2, cg * groups) + tuple(sp))
    w = rng.standard_normal((og * groups, cg) + tuple(k))
    got = conv(_t(x), _t(w), stride, pad, ld, rd, groups).numpy()
    np.testing.assert_allclose(got, refs.conv_ref(x, w, stride, pad, ld, rd, groups),
                               rtol=1e-12, atol=1e-12)


def test_conv_bad_input_errors():
    x, w = _t(np.zeros((1, 4, 5))), _t(np.zeros((2, 3, 3)))
    with pytest.raises(ops.ShapeError, match=r"conv_general.*\(2, 3, 3\).*input channels"):
        conv(x, w, (1,), ((0, 0),))
    with pytest.raises(ops.ShapeError, match="not positive"):
        conv(_t(np.zeros((1, 3, 2))), _t(np.zeros((2, 3, 3))), (1,), ((0, 0),))
    with pytest.raises(ops.ShapeError, match="divisible by groups"):
        conv(_t(np.zeros((1, 3, 5))), _t(np.zeros((2, 1, 3))), (1,), ((0, 0),), groups=2)


# ---------------------------------------------------------------- vs PyTorch

def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (2, 1, 1, 2), (1, 1, 1, 4)])
def test_conv1d_conv2d_match_torch(stride, padding, dilation, groups, rng):
    torch = _torch()
    for nsp in (1, 2):
        cin, cout = 4, 8
        x = rng.standard_normal((2, cin) + (7,) * nsp)
        w = rng.standard_normal((cout, cin // groups) + (3,) * nsp)
        f = torch.nn.functional.conv1d if nsp == 1 else torch.nn.functional.conv2d
        want = f(torch.from_numpy(x), torch.from_numpy(w), stride=stride, padding=padding,
                 dilation=dilation, groups=groups).numpy()
        got = conv(_t(x), _t(w), (stride,) * nsp, ((padding, padding),) * nsp, None,
                   (dilation,) * nsp, groups).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_asymmetric_padding_matches_torch_pad_then_conv(rng):
    torch = _torch()
    x, w = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 2, 3))
    # F.pad order: (w_lo, w_hi, h_lo, h_hi); negative widths crop, as in conv_general
    want = torch.nn.functional.conv2d(
        torch.nn.functional.pad(torch.from_numpy(x), (2, -1, 1, 0)), torch.from_numpy(w))
    got = conv(_t(x), _t(w), (1, 1), ((1, 0), (2, -1)))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def _conv_transpose(x, w, stride, padding, output_padding, groups, dilation):
    """ConvTranspose2d as conv_general: lhs_dilation = stride, the kernel flipped and its
    in/out channels swapped within each group."""
    cin, coutg = w.shape[:2]
    k = w.shape[2:]
    wt = w.reshape((groups, cin // groups, coutg) + k).swapaxes(1, 2)
    wt = wt.reshape((groups * coutg, cin // groups) + k)[:, :, ::-1, ::-1].copy()
    pads = tuple((dilation * (kk - 1) - padding, dilation * (kk - 1) - padding + output_padding)
                 for kk in k)
    return conv(_t(x), _t(wt), (1, 1), pads, (stride, stride), (dilation, dilation), groups)


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, 0, 2, 1), (3, 1, 2, 1, 2), (1, 1, 0, 4, 1)])
def test_conv_transpose2d_matches_torch(stride, padding, output_padding, groups, dilation, rng):
    torch = _torch()
    x = rng.standard_normal((2, 4, 4, 5))
    w = rng.standard_normal((4, 6 // (2 if groups == 2 else 1) if groups != 4 else 1, 3, 2))
    want = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x), torch.from_numpy(w), stride=stride, padding=padding,
        output_padding=output_padding, groups=groups, dilation=dilation).numpy()
    got = _conv_transpose(x, w, stride, padding, output_padding, groups, dilation).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_gradients_match_torch(rng):
    torch = _torch()
    x, w = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2))
    tx, tw = (torch.from_numpy(a).requires_grad_() for a in (x, w))
    ty = torch.nn.functional.conv2d(tx, tw, stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                    groups=2)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.from_numpy(g))
    ex, ew = _t(x, True), _t(w, True)
    ey = conv(ex, ew, (2, 1), ((1, 1), (0, 0)), None, (1, 2), 2)
    ey.backward(_t(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- window / fold

WINDOWS = [((2, 7), (3,), (1,), (1,)), ((2, 7), (2,), (2,), (2,)),
           ((1, 5, 6), (2, 3), (2, 1), (1, 2)), ((3, 4, 4), (2, 2), (2, 2), (1, 1)),
           ((6,), (6,), (1,), (1,))]


@pytest.mark.parametrize("shape,win,strides,dil", WINDOWS)
def test_window_and_fold_values(shape, win, strides, dil, rng):
    x = rng.standard_normal(shape)
    y = ops.bind(P["window"], _t(x), window=win, strides=strides, dilation=dil)
    np.testing.assert_array_equal(y.numpy(), refs.window_ref(x, win, strides, dil))
    z = rng.standard_normal(tuple(y.shape))
    k = len(win)
    back = ops.bind(P["fold"], _t(z), spatial=shape[len(shape) - k:], window=win,
                    strides=strides, dilation=dil)
    np.testing.assert_allclose(back.numpy(), refs.fold_ref(z, shape[len(shape) - k:], win,
                                                           strides, dil), rtol=1e-12)
    # fold is window's adjoint: <window(x), z> = <x, fold(z)>
    assert np.isclose(np.sum(y.numpy() * z), np.sum(x * back.numpy()))


@pytest.mark.parametrize("shape,win,strides,dil", WINDOWS[:3])
def test_window_fold_vjp(shape, win, strides, dil, rng):
    k = len(win)
    sp = shape[len(shape) - k:]
    x = rng.standard_normal(shape)
    harness.vjp_check(lambda a: ops.bind(P["window"], a, window=win, strides=strides,
                                         dilation=dil), [x], (0,), rng)
    y = refs.window_ref(x, win, strides, dil)
    harness.vjp_check(lambda a: ops.bind(P["fold"], a, spatial=sp, window=win, strides=strides,
                                         dilation=dil), [y], (0,), rng)


def test_window_rejects_a_window_larger_than_the_input():
    with pytest.raises(ops.ShapeError, match="window"):
        ops.bind(P["window"], _t(np.zeros((2, 3))), window=(4,), strides=(1,), dilation=(1,))
