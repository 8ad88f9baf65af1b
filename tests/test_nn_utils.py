"""nn.utils: gradient clipping (values vs numpy, returned norm, no host reads) and
parameter/vector conversion."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                            vector_to_parameters)


def _params_with_grads(rng, scale=1.0):
    ps = []
    for shape in [(3, 2), (4,)]:
        p = nn.Parameter(ember.tensor(rng.standard_normal(shape)))
        p.grad = ember.tensor(rng.standard_normal(shape) * scale)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm(norm_type):
    rng = np.random.default_rng(0)
    ps = _params_with_grads(rng, 5.0)
    g = [p.grad.numpy().copy() for p in ps]
    flat = np.concatenate([a.ravel() for a in g])
    total = np.abs(flat).max() if norm_type == float("inf") else \
        (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    out = clip_grad_norm_(ps, 1.5, norm_type)
    assert isinstance(out, ember.Tensor) and out.dim() == 0
    np.testing.assert_allclose(out.item(), total, rtol=1e-10)
    coef = min(1.5 / (total + 1e-6), 1.0)
    for p, a in zip(ps, g):
        np.testing.assert_allclose(p.grad.numpy(), a * coef, rtol=1e-10)


def test_clip_grad_norm_no_clip_when_small_and_skips_none():
    rng = np.random.default_rng(1)
    ps = _params_with_grads(rng, 0.01)
    extra = nn.Parameter(ember.zeros(2))  # no grad: ignored
    before = [p.grad.numpy().copy() for p in ps]
    clip_grad_norm_(ps + [extra], 10.0)
    for p, a in zip(ps, before):
        np.testing.assert_array_equal(p.grad.numpy(), a)
    assert float(clip_grad_norm_([extra], 1.0)) == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(ember.zeros(2))
    p.grad = ember.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert not np.isfinite(clip_grad_norm_(p, 1.0).item())


def test_clip_grad_norm_no_host_reads(monkeypatch):
    ps = _params_with_grads(np.random.default_rng(2), 3.0)

    def boom(self):
        raise AssertionError("host read in clip_grad_norm_")
    monkeypatch.setattr(ember.Tensor, "item", boom)
    monkeypatch.setattr(ember.Tensor, "__bool__", boom)
    monkeypatch.setattr(ember.Tensor, "__float__", boom)
    clip_grad_norm_(ps, 1.0)


def test_clip_grad_value():
    ps = _params_with_grads(np.random.default_rng(3), 2.0)
    before = [p.grad.numpy().copy() for p in ps]
    clip_grad_value_(ps, 0.5)
    for p, a in zip(ps, before):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(a, -0.5, 0.5))


def test_clip_after_backward_then_step_matches_numpy():
    rng = np.random.default_rng(4)
    lin = nn.Linear(3, 2).double()
    x = ember.tensor(rng.standard_normal((4, 3)))
    (lin(x) ** 2).sum().backward()
    g = np.concatenate([p.grad.numpy().ravel() for p in lin.parameters()])
    clip_grad_norm_(lin.parameters(), 0.1)
    g2 = np.concatenate([p.grad.numpy().ravel() for p in lin.parameters()])
    np.testing.assert_allclose(np.linalg.norm(g2), 0.1, rtol=1e-5)
    np.testing.assert_allclose(g2 / np.linalg.norm(g2), g / np.linalg.norm(g), rtol=1e-10)


def test_parameters_to_vector_roundtrip():
    lin = nn.Linear(3, 2)
    v = parameters_to_vector(lin.parameters())
    assert tuple(v.shape) == (8,)
    np.testing.assert_array_equal(v.detach().numpy()[:6], lin.weight.detach().numpy().ravel())
    new = ember.arange(8, dtype=ember.float32)
    vector_to_parameters(new, lin.parameters())
    np.testing.assert_array_equal(lin.weight.detach().numpy().ravel(), np.arange(6))
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [6, 7])
    assert lin.weight.is_leaf and lin.weight.requires_grad
    # differentiable
    v = parameters_to_vector(lin.parameters())
    (v * ember.arange(8, dtype=ember.float32)).sum().backward()
    np.testing.assert_array_equal(lin.bias.grad.numpy(), [6, 7])
    with pytest.raises(RuntimeError, match="vec has 3 elements"):
        vector_to_parameters(ember.zeros(3), lin.parameters())
    with pytest.raises(TypeError):
        vector_to_parameters([1.0], lin.parameters())
