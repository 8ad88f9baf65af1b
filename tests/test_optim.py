"""Optimizer base: validation, param groups, zero_grad, state_dict round trips, the
hyper-parameter helper and the no-host-reads-in-step() rule."""
import copy

import numpy as np
import pytest

import ember
import ember.optim as optim
from ember.optim.lr_scheduler import OneCycleLR, StepLR

from test_optim_trajectories import CASES, IDS, _problem, loss_of, run_ember


def _leaf(*shape):
    return ember.randn(*shape, requires_grad=True)


ALL = ["SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "ASGD", "RMSprop", "Rprop"]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ALL + ["SparseAdam", "LBFGS"])
def test_empty_parameter_list(name):
    with pytest.raises(ValueError, match=f"{name}: optimizer got an empty parameter list"):
        getattr(optim, name)([])


def test_params_must_be_iterable_of_tensors():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(_leaf(2), lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({_leaf(2)}, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors.*param 1.*int"):
        optim.SGD([_leaf(2), 3], lr=0.1)


def test_non_leaf_rejected():
    a = _leaf(3)
    b = a * 2
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf Tensor \(param 1.*\(3,\)"):
        optim.Adam([a, b])


def test_duplicates_rejected():
    a, b = _leaf(2, 2), _leaf(3)
    with pytest.raises(ValueError, match=r"parameter 2 \(shape \(2, 2\)\) appears more than once"):
        optim.SGD([a, b, a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": a})


@pytest.mark.parametrize("name,kw,msg", [
    ("SGD", dict(lr=-0.1), "SGD: Invalid learning rate: -0.1"),
    ("SGD", dict(lr=0.1, momentum=-1), "Invalid momentum value"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    ("Adam", dict(lr=-1e-3), "Adam: Invalid learning rate"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("Adam", dict(betas=(0.9,)), "betas must be a pair"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value"),
    ("AdamW", dict(weight_decay=-1), "AdamW: Invalid weight_decay"),
    ("Adamax", dict(betas=(0.9, 1.5)), "Adamax: Invalid beta parameter at index 1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value"),
    ("ASGD", dict(lr=-1), "ASGD: Invalid learning rate"),
    ("RMSprop", dict(alpha=-1), "Invalid alpha value"),
    ("RMSprop", dict(eps=-1), "Invalid epsilon value"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values"),
    ("Rprop", dict(step_sizes=(1.0, 0.1)), "Invalid step_sizes"),
    ("LBFGS", dict(lr=-1), "LBFGS: Invalid learning rate"),
])
def test_invalid_hyperparameters(name, kw, msg):
    with pytest.raises(ValueError, match=msg):
        getattr(optim, name)([_leaf(2)], **kw)


def test_unsupported_options_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="fused"):
        optim.Adam([_leaf(2)], fused=True)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.SGD([_leaf(2)], lr=0.1, differentiable=True)


def test_empty_group_allowed_like_torch():
    opt = optim.SGD([_leaf(2)], lr=0.1)
    opt.add_param_group({"params": []})
    opt.step()
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.1


def test_tensor_weight_decay_needs_no_host_read(monkeypatch):
    a = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=ember.tensor(0.5), weight_decay=ember.tensor(0.25))
    for _ in range(2):
        opt.zero_grad()
        (a * a).sum().backward()
        with monkeypatch.context() as m:
            m.setattr(ember.Tensor, "__bool__", lambda s: (_ for _ in ()).throw(AssertionError))
            opt.step()
    x, buf = np.array([1.0, -2.0]), None
    for _ in range(2):
        g = 2 * x + 0.25 * x
        buf = g if buf is None else 0.5 * buf + g
        x = x - 0.1 * buf
    np.testing.assert_allclose(a.detach().numpy(), x, rtol=1e-6)


def test_param_group_validation():
    opt = optim.SGD([_leaf(2)], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([_leaf(2)])
    with pytest.raises(ValueError, match="no 'params'"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [("w", _leaf(2))]})


# ---------------------------------------------------------------- groups, defaults, zero_grad
def test_param_groups_and_defaults():
    a, b, c = _leaf(2), _leaf(3), _leaf(1)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.defaults["lr"] == 0.1 and len(opt.param_groups) == 2
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["nesterov"] is False
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["params"][0] is c and opt.param_groups[2]["weight_decay"] == 0.1
    assert opt.param_groups[2]["lr"] == 0.1
    assert "Parameter Group 2" in repr(opt) and "weight_decay: 0.1" in repr(opt)


def test_named_parameters():
    a, b = _leaf(2), _leaf(3)
    opt = optim.Adam([("a", a), ("b", b)])
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_zero_grad():
    a = _leaf(3)
    opt = optim.SGD([a], lr=0.1)
    (a * 2).sum().backward()
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and a.grad.tolist() == [0.0, 0.0, 0.0]
    (a * 3).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 3.0)
    opt.zero_grad()
    assert a.grad is None


def test_step_returns_closure_loss_with_grad_enabled():
    a = ember.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(a.detach().numpy(), [0.0, 0.0])
    assert a.requires_grad and a.is_leaf and a.grad_fn is None


def test_step_hooks():
    a = _leaf(2)
    opt = optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kw: calls.append("post"))
    opt.step()
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


# ---------------------------------------------------------------- state dicts
def test_state_dict_format():
    a, b, c = _leaf(2), _leaf(3), _leaf(4)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    for p in (a, c):  # b gets no gradient: no state
        (p * p).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 2]
    st = sd["state"][2]
    assert sorted(st) == ["exp_avg", "exp_avg_sq", "step"]
    assert st["step"].shape == () and st["step"].dtype is ember.float32
    assert float(st["step"]) == 1.0 and st["exp_avg"].shape == (4,)


def test_state_dict_matches_torch_layout():
    torch = pytest.importorskip("torch")
    inits, coef, target = _problem()
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("RMSprop", dict(centered=True,
                                                                          momentum=0.5)),
                     ("ASGD", {}), ("Rprop", {}), ("Adam", dict(amsgrad=True)), ("Adagrad", {})]:
        tws = [torch.tensor(a, requires_grad=True) for a in inits]
        topt = getattr(torch.optim, name)(tws, **kw)
        loss_of(torch, tws, coef, target).backward()
        topt.step()
        ews = [ember.tensor(a, requires_grad=True) for a in inits]
        eopt = getattr(optim, name)(ews, **kw)
        loss_of(ember, ews, coef, target).backward()
        eopt.step()
        tsd, esd = topt.state_dict(), eopt.state_dict()
        assert set(tsd["state"]) == set(esd["state"])
        for i in tsd["state"]:
            assert set(tsd["state"][i]) == set(esd["state"][i]), name
            for k, tv in tsd["state"][i].items():
                ev = esd["state"][i][k]
                assert tuple(ev.shape) == tuple(tv.shape), (name, k)
                assert ev.dtype.name == str(tv.dtype).replace("torch.", ""), (name, k)
                np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-6, err_msg=k)
        tg, eg = tsd["param_groups"][0], esd["param_groups"][0]
        assert set(tg) == set(eg), name
        assert tg["params"] == eg["params"]


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(name, kw):
    cls = getattr(optim, name)
    full, _ = run_ember(cls, kw, steps=5)
    inits, coef, target = _problem()
    ws = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in inits]
    opt = cls(ws, **kw)

    def one_step(opt, ws):
        opt.zero_grad()
        loss_of(ember, ws, coef, target).backward()
        opt.step()

    for _ in range(3):
        one_step(opt, ws)
    saved = copy.deepcopy(opt.state_dict())
    one_step(opt, ws)  # the saved copy must not follow the live state
    # a fresh optimizer on the params as they were after 3 steps
    ws2 = [ember.tensor(a, dtype=ember.float64, requires_grad=True)
           for a in run_ember(cls, kw, steps=3)[0]]
    opt2 = cls(ws2, **kw)
    opt2.load_state_dict(saved)
    for _ in range(2):
        one_step(opt2, ws2)
    for g, w in zip(ws2, full):
        np.testing.assert_array_equal(g.detach().numpy(), w)


def test_load_state_dict_copies_and_casts():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    sd = opt.state_dict()
    b = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    opt2 = optim.Adam([b], lr=0.1)
    opt2.load_state_dict(sd)
    st = opt2.state[b]
    assert st["exp_avg"].dtype is ember.float64 and st["step"].dtype is ember.float32
    assert st["exp_avg"] is not sd["state"][0]["exp_avg"]
    np.testing.assert_allclose(st["exp_avg"].numpy(), sd["state"][0]["exp_avg"].numpy())
    st["exp_avg"].add_(1.0)
    assert float(sd["state"][0]["exp_avg"][0]) != float(st["exp_avg"][0])
    assert opt2.param_groups[0]["params"][0] is b


def test_load_state_dict_mismatch_errors():
    opt = optim.SGD([_leaf(2), _leaf(3)], lr=0.1)
    other = optim.SGD([{"params": [_leaf(2)]}, {"params": [_leaf(3)]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(optim.SGD([_leaf(2)], lr=0.1).state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"foo": 1})


def test_load_torch_state_dict_then_continue():
    torch = pytest.importorskip("torch")
    kw = dict(lr=0.1, amsgrad=True, weight_decay=0.01)
    inits, coef, target = _problem()
    tws = [torch.tensor(a, requires_grad=True) for a in inits]
    topt = torch.optim.Adam(tws, **kw)
    for _ in range(3):
        topt.zero_grad()
        loss_of(torch, tws, coef, target).backward()
        topt.step()
    tsd = topt.state_dict()
    sd = {"param_groups": tsd["param_groups"],
          "state": {i: {k: ember.tensor(v.numpy()) for k, v in s.items()}
                    for i, s in tsd["state"].items()}}
    ws = [ember.tensor(w.detach().numpy(), requires_grad=True) for w in tws]
    opt = optim.Adam(ws, lr=0.5)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1
    for _ in range(2):
        topt.zero_grad()
        loss_of(torch, tws, coef, target).backward()
        topt.step()
        opt.zero_grad()
        loss_of(ember, ws, coef, target).backward()
        opt.step()
    for e, t in zip(ws, tws):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10)


# ---------------------------------------------------------------- traceability
def test_hyper_is_one_lifted_tensor_per_group():
    a = _leaf(2)
    opt = optim.Adam([a], lr=0.1)
    g = opt.param_groups[0]
    lr0 = opt._hyper(g, "lr")
    b1, b2 = opt._hyper(g, "betas")
    assert lr0.shape == () and float(lr0) == pytest.approx(0.1)
    g["lr"] = 0.025
    g["betas"] = (0.5, 0.999)
    lr1 = opt._hyper(g, "lr")
    assert lr1 is lr0 and float(lr1) == 0.025
    nb1, nb2 = opt._hyper(g, "betas")
    assert nb1 is b1 and nb2 is b2 and float(nb1) == 0.5
    user_lr = ember.tensor(0.3)
    g["lr"] = user_lr
    assert opt._hyper(g, "lr") is user_lr


def test_scheduler_lr_changes_reach_the_update():
    # SGD with a StepLR: the trajectory must follow the changing lr
    a = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    x, lr = 1.0, 0.1
    for _ in range(4):
        opt.zero_grad()
        (a * a).sum().backward()
        opt.step()
        sched.step()
        x, lr = x - lr * 2 * x, lr * 0.5
    assert float(a) == pytest.approx(x, rel=1e-12)


def test_tensor_lr_is_used():
    lr = ember.tensor(0.1, dtype=ember.float64)
    a = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.SGD([a], lr=lr)
    (a * a).sum().backward()
    opt.step()
    lr.fill_(0.5)
    opt.step()
    assert float(a) == pytest.approx((1 - 0.2) - 0.5 * 2)


_HOST_READS = ["item", "__float__", "__int__", "__index__", "__bool__", "numpy", "tolist",
               "__array__"]


@pytest.mark.parametrize("name,kw", CASES + [("SparseAdam", dict(lr=0.1))],
                         ids=IDS + ["SparseAdam"])
def test_step_does_no_host_reads(name, kw, monkeypatch):
    inits, coef, target = _problem()
    ws = [ember.tensor(a, requires_grad=True) for a in inits]
    opt = getattr(optim, name)(ws, **kw)
    sched = OneCycleLR(opt, max_lr=0.1, total_steps=10,
                       cycle_momentum="momentum" in opt.defaults or "betas" in opt.defaults)
    for step in range(3):
        opt.zero_grad()
        loss_of(ember, ws, coef, target).backward()
        with monkeypatch.context() as m:
            for attr in _HOST_READS:
                def boom(*a, _attr=attr, **k):
                    raise AssertionError(f"{name}.step() read a tensor on the host ({_attr})")
                m.setattr(ember.Tensor, attr, boom)
            opt.step()
        sched.step()
    # the reads were really blocked, and the update still happened
    assert not np.allclose(ws[0].detach().numpy(), inits[0])


def test_host_read_guard_detects_reads(monkeypatch):
    a = _leaf(2)
    monkeypatch.setattr(ember.Tensor, "item", lambda *x: (_ for _ in ()).throw(AssertionError))
    with pytest.raises(AssertionError):
        a.sum().item()
