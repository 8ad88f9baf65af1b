"""Eager training-step throughput: the MLP (784-256-10, cross-entropy, SGD lr 0.01 momentum
0.9, zero_grad included) at batch 32/128/2048 and the small CNN at (64, 1, 28, 28), for
ember eager, PyTorch eager (when installed, same thread count) and, for the MLP, a
hand-written numpy step (preallocated buffers, BLAS matmuls) as the physical reference:
no framework can do the same float32 arithmetic in much less time than that."""
from __future__ import annotations

import os

import numpy as np

from .harness import measure, table, try_import_torch

LR, MOMENTUM = 0.01, 0.9
MLP_BATCHES = (32, 128, 2048)
CNN_BATCH = 64


class NumpyMLP:
    """One SGD-momentum step of Linear(784,256)-ReLU-Linear(256,10) + cross-entropy,
    written out by hand with every buffer allocated once."""

    def __init__(self, params, batch):
        # params: (w1 (256,784), b1, w2 (10,256), b2) in nn.Linear's layout.
        w1, b1, w2, b2 = (np.array(p, dtype=np.float32) for p in params)
        self.params = [w1.T.copy(), b1, w2.T.copy(), b2]  # (in, out): x @ w
        self.vel = [np.zeros_like(p) for p in self.params]
        self.grads = [np.empty_like(p) for p in self.params]
        self.first = True
        self.h = np.empty((batch, w1.shape[0]), np.float32)
        self.dh = np.empty_like(self.h)
        self.z = np.empty((batch, w2.shape[0]), np.float32)
        self.rows = np.arange(batch)

    def step(self, x, y):
        w1, b1, w2, b2 = self.params
        gw1, gb1, gw2, gb2 = self.grads
        h, z, dh = self.h, self.z, self.dh
        np.matmul(x, w1, out=h)
        h += b1
        np.maximum(h, 0, out=h)
        np.matmul(h, w2, out=z)
        z += b2
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)          # z is now softmax probabilities
        loss = -np.log(z[self.rows, y]).mean()
        z[self.rows, y] -= 1
        z /= len(y)                                 # d loss / d logits
        np.matmul(h.T, z, out=gw2)
        z.sum(axis=0, out=gb2)
        np.matmul(z, w2.T, out=dh)
        dh *= h > 0
        np.matmul(x.T, dh, out=gw1)
        dh.sum(axis=0, out=gb1)
        for p, g, v in zip(self.params, self.grads, self.vel):
            if self.first:                          # PyTorch: the first buffer is the grad
                v[...] = g
            else:
                v *= MOMENTUM
                v += g
            g *= 0                                  # reuse g as scratch for lr * v
            g += v
            g *= LR
            p -= g
        self.first = False
        return loss


def mlp_def(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn_def(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def make_step(lib, model):
    """The training step ``step(x, y)`` exactly as a tutorial writes it, for ember or
    torch (the compiled benchmark compiles this same function)."""
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _bind(step, x, y):
    return lambda: step(x, y)


def copy_weights(lib, model, arrays):
    """Load numpy arrays into ``model`` so every system starts from the same point."""
    with lib.no_grad():
        for p, a in zip(model.parameters(), arrays):
            p.copy_(lib.tensor(a))


def check_agreement(workload, systems):
    """The systems start from the same weights, so their first three losses must agree:
    the timings then compare the same computation (this also runs them in)."""
    losses = {name: [fn().item() for _ in range(3)] for name, fn in systems.items()}
    base_name, base = next(iter(losses.items()))
    for name, ls in losses.items():
        if not np.allclose(ls, base, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"train_eager: {workload}: {name} losses {ls} differ from "
                                 f"{base_name}'s {base}; the comparison would be unfair")


def systems_for(ember, torch, model_def, x, y, numpy_ref=None):
    """{system: step} for one workload, every model holding the same initial weights."""
    model = model_def(ember.nn)
    weights = [p.detach().numpy().copy() for p in model.parameters()]
    systems = {"ember eager": _bind(make_step(ember, model), ember.tensor(x), ember.tensor(y))}
    if torch is not None:
        tmodel = model_def(torch.nn)
        copy_weights(torch, tmodel, weights)
        systems["torch eager"] = _bind(make_step(torch, tmodel), torch.tensor(x),
                                       torch.tensor(y))
    if numpy_ref is not None:
        ref = numpy_ref(weights, len(y))
        systems["numpy (hand-written)"] = lambda: ref.step(x, y)
    return systems


def run():
    import ember
    torch = try_import_torch()
    rng = np.random.default_rng(0)
    rows = {}
    for batch in MLP_BATCHES:
        x = rng.standard_normal((batch, 784)).astype(np.float32)
        y = rng.integers(0, 10, batch)
        name = f"MLP 784-256-10, batch {batch}"
        systems = systems_for(ember, torch, mlp_def, x, y, NumpyMLP)
        check_agreement(name, systems)
        inner = {32: 20, 128: 5}.get(batch, 1)  # keep each timed sample >~ 20 ms
        rows[name] = measure(systems, rounds=15, warmup=2, inner=inner)

    x = rng.standard_normal((CNN_BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, CNN_BATCH)
    name = f"small CNN, batch {CNN_BATCH}"
    systems = systems_for(ember, torch, cnn_def, x, y)
    check_agreement(name, systems)
    rows[name] = measure(systems, rounds=11, warmup=1)

    ref = "torch eager" if torch is not None else "numpy (hand-written)"
    table("eager training step (zero_grad + forward + loss + backward + SGD momentum)",
          rows, unit="ms/step", scale=1e3, ref=ref)
    per_sample = {w: {s: int(w.rsplit(" ", 1)[1]) / t for s, t in r.items()}
                  for w, r in rows.items()}
    table("the same as throughput", per_sample, unit="samples/s", scale=1)
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "all cores")
    print(f"\nthreads: numpy BLAS (ember, numpy) {blas}; torch "
          f"{torch.get_num_threads() if torch is not None else '-'}")
    return rows


if __name__ == "__main__":
    run()
