"""nn.init: distributions (moments and bounds on large draws), exact constructions, gains,
fans and errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init


def _w(*shape):
    return nn.Parameter(ember.empty(*shape))


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(ember.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(ember.empty(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(5))


def test_uniform_normal_constant():
    ember.manual_seed(0)
    w = init.uniform_(_w(200, 100), -2.0, 3.0)
    a = w.detach().numpy()
    assert a.min() >= -2.0 and a.max() < 3.0
    assert abs(a.mean() - 0.5) < 0.05 and abs(a.var() - 25 / 12) < 0.1
    a = init.normal_(_w(200, 100), 1.0, 0.5).detach().numpy()
    assert abs(a.mean() - 1.0) < 0.02 and abs(a.std() - 0.5) < 0.02
    assert (init.constant_(_w(2, 2), 0.3).detach().numpy() == np.float32(0.3)).all()
    assert (init.zeros_(_w(3)).detach().numpy() == 0).all()
    assert (init.ones_(_w(3)).detach().numpy() == 1).all()
    w = _w(3, 4)
    assert init.normal_(w) is w and w.requires_grad and w.is_leaf


def test_seeded_init_is_reproducible():
    ember.manual_seed(42)
    a = nn.Linear(4, 3).weight.detach().numpy().copy()
    ember.manual_seed(42)
    b = nn.Linear(4, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_xavier_and_kaiming():
    ember.manual_seed(1)
    fan_in, fan_out = 60, 80
    a = init.xavier_uniform_(_w(fan_out, fan_in), gain=2.0).detach().numpy()
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.95 * bound
    a = init.xavier_normal_(_w(fan_out, fan_in)).detach().numpy()
    assert abs(a.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.01
    a = init.kaiming_uniform_(_w(fan_out, fan_in), nonlinearity="relu").detach().numpy()
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.95 * bound
    a = init.kaiming_normal_(_w(fan_out, fan_in), mode="fan_out",
                             nonlinearity="relu").detach().numpy()
    assert abs(a.std() - math.sqrt(2 / fan_out)) < 0.01
    a = init.kaiming_normal_(_w(40, 10, 3, 3), a=0.5).detach().numpy()
    assert abs(a.std() - math.sqrt(2 / 1.25) / math.sqrt(90)) < 0.01
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_w(2, 2), mode="fan_avg")


def test_trunc_normal():
    ember.manual_seed(2)
    a = init.trunc_normal_(_w(300, 100), mean=0.5, std=1.0, a=-1.0, b=1.5).detach().numpy()
    assert a.min() >= -1.0 and a.max() <= 1.5
    # moments of N(0.5, 1) truncated to [-1, 1.5]
    from math import erf, exp, pi, sqrt
    alpha, beta = -1.5, 1.0
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)  # noqa: E731
    Phi = lambda z: 0.5 * (1 + erf(z / sqrt(2)))  # noqa: E731
    Z = Phi(beta) - Phi(alpha)
    mean = 0.5 + (phi(alpha) - phi(beta)) / Z
    var = 1 + (alpha * phi(alpha) - beta * phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z) ** 2
    assert abs(a.mean() - mean) < 0.02 and abs(a.var() - var) < 0.02


def test_eye_dirac_orthogonal():
    np.testing.assert_array_equal(init.eye_(_w(2, 3)).detach().numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_w(2, 2, 2))
    d = init.dirac_(_w(2, 2, 3)).detach().numpy()
    assert d[0, 0, 1] == 1 and d[1, 1, 1] == 1 and d.sum() == 2
    ember.manual_seed(3)
    q = init.orthogonal_(_w(4, 6), gain=2.0).detach().numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    q = init.orthogonal_(_w(6, 2, 2)).detach().numpy().reshape(6, 4).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_init_under_autograd_does_not_record():
    w = _w(3, 3)
    init.kaiming_uniform_(w)
    assert w.grad_fn is None and w.is_leaf and w.requires_grad
