"""lr schedulers: sequences vs closed forms and vs torch.optim.lr_scheduler, state dicts,
cycled momentum / betas, bad input."""
import math
import warnings

import pytest

import ember
import ember.optim as optim
from ember.optim import lr_scheduler as S

LRS = (0.1, 0.05)


def _opt(mod, name="SGD", **kw):
    ps = [mod.zeros(2, requires_grad=True), mod.zeros(3, requires_grad=True)]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(ps, LRS)]
    return getattr(mod.optim, name)(groups, **kw)


def _sequence(mod, make_sched, n, name="SGD", metrics=None, **kw):
    opt = _opt(mod, name, **kw)
    sched = make_sched(mod.optim.lr_scheduler, opt)
    out = [list(sched.get_last_lr())]
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append([float(v) for v in sched.get_last_lr()])
    return out, opt, sched


def _close(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == pytest.approx(y, rel=1e-12, abs=1e-15), (a, b)


FACTORIES = {
    "StepLR": lambda M, o: M.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda M, o: M.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda M, o: M.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda M, o: M.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
    "LambdaLR": lambda M, o: M.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda M, o: M.MultiplicativeLR(o, lr_lambda=lambda e: 0.95),
    "LinearLR": lambda M, o: M.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=4),
    "ConstantLR": lambda M, o: M.ConstantLR(o, factor=0.5, total_iters=3),
    "PolynomialLR": lambda M, o: M.PolynomialLR(o, total_iters=6, power=2.0),
    "OneCycleLR-cos": lambda M, o: M.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=12),
    "OneCycleLR-linear-3phase": lambda M, o: M.OneCycleLR(o, max_lr=0.8, total_steps=12,
                                                          anneal_strategy="linear",
                                                          three_phase=True, pct_start=0.25),
    "SequentialLR": lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o, start_factor=0.1, total_iters=3), M.ExponentialLR(o, gamma=0.8)],
        milestones=[3]),
    "SequentialLR-3": lambda M, o: M.SequentialLR(
        o, [M.ConstantLR(o, factor=0.5, total_iters=10), M.StepLR(o, 2, 0.5),
            M.CosineAnnealingLR(o, T_max=3)], milestones=[2, 6]),
    "ChainedScheduler": lambda M, o: M.ChainedScheduler(
        [M.ExponentialLR(o, gamma=0.9), M.StepLR(o, step_size=2, gamma=0.5)]),
}


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_sequence_vs_torch(kind):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, topt, _ = _sequence(torch, FACTORIES[kind], 11, momentum=0.9)
    got, opt, _ = _sequence(ember, FACTORIES[kind], 11, momentum=0.9)
    for g, w in zip(got, want):
        _close(g, w)
    for tg, g in zip(topt.param_groups, opt.param_groups):
        assert g["momentum"] == pytest.approx(tg["momentum"], rel=1e-12)


def test_cosine_long_run_vs_torch():
    torch = pytest.importorskip("torch")
    f = lambda M, o: M.CosineAnnealingLR(o, T_max=5, eta_min=0.01)  # noqa: E731
    want, _, _ = _sequence(torch, f, 23)
    got, _, _ = _sequence(ember, f, 23)
    for g, w in zip(got, want):
        _close(g, w)


CLOSED = {
    "StepLR": lambda b, e: b * 0.5 ** (e // 3),
    "MultiStepLR": lambda b, e: b * 0.3 ** (int(e >= 2) + 2 * int(e >= 5) + int(e >= 9)),
    "ExponentialLR": lambda b, e: b * 0.9 ** e,
    "LinearLR": lambda b, e: b * (0.25 + (0.9 - 0.25) * min(e, 4) / 4),
    "ConstantLR": lambda b, e: b * (0.5 if e < 3 else 1.0),
    "PolynomialLR": lambda b, e: b * (1 - min(e, 6) / 6) ** 2,
}


@pytest.mark.parametrize("kind", list(CLOSED))
def test_sequence_vs_closed_form(kind):
    got, _, _ = _sequence(ember, FACTORIES[kind], 11)
    for e, lrs in enumerate(got):
        _close(lrs, [CLOSED[kind](b, e) for b in LRS])


def test_cosine_closed_form_within_period():
    got, _, _ = _sequence(ember, FACTORIES["CosineAnnealingLR"], 4)
    for e, lrs in enumerate(got):
        _close(lrs, [0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 4)) / 2 for b in LRS])


def test_lambda_closed_form():
    got, _, _ = _sequence(ember, FACTORIES["LambdaLR"], 6)
    for e, lrs in enumerate(got):
        _close(lrs, [0.1 / (e + 1), 0.05 * 0.9 ** e])


def test_sequential_closed_form():
    got, _, _ = _sequence(ember, FACTORIES["SequentialLR"], 8)
    want = [[b * (0.1 + 0.9 * min(e, 3) / 3) if e < 3 else b * 0.8 ** (e - 3) for b in LRS]
            for e in range(9)]
    for g, w in zip(got, want):
        _close(g, w)


def _one_cycle_ref(e, total, max_lr, pct=0.3, div=25.0, final=1e4, base_m=0.85, max_m=0.95):
    init, lo = max_lr / div, max_lr / div / final
    end1 = pct * total - 1
    if e <= end1:
        t = e / end1
        return init + (max_lr - init) * t, max_m + (base_m - max_m) * t
    t = (e - end1) / (total - 1 - end1)
    return max_lr + (lo - max_lr) * t, base_m + (max_m - base_m) * t


def test_one_cycle_linear_closed_form_with_adam_betas():
    got, opt, sched = _sequence(
        ember, lambda M, o: M.OneCycleLR(o, max_lr=0.5, total_steps=10, anneal_strategy="linear"),
        9, name="Adam")
    betas = []
    o2 = _opt(ember, "Adam")
    s2 = S.OneCycleLR(o2, max_lr=0.5, total_steps=10, anneal_strategy="linear")
    betas.append(o2.param_groups[0]["betas"])
    for _ in range(9):
        o2.step()
        s2.step()
        betas.append(o2.param_groups[0]["betas"])
    for e in range(10):
        lr, m = _one_cycle_ref(e, 10, 0.5)
        assert got[e][0] == pytest.approx(lr, rel=1e-12)
        assert got[e][1] == pytest.approx(lr, rel=1e-12)
        assert betas[e][0] == pytest.approx(m, rel=1e-12) and betas[e][1] == 0.999
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        o2.step()
        s2.step()
        s2.step()


def test_one_cycle_betas_vs_torch():
    torch = pytest.importorskip("torch")
    f = lambda M, o: M.OneCycleLR(o, max_lr=0.3, epochs=2, steps_per_epoch=5)  # noqa: E731
    want, topt, _ = _sequence(torch, f, 9, name="AdamW")
    got, opt, _ = _sequence(ember, f, 9, name="AdamW")
    for g, w in zip(got, want):
        _close(g, w)
    for tg, g in zip(topt.param_groups, opt.param_groups):
        assert g["betas"][0] == pytest.approx(tg["betas"][0], rel=1e-12)


def test_reduce_lr_on_plateau():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    make = lambda M, o: M.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1,  # noqa
                                            min_lr=[0.0, 0.02])
    got, _, sched = _sequence(ember, make, len(metrics), metrics=metrics)
    # epochs 3,4,5 are bad (0.95 > best 0.9): the third bad one (> patience) halves the lr
    # at epoch 5 and starts a 1-epoch cooldown; 0.8 at epoch 6 is a new best; epochs 7,8,9
    # are bad -> halve at 9; then cooldown eats epoch 10's bad count, 11 and 12 are only 2
    col0 = [g[0] for g in got]
    assert col0 == pytest.approx([0.1] * 5 + [0.05] * 4 + [0.025] * 4)
    assert [g[1] for g in got][-1] == 0.02  # clamped at its min_lr
    torch = pytest.importorskip("torch")
    want, _, _ = _sequence(torch, make, len(metrics), metrics=metrics)
    for g, w in zip(got, want):
        _close(g, w)


@pytest.mark.parametrize("mode,thr_mode", [("max", "rel"), ("max", "abs"), ("min", "abs")])
def test_reduce_lr_on_plateau_modes_vs_torch(mode, thr_mode):
    torch = pytest.importorskip("torch")
    metrics = [1.0, 1.05, 1.1, 1.1, 1.09, 1.2, 1.2, 1.2, 0.5, 0.4, 0.3]
    make = lambda M, o: M.ReduceLROnPlateau(o, mode=mode, threshold=0.05,  # noqa: E731
                                            threshold_mode=thr_mode, patience=1)
    want, _, _ = _sequence(torch, make, len(metrics), metrics=metrics)
    got, _, _ = _sequence(ember, make, len(metrics), metrics=metrics)
    for g, w in zip(got, want):
        _close(g, w)


def test_reduce_lr_on_plateau_reads_tensor_metric():
    opt = _opt(ember)
    sched = S.ReduceLROnPlateau(opt, patience=0)
    sched.step(ember.tensor(1.0))
    sched.step(ember.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.005])


@pytest.mark.parametrize("kind", ["StepLR", "CosineAnnealingLR", "OneCycleLR-cos",
                                  "SequentialLR", "LambdaLR"])
def test_scheduler_state_dict_round_trip(kind):
    full, _, _ = _sequence(ember, FACTORIES[kind], 10)
    opt = _opt(ember)
    sched = FACTORIES[kind](S, opt)
    for _ in range(4):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    osd = opt.state_dict()
    opt2 = _opt(ember)
    sched2 = FACTORIES[kind](S, opt2)
    opt2.load_state_dict(osd)
    sched2.load_state_dict(sd)
    rest = []
    for _ in range(6):
        opt2.step()
        sched2.step()
        rest.append(list(sched2.get_last_lr()))
    for g, w in zip(rest, full[5:]):
        _close(g, w)


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = _opt(ember)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(opt, step_size=2, last_epoch=3)


def test_step_before_optimizer_step_warns():
    opt = _opt(ember)
    sched = S.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = _opt(ember)
    sched2 = S.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_tensor_lr_filled_in_place():
    lr = ember.tensor(0.1)
    opt = optim.SGD([ember.zeros(2, requires_grad=True)], lr=lr)
    sched = S.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.05)


@pytest.mark.parametrize("make,exc,msg", [
    (lambda o: S.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: S.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
    (lambda o: S.LinearLR(o, end_factor=1.5), ValueError, "Ending multiplicative factor"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps OR"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), ValueError,
     "pct_start"),
    (lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: S.OneCycleLR(o, max_lr=[0.1], total_steps=10), ValueError, "same length"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up' is unknown"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]), ValueError,
     "one more than the number of milestone"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], milestones=[3]),
     ValueError, "ReduceLROnPlateau"),
    (lambda o: S.LambdaLR(o, lr_lambda=[lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda o: S.StepLR("not an optimizer", 2), TypeError, "str is not an Optimizer"),
])
def test_bad_input(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make(_opt(ember))


def test_one_cycle_needs_momentum():
    opt = _opt(ember, "Adagrad")
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=5)
    S.OneCycleLR(opt, max_lr=0.1, total_steps=5, cycle_momentum=False)


def test_custom_optimizer_step_is_tracked():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

    w = ember.tensor([1.0], requires_grad=True)
    opt = Plain([w])
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    (w * w).sum().backward()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    assert float(w) == pytest.approx(0.8) and opt.param_groups[0]["lr"] == 0.05
