"""Hand-written numpy versions of the compiled-benchmark workloads: every buffer allocated
once, ``out=`` wherever numpy allows it. This is what a careful engineer writes without a
framework, so it is the floor a compiler has to beat with the same float32 arithmetic.

Each class takes the workload's numpy inputs in its constructor (weight re-layouts happen
there, once) and exposes ``step()`` returning its result (the MLP step is
bench.train_eager.NumpyMLP). tests/test_bench_smoke.py checks each against ember eager.
"""
from __future__ import annotations

import numpy as np

GELU_K = np.float32(np.sqrt(2.0 / np.pi))
GELU_C = np.float32(0.044715)


class Chain:
    """relu(x*1.5+0.5)*sigmoid(x)-tanh(x)/2."""

    def __init__(self, x):
        self.x = x
        self.a, self.b, self.y = (np.empty_like(x) for _ in range(3))

    def step(self):
        x, a, b, y = self.x, self.a, self.b, self.y
        np.multiply(x, np.float32(1.5), out=a)
        a += np.float32(0.5)
        np.maximum(a, np.float32(0), out=a)
        np.negative(x, out=b)                   # sigmoid(x) = 1 / (1 + exp(-x))
        np.exp(b, out=b)
        b += np.float32(1)
        np.divide(a, b, out=a)
        np.tanh(x, out=y)
        y *= np.float32(-0.5)
        y += a
        return y


class Softmax:
    def __init__(self, x):
        self.x = x
        self.y = np.empty_like(x)
        self.r = np.empty((x.shape[0], 1), x.dtype)

    def step(self):
        x, y, r = self.x, self.y, self.r
        np.max(x, axis=1, keepdims=True, out=r)
        np.subtract(x, r, out=y)
        np.exp(y, out=y)
        np.sum(y, axis=1, keepdims=True, out=r)
        y /= r
        return y


class LayerNorm:
    def __init__(self, x, w, b, eps=1e-5):
        self.x, self.w, self.b, self.eps = x, w, b, np.float32(eps)
        self.y, self.d = np.empty_like(x), np.empty_like(x)
        self.r = np.empty((x.shape[0], 1), x.dtype)

    def step(self):
        x, y, d, r = self.x, self.y, self.d, self.r
        inv_n = np.float32(1.0 / x.shape[1])
        np.sum(x, axis=1, keepdims=True, out=r)
        r *= inv_n
        np.subtract(x, r, out=d)
        np.multiply(d, d, out=y)
        np.sum(y, axis=1, keepdims=True, out=r)
        r *= inv_n
        r += self.eps
        np.sqrt(r, out=r)
        np.divide(d, r, out=y)
        y *= self.w
        y += self.b
        return y


class Gelu:
    """GELU (tanh): 0.5 x (1 + tanh(k (x + c x^3)))."""

    def __init__(self, x):
        self.x = x
        self.t, self.y = np.empty_like(x), np.empty_like(x)

    def _tanh_arg(self, out):
        x = self.x
        np.multiply(x, x, out=out)
        out *= GELU_C
        out += np.float32(1)
        out *= x
        out *= GELU_K
        return out

    def step(self):
        t, y = self.t, self.y
        np.tanh(self._tanh_arg(t), out=t)
        t += np.float32(1)
        np.multiply(self.x, t, out=y)
        y *= np.float32(0.5)
        return y


class GeluBackward(Gelu):
    """Forward and the gradient for an upstream gradient g:
    dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k (x + c x^3))."""

    def __init__(self, x, g):
        super().__init__(x)
        self.g = g
        self.u, self.gx = np.empty_like(x), np.empty_like(x)

    def step(self):
        x, t, y, u, gx = self.x, self.t, self.y, self.u, self.gx
        np.tanh(self._tanh_arg(t), out=t)
        np.add(t, np.float32(1), out=y)
        y *= x
        y *= np.float32(0.5)                    # the forward result
        np.multiply(t, t, out=u)
        np.subtract(np.float32(1), u, out=u)     # 1 - t^2
        u *= x
        np.multiply(x, x, out=gx)
        gx *= np.float32(3) * GELU_C
        gx += np.float32(1)
        gx *= GELU_K
        u *= gx                                 # x (1 - t^2) k (1 + 3 c x^2)
        u += t
        u += np.float32(1)
        u *= np.float32(0.5)
        np.multiply(u, self.g, out=gx)
        return gx


class LinearRelu:
    """relu(x @ W.T + b) with one output buffer."""

    def __init__(self, x, w, b):
        self.x, self.wt, self.b = x, w.T, b     # a transposed view: BLAS takes the flag
        self.y = np.empty((x.shape[0], w.shape[0]), x.dtype)

    def step(self):
        y = self.y
        np.matmul(self.x, self.wt, out=y)
        y += self.b
        np.maximum(y, np.float32(0), out=y)
        return y


def linear_relu_expression(x, w, b):
    """The one-liner the issue's target is stated against."""
    return lambda: np.maximum(x @ w.T + b, 0)


class CNNInference:
    """Conv(1,16,3,p1)-ReLU-Pool2-Conv(16,32,3,p1)-ReLU-Pool2-Flatten-Linear(1568,10) as
    im2col + GEMM in NHWC layout. ``params`` are PyTorch's layouts (OIHW, (out, in))."""

    def __init__(self, x, params):
        w1, b1, w2, b2, w3, b3 = (np.ascontiguousarray(p, np.float32) for p in params)
        n, _, h, w = x.shape
        c1, c2 = w1.shape[0], w2.shape[0]
        self.x, self.n, self.h, self.w = x, n, h, w
        self.w1 = w1.reshape(c1, -1).T.copy()                      # (9, 16)
        self.w2 = w2.reshape(c2, -1).T.copy()                      # (16*9, 32), (c,kh,kw)
        # Flatten sees NCHW order; we hold NHWC, so permute the fc weights once.
        hw = w3.shape[1] // c2
        s = int(round(hw ** 0.5))
        self.w3 = w3.reshape(-1, c2, s, s).transpose(0, 2, 3, 1).reshape(w3.shape[0], -1).T.copy()
        self.b1, self.b2, self.b3 = b1, b2, b3
        self.p1 = np.zeros((n, h + 2, w + 2), np.float32)
        self.cols1 = np.empty((n, h, w, 3, 3), np.float32)
        self.a1 = np.empty((n * h * w, c1), np.float32)
        self.q1 = np.empty((n, h // 2, w // 2, c1), np.float32)
        self.p2 = np.zeros((n, h // 2 + 2, w // 2 + 2, c1), np.float32)
        self.cols2 = np.empty((n, h // 2, w // 2, c1, 3, 3), np.float32)
        self.a2 = np.empty((n * (h // 2) * (w // 2), c2), np.float32)
        self.q2 = np.empty((n, h // 4, w // 4, c2), np.float32)
        self.out = np.empty((n, w3.shape[0]), np.float32)

    @staticmethod
    def _pool(a, shape, out):
        n, h, w, c = shape
        np.max(a.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4), out=out)

    def step(self):
        n, h, w = self.n, self.h, self.w
        win = np.lib.stride_tricks.sliding_window_view
        self.p1[:, 1:-1, 1:-1] = self.x[:, 0]
        np.copyto(self.cols1, win(self.p1, (3, 3), axis=(1, 2)))
        np.matmul(self.cols1.reshape(n * h * w, 9), self.w1, out=self.a1)
        self.a1 += self.b1
        np.maximum(self.a1, np.float32(0), out=self.a1)
        self._pool(self.a1, (n, h, w, self.a1.shape[1]), self.q1)
        self.p2[:, 1:-1, 1:-1] = self.q1
        np.copyto(self.cols2, win(self.p2, (3, 3), axis=(1, 2)))
        np.matmul(self.cols2.reshape(self.a2.shape[0], -1), self.w2, out=self.a2)
        self.a2 += self.b2
        np.maximum(self.a2, np.float32(0), out=self.a2)
        self._pool(self.a2, (n, h // 2, w // 2, self.a2.shape[1]), self.q2)
        np.matmul(self.q2.reshape(n, -1), self.w3, out=self.out)
        self.out += self.b3
        return self.out


def _pool_backward(a, q, dq, mask, da):
    """Max-pool 2x2 backward: the gradient goes where the window's max was (ties only
    happen at relu's zeros, whose gradient the relu mask clears afterwards)."""
    n, h2, w2, c = q.shape
    a6, da6 = a.reshape(n, h2, 2, w2, 2, c), da.reshape(n, h2, 2, w2, 2, c)
    np.equal(a6, q[:, :, None, :, None, :], out=mask)
    np.multiply(mask, dq[:, :, None, :, None, :], out=da6)
    np.greater(a, np.float32(0), out=mask.reshape(a.shape))
    da *= mask.reshape(a.shape)


class CNNTrain(CNNInference):
    """One SGD-momentum step of the small CNN with cross-entropy: the forward above, then
    the backward written out (GEMMs for the weight and column gradients, col2im as nine
    shifted adds, pool/relu masks), every buffer allocated once."""

    def __init__(self, x, y, params):
        super().__init__(x, params)
        self.y, self.rows = y, np.arange(len(y))
        self.params = [self.w1, self.b1, self.w2, self.b2, self.w3, self.b3]
        self.grads = [np.empty_like(p) for p in self.params]
        self.vel = [np.zeros_like(p) for p in self.params]
        self.first = True
        self.dq2 = np.empty_like(self.q2)
        self.da2 = np.empty_like(self.a2)
        self.mask2 = np.empty(self.a2.shape, bool)
        self.dcols2 = np.empty_like(self.cols2)
        self.dp2 = np.empty_like(self.p2)
        self.da1 = np.empty_like(self.a1)
        self.mask1 = np.empty(self.a1.shape, bool)

    def step(self):
        n, h, w = self.n, self.h, self.w
        z = super().step()
        gw1, gb1, gw2, gb2, gw3, gb3 = self.grads
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        loss = -np.log(z[self.rows, self.y]).mean()
        z[self.rows, self.y] -= 1
        z /= n                                            # d loss / d logits
        flat = self.q2.reshape(n, -1)
        np.matmul(flat.T, z, out=gw3)
        z.sum(axis=0, out=gb3)
        np.matmul(z, self.w3.T, out=self.dq2.reshape(n, -1))
        a2 = self.a2.reshape(n, h // 2, w // 2, -1)
        _pool_backward(a2, self.q2, self.dq2, self.mask2.reshape(n, h // 4, 2, w // 4, 2, -1),
                       self.da2.reshape(a2.shape))
        np.matmul(self.cols2.reshape(self.a2.shape[0], -1).T, self.da2, out=gw2)
        self.da2.sum(axis=0, out=gb2)
        np.matmul(self.da2, self.w2.T, out=self.dcols2.reshape(self.a2.shape[0], -1))
        dp2 = self.dp2
        dp2.fill(0)
        h2, w2 = h // 2, w // 2
        for i in range(3):                                # col2im
            for j in range(3):
                dp2[:, i:i + h2, j:j + w2, :] += self.dcols2[..., i, j]
        a1 = self.a1.reshape(n, h, w, -1)
        _pool_backward(a1, self.q1, dp2[:, 1:-1, 1:-1, :],
                       self.mask1.reshape(n, h2, 2, w2, 2, -1), self.da1.reshape(a1.shape))
        np.matmul(self.cols1.reshape(n * h * w, 9).T, self.da1, out=gw1)
        self.da1.sum(axis=0, out=gb1)
        for p, g, v in zip(self.params, self.grads, self.vel):
            if self.first:                                # PyTorch: the first buffer is the grad
                v[...] = g
            else:
                v *= np.float32(0.9)
                v += g
            np.multiply(v, np.float32(0.01), out=g)
            p -= g
        self.first = False
        return np.float32(loss)
