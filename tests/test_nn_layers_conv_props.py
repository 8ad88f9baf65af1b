"""Randomised conv/pool configurations against PyTorch (few hypothesis examples)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _cmp(e, t, rtol=1e-9):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=1e-10)


def _draw_conv2d(data):
    """groups, in/out channels (multiples of groups), kernel, stride, dilation."""
    g = data.draw(st.sampled_from([1, 2]))
    cin, cout = g * data.draw(st.integers(1, 2)), g * data.draw(st.integers(1, 2))
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)))
    d = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    return g, cin, cout, k, s, d


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_conv2d_random_configs(data):
    g, cin, cout, k, s, d = _draw_conv2d(data)
    p = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    h = data.draw(st.integers(d[0] * (k[0] - 1) + 1, 7))
    w = data.draw(st.integers(d[1] * (k[1] - 1) + 1, 7))
    rng = np.random.default_rng(data.draw(st.integers(0, 100)))
    x = rng.standard_normal((2, cin, h, w))
    wt = rng.standard_normal((cout, cin // g, *k))
    b = rng.standard_normal(cout)
    xe, we, be = (ember.tensor(a, requires_grad=True) for a in (x, wt, b))
    xt, wtt, bt = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    ye = F.conv2d(xe, we, be, s, p, d, g)
    yt = TF.conv2d(xt, wtt, bt, s, p, d, g)
    _cmp(ye, yt)
    go = rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(go))
    yt.backward(torch.tensor(go))
    for a, c in ((xe, xt), (we, wtt), (be, bt)):
        _cmp(a.grad, c.grad)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_conv_transpose2d_random_configs(data):
    g, cin, cout, k, s, d = _draw_conv2d(data)
    p = (data.draw(st.integers(0, d[0] * (k[0] - 1))), data.draw(st.integers(0, d[1] * (k[1] - 1))))
    op = tuple(data.draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    rng = np.random.default_rng(data.draw(st.integers(0, 100)))
    x = rng.standard_normal((1, cin, data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))))
    wt = rng.standard_normal((cin, cout // g, *k))
    xe, we = ember.tensor(x, requires_grad=True), ember.tensor(wt, requires_grad=True)
    xt, wtt = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
    try:
        yt = TF.conv_transpose2d(xt, wtt, None, s, p, op, g, d)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            F.conv_transpose2d(xe, we, None, s, p, op, g, d)
        return
    ye = F.conv_transpose2d(xe, we, None, s, p, op, g, d)
    _cmp(ye, yt)
    go = rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(go))
    yt.backward(torch.tensor(go))
    _cmp(xe.grad, xt.grad)
    _cmp(we.grad, wtt.grad)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_pool2d_random_configs(data):
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    p = (data.draw(st.integers(0, k[0] // 2)), data.draw(st.integers(0, k[1] // 2)))
    ceil = data.draw(st.booleans())
    h, w = data.draw(st.integers(k[0], 7)), data.draw(st.integers(k[1], 7))
    x = np.random.default_rng(data.draw(st.integers(0, 100))).standard_normal((1, 2, h, w))
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    d = (data.draw(st.integers(1, 2)), 1)
    if d[0] * (k[0] - 1) + 1 <= h + 2 * p[0]:
        ve, ie = F.max_pool2d(xe, k, s, p, d, ceil, return_indices=True)
        vt, it = TF.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
        _cmp(ve, vt)
        np.testing.assert_array_equal(ie.numpy(), it.numpy())
        ve.sum().backward()
        vt.sum().backward()
        _cmp(xe.grad, xt.grad)
    cip = data.draw(st.booleans())
    ae = F.avg_pool2d(xe, k, s, p, ceil, cip)
    at = TF.avg_pool2d(xt, k, s, p, ceil, cip)
    _cmp(ae, at)
