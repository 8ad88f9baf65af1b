"""Small helpers shared by the nn.functional composites (argument normalisation, checks)."""
from __future__ import annotations

from ...frontend.tensor import Tensor


def ntuple(v, n, name="argument"):
    """``v`` as an n-tuple of ints (an int is repeated; a sequence must have length n)."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise ValueError(f"{name} must be an int or a sequence of {n} ints, got {v!r}")
        return tuple(int(x) for x in v)
    return (int(v),) * n


def check_tensor(x, op, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be a Tensor, not {type(x).__name__}")


def check_float(x, op, arg="input"):
    check_tensor(x, op, arg)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating-point {arg}, got {x.dtype!r}")
