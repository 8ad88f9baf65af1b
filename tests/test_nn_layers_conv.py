"""Convolution and pooling layers: PyTorch parity (copied weights; outputs and gradients),
numpy references, finite-difference gradients and bad-input errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

from _nn_parity import check_layer


@pytest.mark.parametrize("make,shape", [
    (lambda n: n.Conv1d(2, 4, 3), (2, 2, 7)),
    (lambda n: n.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 9)),
    (lambda n: n.Conv1d(2, 3, 4, padding="same"), (1, 2, 6)),
    (lambda n: n.Conv2d(3, 4, 3), (2, 3, 6, 5)),
    (lambda n: n.Conv2d(4, 4, (3, 2), stride=(2, 1), padding=(1, 0), groups=4, bias=False),
     (2, 4, 5, 6)),
    (lambda n: n.Conv2d(2, 3, 3, padding="same", dilation=2), (1, 2, 6, 6)),
    (lambda n: n.Conv2d(2, 3, 2, padding="valid"), (1, 2, 4, 4)),
    (lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (1, 2, 4, 5)),
    (lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"), (1, 2, 4, 5)),
    (lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (1, 2, 4, 5)),
    (lambda n: n.Conv2d(2, 3, 3), (2, 5, 5)),  # unbatched
    (lambda n: n.ConvTranspose1d(2, 3, 3, stride=2), (2, 2, 4)),
    (lambda n: n.ConvTranspose2d(3, 2, 3), (2, 3, 4, 3)),
    (lambda n: n.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (1, 4, 3, 4)),
    (lambda n: n.ConvTranspose2d(2, 2, 2, stride=3, dilation=2, bias=False), (1, 2, 3, 3)),
])
def test_conv_parity(torch, make, shape):
    check_layer(torch, make, [shape])


@pytest.mark.parametrize("make,shape", [
    (lambda n: n.MaxPool1d(2), (2, 3, 7)),
    (lambda n: n.MaxPool1d(3, 2, 1, ceil_mode=True), (1, 2, 8)),
    (lambda n: n.MaxPool2d(2), (2, 3, 6, 5)),
    (lambda n: n.MaxPool2d(3, 2, 1, ceil_mode=True), (1, 2, 7, 6)),
    (lambda n: n.MaxPool2d((2, 3), stride=1, dilation=2), (1, 2, 6, 7)),
    (lambda n: n.AvgPool1d(3, 2, 1), (2, 2, 8)),
    (lambda n: n.AvgPool2d(2), (2, 3, 6, 5)),
    (lambda n: n.AvgPool2d(3, 2, 1, ceil_mode=True), (1, 2, 7, 6)),
    (lambda n: n.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (1, 2, 7, 6)),
    (lambda n: n.AvgPool2d(2, divisor_override=3), (1, 1, 4, 4)),
    (lambda n: n.AdaptiveAvgPool2d((3, 2)), (2, 2, 7, 5)),
    (lambda n: n.AdaptiveAvgPool2d(1), (2, 3, 4, 4)),
    (lambda n: n.AdaptiveAvgPool1d(3), (2, 3, 8)),
    (lambda n: n.AdaptiveMaxPool2d((2, 2)), (1, 2, 6, 4)),
    (lambda n: n.AdaptiveMaxPool2d((3, 2)), (1, 2, 7, 5)),
    (lambda n: n.LPPool2d(2, 2), (1, 2, 4, 5)),
    (lambda n: n.MaxPool2d(2), (2, 4, 5)),  # unbatched
])
def test_pool_parity(torch, make, shape):
    check_layer(torch, make, [shape])


def test_max_pool_indices_and_single_winner(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 6))
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
               dict(kernel_size=(3, 2), stride=2, dilation=(1, 2))]:
        v, i = F.max_pool2d(ember.tensor(x), return_indices=True, **kw)
        tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
    # ties: the whole gradient goes to one element, not split
    x = ember.ones(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert sorted(x.grad.numpy().ravel().tolist()) == [0.0, 0.0, 0.0, 1.0]


def test_conv2d_numpy_reference():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 5, 4))
    w = rng.standard_normal((3, 2, 2, 3))
    out = F.conv2d(ember.tensor(x), ember.tensor(w), stride=(2, 1)).numpy()
    ref = np.zeros((1, 3, 2, 2))
    for o in range(3):
        for i in range(2):
            for j in range(2):
                ref[0, o, i, j] = np.sum(x[0, :, 2 * i:2 * i + 2, j:j + 3] * w[o])
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_conv_and_pool_gradcheck():
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(2), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), (x, w, b))
    wt = ember.tensor(rng.standard_normal((2, 1, 3, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
        (x, wt))
    assert ember.autograd.gradcheck(lambda x: F.max_pool2d(x, 3, 1, 1), (x,))
    assert ember.autograd.gradcheck(
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert ember.autograd.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (x,))


def test_conv_bad_input_messages():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 4, kernel_size=\(3, 3\)\): expected "
                                           r"input .*3 channels, got shape \(1, 2, 5, 5\)"):
        conv(ember.zeros(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match="got shape"):
        conv(ember.zeros(5, 5))
    with pytest.raises(RuntimeError, match="smaller than the"):
        conv(ember.zeros(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match="conv2d: expected input.*to have 4 channels"):
        F.conv2d(ember.zeros(1, 3, 4, 4), ember.zeros(2, 4, 1, 1))
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv2d(ember.zeros(1, 3, 4, 4, dtype=ember.float64), ember.zeros(2, 3, 1, 1))
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="ConvTranspose2d.*2 channels"):
        nn.ConvTranspose2d(2, 3, 3)(ember.zeros(1, 3, 4, 4))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(ember.zeros(1, 1, 3, 3), ember.zeros(1, 1, 3, 3), output_padding=1)


def test_pool_bad_input_messages():
    with pytest.raises(RuntimeError, match="max_pool2d: expected a 3-D .* got shape"):
        F.max_pool2d(ember.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.avg_pool2d(ember.zeros(1, 1, 2, 2), 3)


def test_conv_transpose_output_size(torch):
    e = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    t = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = np.zeros((1, 2, 4, 4))
    ye = e(ember.tensor(x, dtype=ember.float32), output_size=[8, 8])
    yt = t(torch.tensor(x, dtype=torch.float32), output_size=[8, 8])
    assert tuple(ye.shape) == tuple(yt.shape) == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="requested an output size"):
        e(ember.zeros(1, 2, 4, 4), output_size=[12, 12])


def test_default_init_distribution():
    ember.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3)
    fan_in = 8 * 9
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) gives gain*sqrt(3/fan_in)
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-7 and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound
    b = conv.bias.detach().numpy()
    assert np.abs(b).max() <= bound + 1e-7


def test_small_cnn_trains():
    """Conv -> BN -> ReLU -> MaxPool -> Linear learns a separable synthetic task."""
    rng = np.random.default_rng(0)
    ember.manual_seed(0)
    x = rng.standard_normal((32, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0, :3].mean((1, 2)) > x[:, 0, 3:].mean((1, 2))).astype(np.float32)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(36, 1))
    xe, ye = ember.tensor(x), ember.tensor(y).reshape(-1, 1)
    losses = []
    for _ in range(60):
        logits = model(xe)
        loss = (F.softplus(logits) - logits * ye).mean()  # BCE with logits
        model.zero_grad()
        loss.backward()
        with ember.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.5)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    acc = ((model(xe).detach().numpy() > 0) == (y[:, None] > 0.5)).mean()
    assert acc > 0.9


def test_max_unpool_roundtrip(torch):
    for shape, kw in [((2, 3, 6, 4), {}), ((2, 3, 6, 5), {"output_size": (6, 5)})]:
        x = np.random.default_rng(7).standard_normal(shape)
        v, i = F.max_pool2d(ember.tensor(x), 2, return_indices=True)
        tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
        u = nn.MaxUnpool2d(2)(v, i, **kw)
        tu = torch.nn.MaxUnpool2d(2)(tv, ti, **kw)
        np.testing.assert_array_equal(u.numpy(), tu.numpy())
    ve = ember.tensor(v.numpy(), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: F.max_unpool2d(t, i, 2, output_size=(6, 5)),
                                    (ve,))
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(v, i, 2, output_size=(9, 9))
