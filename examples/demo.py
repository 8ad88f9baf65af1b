"""The Quickstart demo: build a tiny model eagerly, train it a few steps with autograd,
and print the loss falling.

Data: points inside or outside a disc (made here, nothing downloaded). Model: a 2-32-32-2 MLP
written with plain tensors and `ember` ops; gradients come from `loss.backward()`.
"""
import math

import ember as torch


def disc(n, generator):
    """Points in the square [-1, 1]^2, labelled 1 inside the disc of radius 0.65."""
    x = torch.rand(n, 2, generator=generator) * 2 - 1
    label = ((x * x).sum(dim=1) < 0.65 ** 2).long()
    return x, label


def init(fan_in, fan_out, g):
    bound = 1 / math.sqrt(fan_in)
    w = (torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound
    return w.requires_grad_(), torch.zeros(fan_out, requires_grad=True)


def main(steps=300, lr=0.7):
    g = torch.Generator().manual_seed(0)
    x, y = disc(512, g)
    params = [*init(2, 32, g), *init(32, 32, g), *init(32, 2, g)]

    def forward(inp):
        w1, b1, w2, b2, w3, b3 = params
        h = torch.tanh(inp @ w1 + b1)
        h = torch.tanh(h @ w2 + b2)
        return h @ w3 + b3

    for step in range(steps + 1):
        logits = forward(x)
        logp = torch.log_softmax(logits, dim=1)
        loss = -logp.gather(1, y.unsqueeze(1)).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        if step % 30 == 0:
            acc = (logits.argmax(dim=1) == y).float().mean()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc.item():.3f}")
    return loss.item()


if __name__ == "__main__":
    main()
