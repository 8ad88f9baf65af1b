"""Spec entries for the activation functions of ``ember.nn.functional`` (composites like
the rest; the compile tests reuse them). Losses, pooling and normalisation are tested
by the nn suite."""
from __future__ import annotations

import math

import numpy as np

from .spec import FLOATS, unary

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softplus(x):
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def _logsigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _act(name, ref, low=-3.0, high=3.0, avoid=(), extra=(), **kw):
    def op(m, x, _n=name, _kw=tuple(kw.pop("call_kw", {}).items())):
        return getattr(m.nn.functional, _n)(x, **dict(_kw))
    # no infinities: torch itself gives nan for gelu(inf) in float32 and hardswish(-inf)
    special = ([np.nan, 0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0],)
    return unary(f"nn.{name}" + kw.pop("suffix", ""), op, ref, low=low, high=high, avoid=avoid,
                 extra=tuple(extra) + special, dtypes=FLOATS, out_dtype="same", **kw)


_BIG = ([-60.0, -25.0, 0.0, 25.0, 60.0],)

SPECS = [
    _act("relu", lambda x: np.where(x <= 0, 0.0, x), avoid=(0.0,)),
    _act("sigmoid", lambda x: 0.5 * (1 + np.tanh(0.5 * x)), extra=_BIG),
    _act("tanh", np.tanh),
    _act("gelu", lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    _act("gelu", lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                  * (x + 0.044715 * x ** 3))),
         call_kw={"approximate": "tanh"}, suffix="_tanh"),
    _act("silu", lambda x: x * 0.5 * (1 + np.tanh(0.5 * x)), extra=_BIG),
    _act("softplus", _softplus, -30, 30, avoid=(20.0,), extra=_BIG),
    _act("elu", lambda x: np.where(x > 0, x, np.expm1(x)), avoid=(0.0,)),
    _act("selu", lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
         avoid=(0.0,)),
    _act("leaky_relu", lambda x: np.where(x > 0, x, 0.01 * x), avoid=(0.0,)),
    _act("logsigmoid", _logsigmoid, -30, 30, extra=_BIG),
    _act("hardtanh", lambda x: np.clip(x, -1, 1), avoid=(-1.0, 1.0)),
    _act("relu6", lambda x: np.clip(x, 0, 6), -2, 8, avoid=(0.0, 6.0)),
    # torch's hardsigmoid backward multiplies by 1.0f / 6.0f, a float32 constant, even in
    # float64: its gradients are off by ~3e-8 relative (ember's agree with finite differences)
    _act("hardsigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1), -5, 5, avoid=(-3.0, 3.0),
         torch_grad_tol=(1e-7, 1e-12)),
    _act("hardswish", lambda x: x * np.clip(x / 6 + 0.5, 0, 1), -5, 5, avoid=(-3.0, 3.0)),
    _act("mish", lambda x: x * np.tanh(_softplus(x)), extra=_BIG),
    _act("softsign", lambda x: x / (1 + np.abs(x)), avoid=(0.0,)),
    _act("tanhshrink", lambda x: x - np.tanh(x)),
]
