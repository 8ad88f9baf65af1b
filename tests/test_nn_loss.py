"""Losses: values against numpy float64 formulas, gradients by finite differences, bad input.

PyTorch parity for every option combination lives in test_nn_loss_torch.py."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck


def T(a, grad=False):
    return ember.tensor(np.asarray(a), requires_grad=grad)


def log_softmax_np(x, axis):
    m = x.max(axis=axis, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# ------------------------------------------------------------------ numpy references
def test_cross_entropy_weighted_ignore_mean(rng):
    x = rng.standard_normal((5, 4))
    y = np.array([0, 3, -100, 1, 3])
    w = np.array([0.5, 1.0, 2.0, 3.0])
    lp = log_softmax_np(x, 1)
    keep = y != -100
    ys = np.where(keep, y, 0)
    per = np.where(keep, -w[ys] * lp[np.arange(5), ys], 0.0)
    ref = per.sum() / w[ys][keep].sum()
    out = F.cross_entropy(T(x), T(y), weight=T(w))
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12)
    none = F.cross_entropy(T(x), T(y), weight=T(w), reduction="none")
    np.testing.assert_allclose(none.detach().numpy(), per, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(T(x), T(y), weight=T(w), reduction="sum").detach().numpy(),
                               per.sum(), rtol=1e-12)


def test_cross_entropy_label_smoothing_formula(rng):
    x = rng.standard_normal((4, 3))
    y = np.array([2, 0, 1, 1])
    eps = 0.2
    lp = log_softmax_np(x, 1)
    q = np.full((4, 3), eps / 3) + (1 - eps) * np.eye(3)[y]
    ref = -(q * lp).sum(1).mean()
    np.testing.assert_allclose(F.cross_entropy(T(x), T(y), label_smoothing=eps).detach().numpy(), ref,
                               rtol=1e-12)
    # the probability-target form with the smoothed one-hot gives the same loss
    np.testing.assert_allclose(F.cross_entropy(T(x), T(q)).detach().numpy(), ref, rtol=1e-12)


def test_cross_entropy_nd_and_probabilities(rng):
    x = rng.standard_normal((2, 3, 4, 2))
    y = rng.integers(0, 3, (2, 4, 2))
    lp = log_softmax_np(x, 1)
    picked = np.take_along_axis(lp, y[:, None], 1)[:, 0]
    np.testing.assert_allclose(F.cross_entropy(T(x), T(y), reduction="none").detach().numpy(), -picked,
                               rtol=1e-12)
    p = rng.random((2, 3, 4, 2))
    p /= p.sum(1, keepdims=True)
    ref = -(p * lp).sum(1).mean()
    np.testing.assert_allclose(F.cross_entropy(T(x), T(p)).detach().numpy(), ref, rtol=1e-12)


def test_cross_entropy_unbatched(rng):
    x = rng.standard_normal(5)
    out = F.cross_entropy(T(x), T(np.int64(3)), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out.detach().numpy(), -log_softmax_np(x, 0)[3], rtol=1e-12)


def test_cross_entropy_all_ignored_is_nan():
    x = T(np.zeros((2, 3)))
    y = T(np.array([-100, -100]))
    assert np.isnan(F.cross_entropy(x, y).detach().numpy())
    np.testing.assert_array_equal(F.cross_entropy(x, y, reduction="none").detach().numpy(), [0.0, 0.0])


def test_bce_clamps_log_at_minus_100():
    x = T(np.array([0.0, 1.0, 0.5]), grad=True)
    y = T(np.array([1.0, 0.0, 1.0]))
    out = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [100.0, 100.0, np.log(2)], rtol=1e-12)
    out.sum().backward()
    # PyTorch's (x - y) / max(x (1 - x), 1e-12): large but finite at saturation
    np.testing.assert_allclose(x.grad.detach().numpy(), [-1e12, 1e12, -2.0], rtol=1e-12)


def test_bce_with_logits_stable_and_pos_weight(rng):
    x = np.array([-1000.0, -3.0, 0.0, 2.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 0.5, 0.0])
    pw = 3.0
    sp = np.logaddexp(0, -x)  # softplus(-x)
    ref = (1 - y) * x + (1 + (pw - 1) * y) * sp
    out = F.binary_cross_entropy_with_logits(T(x), T(y), pos_weight=T(np.full(5, pw)),
                                             reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12)
    xt = T(x, grad=True)
    F.binary_cross_entropy_with_logits(xt, T(y), reduction="sum").backward()
    sig = 0.5 * (1 + np.tanh(x / 2))
    np.testing.assert_allclose(xt.grad.detach().numpy(), sig - y, rtol=1e-12, atol=1e-300)


def test_pointwise_formulas(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    d = x - y
    a = np.abs(d)
    np.testing.assert_allclose(F.l1_loss(T(x), T(y)).detach().numpy(), a.mean())
    np.testing.assert_allclose(F.mse_loss(T(x), T(y), reduction="sum").detach().numpy(), (d * d).sum())
    b = 0.7
    np.testing.assert_allclose(F.smooth_l1_loss(T(x), T(y), beta=b, reduction="none").detach().numpy(),
                               np.where(a < b, 0.5 * d * d / b, a - 0.5 * b))
    np.testing.assert_allclose(F.huber_loss(T(x), T(y), delta=b, reduction="none").detach().numpy(),
                               np.where(a < b, 0.5 * d * d, b * (a - 0.5 * b)))
    t = np.sign(y)
    np.testing.assert_allclose(F.soft_margin_loss(T(x), T(t)).detach().numpy(),
                               np.log1p(np.exp(-t * x)).mean())
    w = rng.random((3, 4))
    np.testing.assert_allclose(F.mse_loss(T(x), T(y), weight=T(w)).detach().numpy(),
                               (w * d * d).sum() / w.sum())


def test_kl_div_variants(rng):
    inp = log_softmax_np(rng.standard_normal((3, 4)), 1)
    p = np.exp(log_softmax_np(rng.standard_normal((3, 4)), 1))
    p[0, 0] = 0.0
    safe = np.where(p > 0, p, 1.0)
    pt = np.where(p > 0, p * np.log(safe), 0.0) - p * inp
    np.testing.assert_allclose(F.kl_div(T(inp), T(p), reduction="batchmean").detach().numpy(),
                               pt.sum() / 3)
    lt = np.log(safe)
    np.testing.assert_allclose(
        F.kl_div(T(inp), T(lt), reduction="none", log_target=True).detach().numpy(),
        np.exp(lt) * (lt - inp))


def test_margin_and_embedding_formulas(rng):
    x1, x2 = rng.standard_normal(6), rng.standard_normal(6)
    t = np.array([1.0, -1, 1, -1, 1, -1])
    np.testing.assert_allclose(F.margin_ranking_loss(T(x1), T(x2), T(t), margin=0.3).detach().numpy(),
                               np.maximum(0, -t * (x1 - x2) + 0.3).mean())
    np.testing.assert_allclose(
        F.hinge_embedding_loss(T(x1), T(t), margin=0.5, reduction="none").detach().numpy(),
        np.where(t == 1, x1, np.maximum(0, 0.5 - x1)))
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    tt = np.array([1.0, -1, -1, 1])
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    ref = np.where(tt == 1, 1 - cos, np.maximum(0, cos - 0.1))
    np.testing.assert_allclose(
        F.cosine_embedding_loss(T(a), T(b), T(tt), margin=0.1, reduction="none").detach().numpy(), ref)


def test_triplet_and_gaussian_poisson(rng):
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))

    def dist(u, v):
        return np.sqrt(((u - v + 1e-6) ** 2).sum(1))
    ref = np.maximum(dist(a, p) - np.minimum(dist(a, n), dist(p, n)) + 1.0, 0).mean()
    np.testing.assert_allclose(F.triplet_margin_loss(T(a), T(p), T(n), swap=True).detach().numpy(), ref)
    x, y, v = rng.standard_normal(5), rng.standard_normal(5), rng.random(5) + 0.1
    np.testing.assert_allclose(F.gaussian_nll_loss(T(x), T(y), T(v), full=True).detach().numpy(),
                               (0.5 * (np.log(v) + (x - y) ** 2 / v)).mean()
                               + 0.5 * np.log(2 * np.pi))
    k = np.array([0.0, 1.0, 2.0, 5.0, 3.0])
    stir = np.where(k > 1, k * np.log(np.maximum(k, 1)) - k + 0.5 * np.log(2 * np.pi *
                                                                          np.maximum(k, 1)), 0)
    np.testing.assert_allclose(F.poisson_nll_loss(T(x), T(k), full=True).detach().numpy(),
                               (np.exp(x) - k * x + stir).mean())


# ------------------------------------------------------------------ gradients (float64 FD)
GRAD_CASES = {
    "ce_weight_ignore_ls": lambda x, t: F.cross_entropy(
        x, t["y"], weight=t["w"], ignore_index=1, label_smoothing=0.15),
    "ce_probs": lambda x, t: F.cross_entropy(x, t["p"], label_smoothing=0.1, weight=t["w"]),
    "nll_sum": lambda x, t: F.nll_loss(x, t["y"], reduction="sum"),
    "bce": lambda x, t: F.binary_cross_entropy(x.sigmoid(), t["b"], weight=t["w"]),
    "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, t["b"], pos_weight=t["w"]),
    "smooth_l1": lambda x, t: F.smooth_l1_loss(x, t["p"], beta=0.5),
    "huber": lambda x, t: F.huber_loss(x, t["p"], delta=0.3),
    "multilabel": lambda x, t: F.multilabel_soft_margin_loss(x, t["b"], weight=t["w"]),
    "soft_margin": lambda x, t: F.soft_margin_loss(x, t["s"]),
    "kl": lambda x, t: F.kl_div(x.log_softmax(1), t["p"], reduction="batchmean"),
    "kl_logt": lambda x, t: F.kl_div(x, t["p"].log(), log_target=True, reduction="sum"),
    "cosine": lambda x, t: F.cosine_embedding_loss(x, t["p"], t["s"][:, 0], margin=-0.2),
    "triplet": lambda x, t: F.triplet_margin_loss(x, t["p"], t["p"].flip(0), p=3, margin=5.0),
    "gauss": lambda x, t: F.gaussian_nll_loss(x, t["p"], x.exp()),
    "poisson": lambda x, t: F.poisson_nll_loss(x.exp(), t["p"], log_input=False),
    "hinge": lambda x, t: F.hinge_embedding_loss(x, t["s"], margin=1.5),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradcheck(name, rng):
    x = T(rng.standard_normal((3, 4)), grad=True)
    p = rng.random((3, 4)) + 0.05
    t = {"y": T(np.array([0, 1, 3])), "w": T(rng.random(4) + 0.5),
         "p": T(p / p.sum(1, keepdims=True)), "b": T((rng.random((3, 4)) > 0.5) * 1.0),
         "s": T(np.sign(rng.standard_normal((3, 4))))}
    assert gradcheck(lambda x: GRAD_CASES[name](x, t), (x,), eps=1e-6, atol=1e-6)


def test_bce_target_gradient(rng):
    x = T(rng.random((2, 3)) * 0.8 + 0.1, grad=True)
    y = T(rng.random((2, 3)), grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), (x, y))


# ------------------------------------------------------------------ modules
def test_loss_modules_forward_to_functional(rng):
    x = T(rng.standard_normal((4, 3)))
    y = T(np.array([0, 2, 1, 2]))
    w = T(np.array([1.0, 2.0, 0.5]))
    m = nn.CrossEntropyLoss(weight=w, ignore_index=2, label_smoothing=0.1, reduction="sum")
    np.testing.assert_allclose(
        m(x, y).detach().numpy(),
        F.cross_entropy(x, y, weight=w, ignore_index=2, label_smoothing=0.1,
                        reduction="sum").detach().numpy())
    assert "weight" in dict(m.named_buffers())
    assert nn.MSELoss()(x, x * 2).shape == ()
    assert nn.KLDivLoss(reduction="batchmean", log_target=True).log_target
    assert nn.BCEWithLogitsLoss(pos_weight=w).pos_weight is w
    assert nn.HuberLoss(delta=2.0).delta == 2.0
    assert nn.SmoothL1Loss(beta=0.5).beta == 0.5
    assert nn.TripletMarginLoss(margin=2.0, swap=True).swap
    assert nn.NLLLoss().ignore_index == -100
    assert "reduction" in repr(nn.L1Loss(reduction="sum")) or repr(nn.L1Loss()) == "L1Loss()"


def test_loss_module_legacy_args():
    with pytest.warns(UserWarning):
        m = nn.MSELoss(size_average=False)
    assert m.reduction == "sum"


# ------------------------------------------------------------------ bad input
def test_bad_class_targets(rng):
    x = T(rng.standard_normal((3, 4)))
    with pytest.raises(RuntimeError, match="Long"):
        F.cross_entropy(x, ember.tensor([0, 1, 2], dtype=ember.int32))
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, T(np.array([0, 4, 1])))
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(x, T(np.array([0, -1, 1])))
    with pytest.raises(ValueError, match=r"batch_size \(3\).*batch_size \(2\)"):
        F.cross_entropy(x, T(np.array([0, 1])))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
        F.nll_loss(T(rng.standard_normal((2, 3, 4))), T(np.zeros((2, 5), np.int64)))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, T(np.array([0, 1, 2])), weight=T(np.ones(3)))
    with pytest.raises(RuntimeError, match="probability targets must have the input's shape"):
        F.cross_entropy(x, T(np.zeros(3)))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, T(np.array([0, 1, 2])), label_smoothing=1.5)
    # ignore_index values are allowed out of range
    F.cross_entropy(x, T(np.array([0, -100, 1])))


def test_bad_shapes_and_values(rng):
    x = T(rng.random(3))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(x, T(rng.random((3, 1))))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(T(np.array([1.5])), T(np.array([1.0])))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, T(rng.random(4)))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.L1Loss(reduction="batchmean")(x, x)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(T(rng.random((2, 3))), T(rng.random(3)), T(rng.random(3)))
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(x, x, T(np.ones((3, 1))))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(T(rng.random((2, 3))), T(rng.random((2, 3))), T(rng.random(3)))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, T(np.array([1.0, -1.0, 1.0])))
    with pytest.raises(RuntimeError, match="could not be broadcast|cannot be broadcast"):
        F.mse_loss(x, T(rng.random(4)))
    with pytest.raises(TypeError, match="'target' must be a Tensor"):
        F.l1_loss(x, [1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, T(rng.random((2, 1, 3))))


def test_double_backward(rng):
    from ember.autograd import gradgradcheck
    x = T(rng.standard_normal((3, 4)), grad=True)
    p = T(rng.random((3, 4)) * 0.8 + 0.1, grad=True)
    t = T(rng.random((3, 4)))
    y = T(np.array([0, 2, 1]))
    assert gradgradcheck(lambda a: F.cross_entropy(a, y, label_smoothing=0.1), (x,))
    assert gradgradcheck(lambda a: F.binary_cross_entropy(a, t), (p,))
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t), (x,))


def test_host_checks_switch(rng):
    from ember.nn.functional.loss import host_checks_enabled, set_host_checks
    assert host_checks_enabled()
    old = set_host_checks(False)
    try:
        assert not host_checks_enabled()
        # without the host check the bad index reaches gather, which rejects it itself
        with pytest.raises(IndexError, match="gather"):
            F.cross_entropy(T(rng.standard_normal((3, 4))), T(np.array([0, 7, 1])))
    finally:
        set_host_checks(old)
    assert host_checks_enabled()
