"""Whole training steps compile into one graph and match eager step for step."""
import numpy as np
import pytest

import ember
from ember import nn, optim

from _helpers import training_step


def _mlp(dtype, seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4)).to(dtype)


def _cnn(dtype, seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(6 * 2 * 2, 3)).to(dtype)


def _run_pair(make_model, make_opt, dtype, x, y, steps=20, sched=None):
    m_e, m_c = make_model(dtype), make_model(dtype)
    o_e, o_c = make_opt(m_e.parameters()), make_opt(m_c.parameters())
    s_e = sched(o_e) if sched else None
    s_c = sched(o_c) if sched else None
    eager, compiled = training_step(m_e, o_e), ember.compile(training_step(m_c, o_c))
    losses = []
    for _ in range(steps):
        le, lc = eager(x, y), compiled(x, y)
        losses.append((le.item(), lc.item()))
        if sched:
            s_e.step()
            s_c.step()
    return m_e, m_c, o_e, o_c, np.array(losses), compiled


def _data(shape, dtype, n_cls=4, seed=1):
    g = ember.Generator().manual_seed(seed)
    x = ember.randn(*shape, generator=g, dtype=dtype)
    y = ember.randint(0, n_cls, (shape[0],), generator=g)
    return x, y


def _assert_same(m_e, m_c, losses, loss_rtol, param_rtol):
    np.testing.assert_allclose(losses[:, 1], losses[:, 0], rtol=loss_rtol)
    for (n, pe), pc in zip(m_e.named_parameters(), m_c.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=param_rtol,
                                   atol=param_rtol * 1e-3, err_msg=n)
        np.testing.assert_allclose(pc.grad.numpy(), pe.grad.numpy(), rtol=param_rtol,
                                   atol=param_rtol * 1e-3, err_msg=n + ".grad")


@pytest.mark.parametrize("dtype,loss_rtol,param_rtol", [(ember.float64, 1e-10, 1e-10),
                                                       (ember.float32, 1e-4, 1e-3)])
def test_mlp_sgd_momentum_matches_eager(dtype, loss_rtol, param_rtol):
    x, y = _data((8, 12), dtype)
    m_e, m_c, o_e, o_c, losses, c = _run_pair(
        _mlp, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), dtype, x, y)
    _assert_same(m_e, m_c, losses, loss_rtol, param_rtol)
    assert losses[-1, 1] < losses[0, 1]          # it trained
    assert c.traces == 1 and c.retraces == 0      # one graph for the whole step
    for p_e, p_c in zip(m_e.parameters(), m_c.parameters()):   # optimizer state too
        np.testing.assert_allclose(o_c.state[p_c]["momentum_buffer"].numpy(),
                                   o_e.state[p_e]["momentum_buffer"].numpy(), rtol=param_rtol)


def test_adam_with_scheduler_changing_lr_every_step_never_retraces():
    dtype = ember.float64
    x, y = _data((8, 12), dtype)
    sched = lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=0.9)  # noqa: E731
    m_e, m_c, o_e, o_c, losses, c = _run_pair(
        _mlp, lambda ps: optim.Adam(ps, lr=0.05), dtype, x, y, sched=sched)
    _assert_same(m_e, m_c, losses, 1e-10, 1e-10)
    assert o_c.param_groups[0]["lr"] == pytest.approx(0.05 * 0.9 ** 20)
    assert c.traces == 1 and c.retraces == 0


@pytest.mark.parametrize("dtype,loss_rtol,param_rtol", [(ember.float64, 1e-10, 1e-10),
                                                       (ember.float32, 1e-4, 1e-3)])
def test_small_cnn_matches_eager(dtype, loss_rtol, param_rtol):
    x, y = _data((4, 1, 8, 8), dtype, n_cls=3)
    m_e, m_c, _, _, losses, c = _run_pair(
        _cnn, lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9), dtype, x, y, steps=10)
    _assert_same(m_e, m_c, losses, loss_rtol, param_rtol)
    assert c.traces == 1


def test_grad_none_versus_tensor_matches_eager():
    """After a compiled step, .grad is a tensor exactly where eager leaves one."""
    m = _mlp(ember.float64)
    frozen = list(m.parameters())[0]
    frozen.requires_grad_(False)
    opt = optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
    step = ember.compile(training_step(m, opt))
    x, y = _data((4, 12), ember.float64)
    for _ in range(3):
        step(x, y)
    assert frozen.grad is None
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)


def test_parameters_stay_the_same_objects_and_storage():
    m = _mlp(ember.float64)
    opt = optim.SGD(m.parameters(), lr=0.1)
    before = [(p, p._data) for p in m.parameters()]
    sd_tensor = m.state_dict()["0.weight"]
    step = ember.compile(training_step(m, opt))
    x, y = _data((4, 12), ember.float64)
    w0 = m[0].weight.detach().numpy().copy()
    for _ in range(3):
        step(x, y)
    assert [(p, p._data) for p in m.parameters()] == before
    assert not np.allclose(sd_tensor.numpy(), w0)   # state_dict tensors see the updates
