"""Normalisation layers as composites: batch, layer, group, instance norm.

Running-statistic updates are in-place ember ops under ``no_grad`` (no host reads), and
``momentum`` may be a 0-d tensor (BatchNorm's cumulative average passes
``1 / num_batches_tracked``), so a traced training step keeps them on the device.
"""
from __future__ import annotations

import math

from ...frontend.autograd.grad_mode import no_grad
from ._util import check_float


def _moments(x, axes):
    mean = x.mean(axes, keepdim=True)
    d = x - mean
    return mean, d, (d * d).mean(axes, keepdim=True)


def _update(buf, value, momentum):
    """buf <- buf + (value - buf) * momentum, in place."""
    with no_grad():
        buf.copy_(buf + (value.to(buf.dtype) - buf) * momentum)


def _normalize_with(input, mean, var, shape, eps):
    """Normalise with given (running) per-channel statistics."""
    return (input - mean.reshape(shape)) * (var.reshape(shape) + eps).rsqrt()


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    check_float(input, "batch_norm")
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected input of at least 2 dims (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements (input channels "
                               f"of shape {tuple(input.shape)}), not {t.numel()}")
    axes = (0,) + tuple(range(2, input.dim()))
    shape = (1, c) + (1,) * (input.dim() - 2)
    if training or running_mean is None or running_var is None:
        n = input.numel() // c
        if training and n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(input.shape)}")
        mean, d, var = _moments(input, axes)
        out = d * (var + eps).rsqrt()
        if training and running_mean is not None:
            _update(running_mean, mean.detach().reshape(c), momentum)
        if training and running_var is not None:
            unbiased = var.detach().reshape(c) * (n / max(n - 1, 1))
            _update(running_var, unbiased, momentum)
    else:
        out = _normalize_with(input, running_mean, running_var, shape, eps)
    return _affine(out, weight, bias, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    check_float(input, "instance_norm")
    if input.dim() < 3:
        raise ValueError(f"instance_norm: expected input of at least 3 dims (N, C, *), got "
                         f"shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    shape = (1, c) + (1,) * (input.dim() - 2)
    axes = tuple(range(2, input.dim()))
    if use_input_stats:
        mean, d, var = _moments(input, axes)
        out = d * (var + eps).rsqrt()
        if running_mean is not None:
            _update(running_mean, mean.detach().reshape(n, c).mean(0), momentum)
        if running_var is not None:
            m = math.prod(input.shape[2:])
            _update(running_var, var.detach().reshape(n, c).mean(0) * (m / max(m - 1, 1)),
                    momentum)
    else:
        out = _normalize_with(input, running_mean, running_var, shape, eps)
    return _affine(out, weight, bias, shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    check_float(input, "layer_norm")
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if k == 0 or input.dim() < k or tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"layer_norm: normalized_shape {list(ns)} does not match the "
                           f"trailing dims of input of shape {tuple(input.shape)} (expected "
                           f"input[*, {', '.join(map(str, ns))}])")
    axes = tuple(range(input.dim() - k, input.dim()))
    _, d, var = _moments(input, axes)
    out = d * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    check_float(input, "group_norm")
    if input.dim() < 2:
        raise RuntimeError(f"group_norm: expected input of at least 2 dims (N, C, *), got shape "
                           f"{tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"group_norm: expected number of channels in input ({c}) to be "
                           f"divisible by num_groups ({num_groups}), input shape "
                           f"{tuple(input.shape)}")
    x = input.reshape(n, num_groups, -1)
    _, d, var = _moments(x, (2,))
    out = (d * (var + eps).rsqrt()).reshape(tuple(input.shape))
    return _affine(out, weight, bias, (1, c) + (1,) * (input.dim() - 2))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    check_float(input, "rms_norm")
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"rms_norm: normalized_shape {list(ns)} does not match input of "
                           f"shape {tuple(input.shape)}")
    if eps is None:
        import numpy as np
        eps = float(np.finfo(input.dtype.np).eps)
    axes = tuple(range(input.dim() - k, input.dim()))
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha/size * sum of squares over ``size`` neighbouring channels) ** beta."""
    from .conv import pad_widths
    from ...ops import lax as L
    if input.dim() < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher input, got shape "
                         f"{tuple(input.shape)}")
    sq = (input * input).movedim(1, -1)
    pads = ((0, 0),) * (sq.dim() - 1) + ((size // 2, (size - 1) // 2),)
    win = L.window(pad_widths(sq, pads, 0.0), (size,), (1,), (1,))
    div = (win.sum(-1) / size).movedim(-1, 1)
    return input / (div * alpha + k).pow(beta)
