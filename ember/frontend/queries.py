"""Small predicates of the torch namespace (``ember.is_tensor`` ...)."""
from __future__ import annotations

from .tensor import Tensor


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.dtype.is_floating_point


def numel(t):
    return t.numel()


def is_nonzero(t):
    """The truth value of a one-element tensor (raises for more elements)."""
    return bool(t)
