"""Small programs written with ``ember.ops.lax`` and traced into graphs, as the frontend's
composites will produce them (used by the IR/pass tests and the docs).

    g = trace(lambda x: softmax(x, 1), ("x", (4, 8), float32))

Each composite here mirrors the frontend's definition op for op (softmax subtracts a
stop-gradient row max with infinite maxima replaced by 0, relu is a ``where``, sigmoid is
``recip(1 + exp(-x))``, GELU uses ``erf``) so fusion and autodiff see realistic graphs.
"""
from __future__ import annotations

import math

from ..ops import current_interpreter, interpreter
from ..ops import lax as L
from .builder import GraphBuilder


def trace(fn, *inputs, name="f"):
    """Build a graph by running ``fn`` on IR inputs ``(name, shape, dtype)``; ``fn``
    returns a value, a tuple (outputs ``out0, out1 ...``) or a dict of named values."""
    b = GraphBuilder(name)
    xs = [b.input(n, s, d) for n, s, d in inputs]
    with interpreter(b):
        out = fn(*xs)
    if isinstance(out, dict):
        items = list(out.items())
    elif isinstance(out, (tuple, list)):
        items = [(f"out{k}", v) for k, v in enumerate(out)]
    else:
        items = [("out", out)]
    for k, v in items:
        b.output(k, v)
    return b.build()


def _scoped(fn_name):
    """Record the user-level op name on the nodes a composite builds (fusion names)."""
    def deco(f):
        def wrapper(*a, **k):
            b = current_interpreter()
            if isinstance(b, GraphBuilder):
                with b.scope(fn_name):
                    return f(*a, **k)
            return f(*a, **k)
        wrapper.__name__ = f.__name__
        return wrapper
    return deco


def c(x, v):
    return L.scalar_like(x, v)


@_scoped("relu")
def relu(x):
    return L.where(L.gt(x, c(x, 0)), x, c(x, 0))


@_scoped("sigmoid")
def sigmoid(x):
    return L.recip(L.add(L.exp(L.neg(x)), c(x, 1)))


@_scoped("gelu")
def gelu(x):
    return L.mul(L.mul(x, c(x, 0.5)), L.add(L.erf(L.mul(x, c(x, 1 / math.sqrt(2)))), c(x, 1)))


def _stable_max(x, axis):
    b = current_interpreter()
    m = L.reduce_max(x, (axis,), keepdim=True)
    if isinstance(b, GraphBuilder):
        m = b.stop_gradient(m)
    elif hasattr(m, "detach"):  # eager tensors: the frontend's composite detaches too
        m = m.detach()
    inf = L.eq(L.abs_(m), c(m, math.inf))
    return L.expand(L.where(inf, c(m, 0), m), L.shape_of(x))


@_scoped("softmax")
def softmax(x, axis=-1):
    axis %= len(x.shape)
    e = L.exp(L.sub(x, _stable_max(x, axis)))
    return L.div(e, L.expand(L.sum_(e, (axis,), keepdim=True), L.shape_of(x)))


@_scoped("log_softmax")
def log_softmax(x, axis=-1):
    axis %= len(x.shape)
    z = L.sub(x, _stable_max(x, axis))
    lse = L.log(L.sum_(L.exp(z), (axis,), keepdim=True))
    return L.sub(z, L.expand(lse, L.shape_of(x)))


@_scoped("nll_loss")
def nll_loss(logp, target):
    """Mean negative log-likelihood of int64 class indices ``target`` (N,)."""
    n = L.shape_of(logp)[0]
    picked = L.gather(logp, L.reshape(target, (n, 1)), 1)
    total = L.sum_(L.neg(picked), (0, 1))
    return L.div(total, c(total, n))


@_scoped("layer_norm")
def layer_norm(x, w, b, eps=1e-5):
    shape = L.shape_of(x)
    n = shape[-1]
    ax = (len(shape) - 1,)
    mean = L.div(L.sum_(x, ax, keepdim=True), L.full(L.keepdim_shape(shape, ax), n, L.dtype_of(x)))
    xc = L.sub(x, L.expand(mean, shape))
    var = L.div(L.sum_(L.mul(xc, xc), ax, keepdim=True), c(mean, n))
    rstd = L.recip(L.sqrt(L.add(var, c(var, eps))))
    y = L.mul(xc, L.expand(rstd, shape))
    return L.add(L.mul(y, L.expand(L.reshape(w, (1,) * (len(shape) - 1) + (n,)), shape)),
                 L.expand(L.reshape(b, (1,) * (len(shape) - 1) + (n,)), shape))


def chain(x):
    """relu(x * 1.5 + 0.5) * sigmoid(x) - tanh(x) / 2"""
    return L.sub(L.mul(relu(L.add(L.mul(x, c(x, 1.5)), c(x, 0.5))), sigmoid(x)),
                 L.div(L.tanh(x), c(x, 2)))


def linear(x, w, b):
    """x @ w.T + b, with the bias broadcast as dispatch does."""
    y = L.matmul(x, L.permute(w, (1, 0)))
    return L.add(y, L.expand(L.reshape(b, (1, L.shape_of(b)[0])), L.shape_of(y)))
