"""PyTorch's type promotion and broadcasting, implemented once.

Operands fall in three tiers: tensors with dims, zero-dim tensors, Python scalars. The
result dtype comes from the highest tier present; a lower tier changes it only when its
category (bool < int < float) is higher: a zero-dim tensor then contributes its own
dtype, a Python scalar the default dtype of its category. So ``int_tensor * 2.5`` is the
default float, ``float16_tensor * 2.5`` stays float16, ``float32 + float64`` is float64.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..ops import dtypes as D

_DEFAULT = [D.float32]


def get_default_dtype():
    return _DEFAULT[0]


def set_default_dtype(d):
    if d not in (D.float32, D.float64, D.float16, D.bfloat16):
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d!r}")
    _DEFAULT[0] = d


def scalar_dtype(v):
    """The dtype a Python (or numpy) scalar has on its own."""
    if isinstance(v, (bool, np.bool_)):
        return D.bool_
    if isinstance(v, numbers.Integral):
        return D.int64
    if isinstance(v, numbers.Real):
        return _DEFAULT[0]
    if isinstance(v, numbers.Complex):
        raise TypeError("ember has no complex dtypes yet")
    raise TypeError(f"expected a tensor or a number, got {type(v).__name__}")


def _join(a, b):
    return b if a is None else D.promote_pair(a, b)


def result_type(*operands):
    """The dtype PyTorch would compute ``operands`` in (tensors and Python scalars)."""
    dim_t = zero_t = scal = None
    for o in operands:
        dt = getattr(o, "dtype", None)
        if isinstance(dt, D.DType):
            if o.ndim:
                dim_t = _join(dim_t, dt)
            else:
                zero_t = _join(zero_t, dt)
        else:
            scal = _join(scal, scalar_dtype(o))
    result = dim_t
    if zero_t is not None:
        if result is None or zero_t.category > result.category:
            result = zero_t
    if scal is not None:
        if result is None:
            result = scal
        elif scal.category > result.category:
            result = _DEFAULT[0] if scal.category == D.FLOAT else D.int64
    return result


def broadcast_shapes(*shapes):
    """NumPy/PyTorch broadcasting of shapes; raises naming all shapes on failure."""
    n = max((len(s) for s in shapes), default=0)
    out = [1] * n
    for s in shapes:
        off = n - len(s)
        for i, d in enumerate(s):
            j = i + off
            if out[j] == 1:
                out[j] = d
            elif d != 1 and d != out[j]:
                raise RuntimeError(
                    "The size of tensors must match except in singleton dimensions to "
                    "broadcast: got shapes " + " and ".join(str(tuple(x)) for x in shapes))
    return tuple(out)
