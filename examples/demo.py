"""The Quickstart demo: train a small model eagerly, compile the same training step with
`ember.compile`, and print eager vs compiled step time and the two loss curves side by
side (they agree: the compiled step is the same computation, as one fused graph).

Data: points inside or outside a disc (made here, nothing downloaded).
"""
import time

import ember as torch
from ember import nn, optim


def disc(n, generator):
    """Points in the square [-1, 1]^2, labelled 1 inside the disc of radius 0.65."""
    x = torch.rand(n, 2, generator=generator) * 2 - 1
    label = ((x * x).sum(dim=1) < 0.65 ** 2).long()
    return x, label


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                         nn.Linear(64, 2))


def train_step_fn(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def run(step, x, y, steps):
    losses, times = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = step(x, y)
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    return losses, times


def main(steps=150, batch=512, every=15):
    x, y = disc(batch, torch.Generator().manual_seed(0))
    loss_fn = nn.CrossEntropyLoss()
    curves = {}
    for mode in ("eager", "compiled"):
        model = make_model(seed=1)                 # identical initial weights for both
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        step = train_step_fn(model, opt, loss_fn)
        if mode == "compiled":
            step = torch.compile(step)
        curves[mode] = run(step, x, y, steps)
    (le, te), (lc, tc) = curves["eager"], curves["compiled"]
    print(f"{'step':>5}  {'eager loss':>11}  {'compiled loss':>13}")
    for k in range(0, steps, every):
        print(f"{k:5d}  {le[k]:11.5f}  {lc[k]:13.5f}")
    print(f"{steps - 1:5d}  {le[-1]:11.5f}  {lc[-1]:13.5f}")
    med = lambda ts: sorted(ts[2:])[len(ts[2:]) // 2] * 1e3  # noqa: E731  (skip warm-up/trace)
    print(f"median step time: eager {med(te):.3f} ms, compiled {med(tc):.3f} ms "
          f"({med(te) / med(tc):.2f}x)")
    agree = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(le, lc))
    print(f"loss curves agree to a relative {agree:.1e}; loss fell from {le[0]:.3f} to "
          f"{le[-1]:.3f}")
    return le, lc


if __name__ == "__main__":
    main()
