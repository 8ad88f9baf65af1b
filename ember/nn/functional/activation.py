"""Activation functions as composites over elementwise primitives.

Branches use ``where``; every branch is kept finite on the inputs where it is *not*
selected (e.g. softplus uses the |x| form), so the masked-out branch never sends a NaN
into the gradient.
"""
from __future__ import annotations

import math

from ...frontend.functional import math as M
from ...frontend.functional import reduce as R
from ._util import check_float, check_tensor


def _inplace(input, out):
    """Write ``out`` into ``input`` (the ``inplace=True`` forms) and return input."""
    return input.copy_(out)


def relu(input, inplace=False):
    check_tensor(input, "relu")
    out = M.relu(input)
    return _inplace(input, out) if inplace else out


def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, inplace=True)


def threshold(input, threshold, value, inplace=False):
    out = M.where(M.gt(input, threshold), input, value)
    return _inplace(input, out) if inplace else out


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp to [min_val, max_val]; the gradient is 0 at and beyond the limits (PyTorch)."""
    check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    out = M.where(M.le(input, min_val), min_val, M.where(M.ge(input, max_val), max_val, input))
    return _inplace(input, out) if inplace else out


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    check_tensor(input, "leaky_relu")
    out = M.where(M.gt(input, 0), input, M.mul(input, negative_slope))
    return _inplace(input, out) if inplace else out


def elu(input, alpha=1.0, inplace=False):
    check_float(input, "elu")
    pos = M.gt(input, 0)
    # where (not minimum): minimum splits the gradient at the tie x == 0
    neg = M.mul(M.expm1(M.where(pos, 0.0, input)), alpha)
    out = M.where(pos, input, neg)
    return _inplace(input, out) if inplace else out


def selu(input, inplace=False):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    out = M.mul(elu(input, alpha), scale)
    return _inplace(input, out) if inplace else out


def celu(input, alpha=1.0, inplace=False):
    pos = M.gt(input, 0)
    neg = M.mul(M.expm1(M.div(M.where(pos, 0.0, input), alpha)), alpha)
    out = M.where(pos, input, neg)
    return _inplace(input, out) if inplace else out


def gelu(input, approximate="none"):
    """Exact ``x * Phi(x)`` via erf, or the tanh approximation with ``approximate='tanh'``."""
    check_float(input, "gelu")
    if approximate == "none":
        return M.mul(M.mul(input, 0.5), M.add(M.erf(M.mul(input, 1.0 / math.sqrt(2.0))), 1.0))
    if approximate == "tanh":
        inner = M.mul(M.add(input, M.mul(M.mul(M.mul(input, input), input), 0.044715)),
                      math.sqrt(2.0 / math.pi))
        return M.mul(M.mul(input, 0.5), M.add(M.tanh(inner), 1.0))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input):
    return M.sigmoid(input)


def tanh(input):
    return M.tanh(input)


def silu(input, inplace=False):
    check_float(input, "silu")
    out = M.mul(input, M.sigmoid(input))
    return _inplace(input, out) if inplace else out


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    check_float(input, "softplus")
    z = M.mul(input, beta) if beta != 1 else input
    # z + log1p(exp(-z)) for z > 0, log1p(exp(z)) otherwise; each branch only sees inputs
    # of its own sign, so neither overflows and the gradient at z == 0 is exactly 1/2
    pos = M.gt(z, 0)
    zp, zn = M.where(pos, z, 0.0), M.where(pos, 0.0, z)
    sp = M.where(pos, M.add(zp, M.log1p(M.exp(M.neg(zp)))), M.log1p(M.exp(zn)))
    if beta != 1:
        sp = M.div(sp, beta)
    return M.where(M.gt(z, threshold), input, sp)


def mish(input, inplace=False):
    out = M.mul(input, M.tanh(softplus(input)))
    return _inplace(input, out) if inplace else out


def logsigmoid(input):
    # min(x, 0) - log1p(exp(-|x|)): exact for all x (softplus's threshold would drop the
    # log1p term, ~1e-10 absolute, for x < -20); the gradient at 0 is 0.5 either way
    return M.sub(M.minimum(input, 0.0), M.log1p(M.exp(M.neg(M.abs(input)))))


def softsign(input):
    return M.div(input, M.add(M.abs(input), 1.0))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; gradient 1/6 strictly inside (-3, 3) (PyTorch)."""
    out = M.div(hardtanh(M.add(input, 3.0), 0.0, 6.0), 6.0)
    return _inplace(input, out) if inplace else out


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6, with PyTorch's gradient: 0 for x <= -3, 1 for x >= 3."""
    mid = M.mul(input, M.div(M.add(input, 3.0), 6.0))
    out = M.where(M.le(input, -3.0), 0.0, M.where(M.ge(input, 3.0), input, mid))
    return _inplace(input, out) if inplace else out


def tanhshrink(input):
    return M.sub(input, M.tanh(input))


def softshrink(input, lambd=0.5):
    return M.where(M.gt(input, lambd), M.sub(input, lambd),
                   M.where(M.lt(input, -lambd), M.add(input, lambd), 0.0))


def hardshrink(input, lambd=0.5):
    return M.where(M.gt(M.abs(input), lambd), input, 0.0)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x); weight has 1 or C (= input.shape[1]) elements."""
    check_tensor(input, "prelu")
    n = weight.numel()
    if n != 1:
        if input.dim() < 2 or input.shape[1] != n:
            raise RuntimeError(f"prelu: weight has {n} parameters but input of shape "
                               f"{tuple(input.shape)} has "
                               f"{input.shape[1] if input.dim() >= 2 else 1} channels (dim 1)")
        weight = weight.reshape((n,) + (1,) * (input.dim() - 2))
    else:
        weight = weight.reshape(())
    return M.where(M.gt(input, 0), input, M.mul(weight, input))


def glu(input, dim=-1):
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} of input "
                           f"{tuple(input.shape)} is size {n}")
    a, b = input.chunk(2, dim)
    return M.mul(a, M.sigmoid(b))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    check_tensor(input, "softmax")
    return R.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    check_tensor(input, "log_softmax")
    return R.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return R.softmax(M.neg(input), dim, dtype)
