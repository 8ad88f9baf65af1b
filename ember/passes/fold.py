"""Constant folding: a node whose operands are all constants (``full``, ``iota``,
``constant`` or already folded) is evaluated at compile time with its primitive's eager
kernel.

Big constants are never materialised: elementwise ops on ``full`` operands are computed
on one element and stay a ``full``; movement of a ``full`` (reshape, expand, permute,
slice, flip) and max/min of one stay a ``full``; anything else folds only when its
operands and result have at most ``limit`` elements, and becomes a ``constant`` node
(or a ``full`` when every element is bitwise equal). ``random_bits`` is never folded.
A kernel that raises (say, an out-of-range gather index) is left for run time, where the
error belongs.
"""
from __future__ import annotations

import numpy as np

from ..ir import CONSTANT
from ..ops import xp as _xp
from ..ops import dtypes as _dt
from .rewrite import rebuild

FOLD_LIMIT = 4096
_CONST_OPS = ("full", "iota", CONSTANT)
_SHAPE_ONLY = ("reshape", "expand", "permute", "slice", "flip")


def python_scalar(a, dtype):
    """One element of ``a`` as the Python scalar the ``full`` attribute holds."""
    a = np.asarray(a).reshape(())
    if dtype.category == _dt.FLOAT:
        return float(a)
    if dtype.category == _dt.INT:
        return int(a)
    return bool(a)


def materialise(n):
    if n.op == "full":
        return np.full(n.shape, n.attrs["value"], dtype=n.dtype.np)
    if n.op == "iota":
        return np.arange(n.attrs["n"], dtype=n.dtype.np)
    return np.asarray(n.attrs["value"], dtype=n.dtype.np).reshape(n.shape)


def _full(b, shape, value, dtype):
    return b.add("full", (), {"shape": tuple(shape), "value": value, "dtype": dtype})


def _uniform(a):
    if a.size == 0:
        return False
    bits = a.reshape(-1).view(f"u{a.dtype.itemsize}")
    return bool((bits == bits[0]).all())


def _eager(n, arrays):
    with np.errstate(all="ignore"):  # the values are the program's; warnings belong to run time
        out = n.prim.eager(_xp.numpy_namespace(), *arrays, **n.attrs)
    return np.asarray(out)


def constant_fold(graph, limit=FOLD_LIMIT):
    def rule(n, ins, b):
        prim = n.prim
        if prim is None or n.op in _CONST_OPS or n.op == "random_bits" or not ins:
            return None
        if not all(i.op in _CONST_OPS for i in ins):
            return None
        try:
            if all(i.op == "full" for i in ins):
                if prim.kind == "elementwise":
                    one = [np.full((), i.attrs["value"], dtype=i.dtype.np) for i in ins]
                    return _full(b, n.shape, python_scalar(_eager(n, one), n.dtype), n.dtype)
                if n.op in _SHAPE_ONLY or (n.op in ("reduce_max", "reduce_min") and n.numel):
                    return _full(b, n.shape, ins[0].attrs["value"], n.dtype)
            if n.numel > limit or any(i.numel > limit for i in ins):
                return None
            out = _eager(n, [materialise(i) for i in ins])
        except (ValueError, IndexError, ArithmeticError, FloatingPointError):
            return None
        out = out.astype(n.dtype.np, copy=False).reshape(n.shape)
        if _uniform(out):
            return _full(b, n.shape, python_scalar(out.reshape(-1)[0], n.dtype), n.dtype)
        return b.constant(out, n.dtype)

    return rebuild(graph, rule)[0]
