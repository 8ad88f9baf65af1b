"""Dropout on the counter-based generator: masks are reproducible from the seed and are
drawn by the ``random_bits`` primitive, so dropout traces like any other op."""
from __future__ import annotations

import warnings

from ...frontend import random as R
from ._util import check_tensor


def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype, generator=None):
    """1/(1-p) where kept, 0 where dropped, in ``dtype``."""
    u = R.rand_like_shape(tuple(shape), dtype, generator)
    return (u >= p).to(dtype) / (1.0 - p)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    check_tensor(input, "dropout")
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    return _apply_mask(input, input.shape, p, inplace, generator)


def _apply_mask(input, mask_shape, p, inplace, generator):
    """``input`` times a keep mask of ``mask_shape`` (broadcast), in place if asked."""
    if p == 1.0:
        out = input * 0.0
    else:
        out = input * _keep_mask(mask_shape, p, input.dtype, generator)
    return input.copy_(out) if inplace else out


def _feature_dropout(input, p, training, inplace, nsp, name, generator=None):
    check_tensor(input, name)
    _check_p(p, name)
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{name}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D "
                           f"(batched) input, got shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    # per-channel mask broadcast over the spatial dims
    mshape = tuple(input.shape[:input.dim() - nsp]) + (1,) * nsp
    return _apply_mask(input, mshape, p, inplace, generator)


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
        return _feature_dropout(input, p, training, inplace, 1, "dropout2d")
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    check_tensor(input, "alpha_dropout")
    _check_p(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        out = input * 0.0
    else:
        alpha_p = -1.7580993408473766
        a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * p
        keep = (R.rand_like_shape(tuple(input.shape), input.dtype) >= p).to(input.dtype)
        out = (input * keep + (1 - keep) * alpha_p) * a + b
    return input.copy_(out) if inplace else out
