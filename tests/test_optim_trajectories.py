"""Optimizer trajectories over several steps vs a float64 numpy implementation of each
documented update rule, and vs torch.optim (when installed) from the same initial params."""
import numpy as np
import pytest

import ember
import ember.optim as optim

SHAPES = [(3, 4), (5,)]
STEPS = 6


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    inits = [rng.normal(size=s) for s in SHAPES]
    coef = [rng.uniform(0.5, 2.0, size=s) for s in SHAPES]
    target = [rng.normal(size=s) for s in SHAPES]
    return inits, coef, target


def grad_np(ws, coef, target):
    """d/dw of sum(0.5*c*(w - t)**2 + 0.3*sin(w))."""
    return [c * (w - t) + 0.3 * np.cos(w) for w, c, t in zip(ws, coef, target)]


def loss_of(mod, ws, coef, target):
    total = 0
    for w, c, t in zip(ws, coef, target):
        c, t = mod.tensor(c, dtype=w.dtype), mod.tensor(t, dtype=w.dtype)
        total = total + (0.5 * c * (w - t) ** 2).sum() + (0.3 * mod.sin(w)).sum()
    return total


def run_ember(cls, kwargs, steps=STEPS, dtype=ember.float64, seed=0, param_factory=None):
    inits, coef, target = _problem(seed)
    make = param_factory or (lambda a: ember.tensor(a, dtype=dtype, requires_grad=True))
    ws = [make(a) for a in inits]
    opt = cls(ws, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(ember, ws, coef, target).backward()
        opt.step()
    return [w.detach().numpy().copy() for w in ws], opt


def run_torch(name, kwargs, steps=STEPS, dtype="float64", seed=0):
    torch = pytest.importorskip("torch")
    inits, coef, target = _problem(seed)
    ws = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in inits]
    opt = getattr(torch.optim, name)(ws, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(torch, ws, coef, target).backward()
        opt.step()
    return [w.detach().numpy().copy() for w in ws]


# ---------------------------------------------------------------- numpy references
def _f32(x):
    return float(np.float32(x))


def ref(name, kw, steps=STEPS, seed=0):
    inits, coef, target = _problem(seed)
    ws = [a.copy() for a in inits]
    st = [dict() for _ in ws]
    for t in range(1, steps + 1):
        gs = grad_np(ws, coef, target)
        for i, (w, g) in enumerate(zip(ws, gs)):
            ws[i] = UPDATES[name](w, -g if kw.get("maximize") else g, st[i], t, kw)
    return ws


def _sgd(w, g, s, t, kw):
    lr, mom, damp = kw.get("lr", 1e-3), kw.get("momentum", 0), kw.get("dampening", 0)
    g = g + kw.get("weight_decay", 0) * w
    if mom:
        s["buf"] = g.copy() if t == 1 else mom * s["buf"] + (1 - damp) * g
        g = g + mom * s["buf"] if kw.get("nesterov") else s["buf"]
    return w - lr * g


def _adam(w, g, s, t, kw, decoupled=False):
    lr, (b1, b2), eps = kw.get("lr", 1e-3), kw.get("betas", (0.9, 0.999)), kw.get("eps", 1e-8)
    wd = kw.get("weight_decay", 1e-2 if decoupled else 0)
    if decoupled:
        w = w * (1 - lr * wd)
    else:
        g = g + wd * w
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    v = s["v"]
    if kw.get("amsgrad"):
        s["vmax"] = np.maximum(s.get("vmax", 0), v)
        v = s["vmax"]
    m_hat = s["m"] / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


def _adamax(w, g, s, t, kw):
    lr, (b1, b2), eps = kw.get("lr", 2e-3), kw.get("betas", (0.9, 0.999)), kw.get("eps", 1e-8)
    g = g + kw.get("weight_decay", 0) * w
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
    return w - lr / (1 - b1 ** t) * s["m"] / s["u"]


def _adagrad(w, g, s, t, kw):
    lr, eps = kw.get("lr", 1e-2), kw.get("eps", 1e-10)
    g = g + kw.get("weight_decay", 0) * w
    clr = lr / (1 + (t - 1) * kw.get("lr_decay", 0))
    s["sum"] = s.get("sum", kw.get("initial_accumulator_value", 0)) + g * g
    return w - clr * g / (np.sqrt(s["sum"]) + eps)


def _adadelta(w, g, s, t, kw):
    lr, rho, eps = kw.get("lr", 1.0), kw.get("rho", 0.9), kw.get("eps", 1e-6)
    g = g + kw.get("weight_decay", 0) * w
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * delta * delta
    return w - lr * delta


def _asgd(w, g, s, t, kw):
    # eta and mu are float32 0-d state, as in PyTorch: round them like it does
    lr, lambd = kw.get("lr", 1e-2), kw.get("lambd", 1e-4)
    alpha, t0 = kw.get("alpha", 0.75), kw.get("t0", 1e6)
    g = g + kw.get("weight_decay", 0) * w
    eta, mu = s.get("eta", _f32(lr)), s.get("mu", 1.0)
    w = w * (1 - lambd * eta) - eta * g
    s["ax"] = w.copy() if mu == 1 else s["ax"] + mu * (w - s["ax"])
    s["eta"] = _f32(lr / (1 + lambd * lr * t) ** alpha)
    s["mu"] = _f32(1 / max(1, t - t0))
    return w


def _rmsprop(w, g, s, t, kw):
    lr, alpha, eps = kw.get("lr", 1e-2), kw.get("alpha", 0.99), kw.get("eps", 1e-8)
    mom = kw.get("momentum", 0)
    g = g + kw.get("weight_decay", 0) * w
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
    if kw.get("centered"):
        s["ga"] = alpha * s.get("ga", 0) + (1 - alpha) * g
        avg = np.sqrt(s["v"] - s["ga"] ** 2) + eps
    else:
        avg = np.sqrt(s["v"]) + eps
    if mom > 0:
        s["buf"] = mom * s.get("buf", 0) + g / avg
        return w - lr * s["buf"]
    return w - lr * g / avg


def _rprop(w, g, s, t, kw):
    lr = kw.get("lr", 1e-2)
    em, ep = kw.get("etas", (0.5, 1.2))
    lo, hi = kw.get("step_sizes", (1e-6, 50))
    prev = s.get("prev", np.zeros_like(w))
    size = s.get("size", np.full_like(w, lr))
    prod = g * prev
    size = np.clip(size * np.where(prod > 0, ep, np.where(prod < 0, em, 1.0)), lo, hi)
    g = np.where(prod < 0, 0.0, g)
    s["prev"], s["size"] = g, size
    return w - np.sign(g) * size


UPDATES = {"SGD": _sgd, "Adam": _adam, "AdamW": lambda *a: _adam(*a, decoupled=True),
           "Adamax": _adamax, "Adagrad": _adagrad, "Adadelta": _adadelta, "ASGD": _asgd,
           "RMSprop": _rmsprop, "Rprop": _rprop}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.1, maximize=True)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, weight_decay=0.3, amsgrad=True)),
    ("Adamax", dict(lr=0.1)),
    ("Adamax", dict(lr=0.1, weight_decay=0.1, betas=(0.7, 0.9), maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1, lambd=0.01, alpha=0.5, t0=2, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, alpha=0.9)),
    ("Rprop", dict(lr=0.1)),
    ("Rprop", dict(lr=0.3, etas=(0.3, 1.5), step_sizes=(1e-3, 0.5), maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_trajectory_vs_numpy(name, kw):
    got, _ = run_ember(getattr(optim, name), kw)
    want = ref(name, kw)
    for g, w, a in zip(got, want, _problem()[0]):
        assert not np.allclose(w, a)  # the reference moved: the comparison means something
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_trajectory_vs_torch(name, kw):
    want = run_torch(name, kw)
    got, _ = run_ember(getattr(optim, name), kw)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.05, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
                                     ("ASGD", dict(lr=0.05, t0=3))])
def test_float32_trajectory_vs_torch(name, kw):
    want = run_torch(name, kw, dtype="float32")
    got, _ = run_ember(getattr(optim, name), kw, dtype=ember.float32)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


def test_parameters_are_accepted():
    nn = pytest.importorskip("ember.nn.parameter")
    got, _ = run_ember(optim.Adam, dict(lr=0.1),
                       param_factory=lambda a: nn.Parameter(ember.tensor(a, dtype=ember.float64)))
    for g, w in zip(got, ref("Adam", dict(lr=0.1))):
        np.testing.assert_allclose(g, w, rtol=1e-10)


def test_per_group_options():
    inits, coef, target = _problem()
    ws = [ember.tensor(a, requires_grad=True, dtype=ember.float64) for a in inits]
    opt = optim.SGD([{"params": [ws[0]], "lr": 0.2, "momentum": 0.5}, {"params": ws[1]}], lr=0.1)
    for _ in range(4):
        opt.zero_grad()
        loss_of(ember, ws, coef, target).backward()
        opt.step()
    w0 = ref("SGD", dict(lr=0.2, momentum=0.5), steps=4)[0]
    w1 = ref("SGD", dict(lr=0.1), steps=4)[1]
    np.testing.assert_allclose(ws[0].detach().numpy(), w0, rtol=1e-12)
    np.testing.assert_allclose(ws[1].detach().numpy(), w1, rtol=1e-12)


def test_params_without_grad_are_skipped():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.tolist() == [3.0] and b not in opt.state and a in opt.state
