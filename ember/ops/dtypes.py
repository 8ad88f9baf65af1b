"""The dtype table: every dtype ember knows, once.

Primitives only ever see inputs of one dtype; the promotion rules that pick that
dtype live in the frontend's dispatch (``frontend/promotion.py``) and use the
``category`` and ``rank`` columns defined here.
"""
from __future__ import annotations

import numpy as np

try:  # bfloat16 storage: numpy has no bfloat16; ml_dtypes (from the JAX team) provides it
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - ml_dtypes is a declared dependency
    _ml_dtypes = None

BOOL, INT, FLOAT = 0, 1, 2  # promotion categories, ordered


class DType:
    """An ember dtype (``ember.float32`` ...). Compared by identity; one object per dtype."""

    __slots__ = ("name", "np", "category", "itemsize", "is_signed", "_rank")

    def __init__(self, name, np_dtype, category, rank):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self.category = category
        self.itemsize = self.np.itemsize if self.np is not None else 2
        self.is_signed = category != BOOL and name != "uint8"
        self._rank = rank

    @property
    def is_floating_point(self):
        return self.category == FLOAT

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):  # dtypes pickle as the module-level singleton
        return (from_name, (self.name,))

    # hashing by identity is the default; kept explicit for readability
    __hash__ = object.__hash__


bool_ = DType("bool", np.bool_, BOOL, 0)
uint8 = DType("uint8", np.uint8, INT, 1)
int8 = DType("int8", np.int8, INT, 1)
int16 = DType("int16", np.int16, INT, 2)
int32 = DType("int32", np.int32, INT, 3)
int64 = DType("int64", np.int64, INT, 4)
float16 = DType("float16", np.float16, FLOAT, 1)
bfloat16 = DType("bfloat16", _ml_dtypes.bfloat16 if _ml_dtypes else None, FLOAT, 1)
float32 = DType("float32", np.float32, FLOAT, 2)
float64 = DType("float64", np.float64, FLOAT, 3)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
FLOATS = (float16, bfloat16, float32, float64)
INTS = (uint8, int8, int16, int32, int64)

_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"bool_": bool_, "float": float32, "double": float64, "half": float16,
                 "long": int64, "int": int32, "short": int16})
_BY_NP = {d.np: d for d in ALL if d.np is not None}


def from_name(name: str) -> DType:
    return _BY_NAME[name]


def from_numpy(np_dtype) -> DType:
    """The ember dtype of a numpy dtype; raises TypeError for dtypes ember lacks."""
    d = _BY_NP.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(f"ember has no dtype matching numpy dtype {np.dtype(np_dtype)}; "
                        f"supported: {', '.join(x.name for x in ALL)}")
    return d


def promote_pair(a: DType, b: DType) -> DType:
    """PyTorch's promotion of two tensor dtypes (same priority tier)."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a._rank >= b._rank else b
    if a.category == INT:
        if uint8 in (a, b):  # uint8 with a signed int: the smallest signed type holding both
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank >= b._rank else b
    return a


def finfo(d: DType):
    """Machine limits of a float dtype (numpy's finfo does not know bfloat16)."""
    if d is bfloat16:
        return _ml_dtypes.finfo(require_known(d).np)
    return np.finfo(d.np)


def require_known(d: DType):
    if d.np is None:
        raise NotImplementedError(f"{d!r} storage needs the ml_dtypes package "
                                  f"(pip install ml_dtypes)")
    return d
