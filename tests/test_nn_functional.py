"""nn.functional (non-loss): values vs numpy / PyTorch, gradients vs finite differences."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F

from _helpers import to_np


def test_linear_bilinear_numpy():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(to_np(F.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b))),
                               x @ w.T + b, rtol=1e-12)
    x1, x2 = rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    wb = rng.standard_normal((5, 2, 4))
    ref = np.einsum("bi,kij,bj->bk", x1, wb, x2)
    np.testing.assert_allclose(to_np(F.bilinear(ember.tensor(x1), ember.tensor(x2),
                                              ember.tensor(wb))), ref, rtol=1e-12)
    t = [ember.tensor(a, requires_grad=True) for a in (x1[:2], x2[:2], wb[:2, :, :2])]
    t[1] = ember.tensor(x2[:2, :2], requires_grad=True)
    assert ember.autograd.gradcheck(F.bilinear, tuple(t))


def test_one_hot():
    y = F.one_hot(ember.tensor([0, 2, 1, 2]))
    assert y.dtype is ember.int64
    np.testing.assert_array_equal(y.numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1, 2]])
    assert tuple(F.one_hot(ember.tensor([[1], [0]]), 4).shape) == (2, 1, 4)
    with pytest.raises(RuntimeError, match="class values must be in"):
        F.one_hot(ember.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="integer index"):
        F.one_hot(ember.tensor([0.0, 1.0]))


def test_normalize_and_cosine_similarity(torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    x[1] = 0.0
    np.testing.assert_allclose(to_np(F.normalize(ember.tensor(x))),
                               x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12),
                               rtol=1e-12)
    np.testing.assert_allclose(to_np(F.normalize(ember.tensor(x), p=1, dim=0)),
                               torch.nn.functional.normalize(torch.tensor(x), p=1, dim=0),
                               rtol=1e-12)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((1, 3, 4))
    np.testing.assert_allclose(to_np(F.cosine_similarity(ember.tensor(a), ember.tensor(b), dim=-1)),
                               torch.nn.functional.cosine_similarity(
                                   torch.tensor(a), torch.tensor(b), dim=-1), rtol=1e-10)
    t = ember.tensor(x[[0, 2]], requires_grad=True)
    assert ember.autograd.gradcheck(lambda v: F.normalize(v, dim=1), (t,))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(torch, mode):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 4, 5))
    pads = (2, 1, 1, 3) if mode != "circular" else (2, 1, 1, 3)
    kw = {"value": 0.5} if mode == "constant" else {}
    e = F.pad(ember.tensor(x), pads, mode=mode, **kw)
    t = torch.nn.functional.pad(torch.tensor(x), pads, mode=mode, **kw)
    np.testing.assert_allclose(to_np(e), t.numpy())
    xe = ember.tensor(x[:, :1, :3, :3], requires_grad=True)
    assert ember.autograd.gradcheck(lambda v: F.pad(v, (2, 1, 1, 2), mode=mode), (xe,))


def test_interpolate_numpy_nearest_and_bilinear():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(to_np(F.interpolate(ember.tensor(x), scale_factor=2)),
                                  x.repeat(2, axis=2).repeat(2, axis=3))
    # align_corners=True bilinear on a linear ramp is exact: endpoints map to endpoints
    y = to_np(F.interpolate(ember.tensor(x), size=(3, 5), mode="bilinear", align_corners=True))
    rows = np.linspace(0, 1, 3)[:, None]
    cols = np.linspace(0, 2, 5)[None, :]
    np.testing.assert_allclose(y[0, 0], rows * 3 + cols, rtol=1e-12)


@pytest.mark.parametrize("kw", [
    dict(scale_factor=2, mode="bilinear"), dict(size=(3, 7), mode="bilinear"),
    dict(scale_factor=0.5, mode="bilinear", align_corners=True), dict(size=(5, 2)),
    dict(scale_factor=1.7), dict(size=(4, 4), mode="area"),
    dict(scale_factor=(2, 3), mode="nearest-exact"),
])
def test_interpolate_parity(torch, kw):
    x = np.random.default_rng(3).standard_normal((2, 2, 5, 4))
    np.testing.assert_allclose(to_np(F.interpolate(ember.tensor(x), **kw)),
                               torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy(),
                               rtol=1e-10, atol=1e-12)


def test_interpolate_gradcheck():
    x = ember.tensor(np.random.default_rng(4).standard_normal((1, 1, 3, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda v: F.interpolate(v, size=(4, 5), mode="bilinear", align_corners=False), (x,))
    assert ember.autograd.gradcheck(lambda v: F.interpolate(v, scale_factor=2), (x,))


def test_unfold_fold(torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 4))
    kw = dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    u = F.unfold(ember.tensor(x), **kw)
    tu = torch.nn.functional.unfold(torch.tensor(x), **kw)
    np.testing.assert_allclose(to_np(u), tu.numpy())
    f = F.fold(u, (5, 4), **kw)
    tf = torch.nn.functional.fold(tu, (5, 4), **kw)
    np.testing.assert_allclose(to_np(f), tf.numpy(), rtol=1e-12)
    xe = ember.tensor(x[:1, :1, :3, :3], requires_grad=True)
    assert ember.autograd.gradcheck(lambda v: F.unfold(v, 2, padding=1), (xe,))
    with pytest.raises(RuntimeError, match="fold: expected input of shape"):
        F.fold(ember.zeros(1, 5, 4), (3, 3), 2)


def test_embedding_functional():
    w = np.random.default_rng(6).standard_normal((4, 2))
    idx = np.array([[3, 1], [0, 3]])
    np.testing.assert_array_equal(to_np(F.embedding(ember.tensor(idx), ember.tensor(w))), w[idx])
    we = ember.tensor(w, requires_grad=True)
    F.embedding(ember.tensor(idx), we, padding_idx=3).sum().backward()
    np.testing.assert_array_equal(we.grad.numpy(), [[1, 1], [1, 1], [0, 0], [0, 0]])


def test_softmax_implicit_dim_and_dtype(torch):
    x = np.random.default_rng(7).standard_normal((2, 3))
    np.testing.assert_allclose(to_np(F.softmax(ember.tensor(x), dim=1)),
                               np.exp(x) / np.exp(x).sum(1, keepdims=True), rtol=1e-12)
    y = F.log_softmax(ember.tensor(x, dtype=ember.float32), dim=0, dtype=ember.float64)
    assert y.dtype is ember.float64


def test_hardtanh_gradient_at_limits(torch):
    x = np.array([-1.0, -0.5, 1.0, 2.0])
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    F.hardtanh(e).sum().backward()
    torch.nn.functional.hardtanh(t).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_inplace_activation_on_nonleaf():
    x = ember.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = F.relu(y, inplace=True)
    assert z is y
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


def test_dropout_gradient_matches_mask():
    x = ember.ones(4, 5, requires_grad=True)
    ember.manual_seed(11)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), to_np(y), rtol=1e-6)
    assert F.dropout(x, 0.4, training=False) is x


def test_pixel_shuffle_roundtrip():
    x = ember.tensor(np.arange(2 * 8 * 2 * 3, dtype=np.float64).reshape(2, 8, 2, 3))
    y = F.pixel_shuffle(x, 2)
    assert tuple(y.shape) == (2, 2, 4, 6)
    np.testing.assert_array_equal(to_np(F.pixel_unshuffle(y, 2)), to_np(x))


def test_functional_type_errors():
    with pytest.raises(TypeError, match="conv2d\\(\\): argument 'input' must be a Tensor"):
        F.conv2d(np.zeros((1, 1, 3, 3)), ember.zeros(1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="gelu: expected a floating-point input"):
        F.gelu(ember.tensor([1, 2]))
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(ember.zeros(2), approximate="fast")


@pytest.mark.parametrize("name,kw", [
    ("softplus", {}), ("softplus", {"beta": 2.0}), ("elu", {}), ("celu", {"alpha": 0.5}),
    ("selu", {}), ("leaky_relu", {}), ("relu", {}), ("relu6", {}), ("hardtanh", {}),
    ("hardsigmoid", {}), ("hardswish", {}), ("mish", {}), ("logsigmoid", {}), ("silu", {}),
    ("gelu", {}), ("softsign", {}),
])
def test_activation_gradient_at_kinks_matches_torch(torch, name, kw):
    x = np.array([-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 20.0, 21.0])
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ye = getattr(F, name)(e, **kw)
    yt = getattr(torch.nn.functional, name)(t, **kw)
    np.testing.assert_allclose(to_np(ye), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    ye.sum().backward()
    yt.sum().backward()
    # PyTorch's hardsigmoid backward uses a float32 1/6 even for float64
    tol = 1e-7 if name == "hardsigmoid" else 1e-12
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=tol, atol=1e-15)
