"""Algebraic simplification. Every rule is exact: the simplified graph computes bitwise
the same values as the original for every input, under IEEE 754 for floats:

* ``x * 1``, ``1 * x``, ``x / 1``, ``x ** 1`` -> ``x``   (exact for all x: nan, inf, -0.0)
* ``x - 0.0`` -> ``x`` and ``x + (-0.0)``, ``(-0.0) + x`` -> ``x``   (floats: exact)
* ``x + 0.0`` is NOT rewritten for floats: ``-0.0 + 0.0 = +0.0`` changes the sign of a
  zero; ``simplify(g, exact=False)`` allows it (values still compare equal)
* integers and bools: ``x + 0``, ``x - 0`` -> ``x``; ``x - x``, ``x * 0`` -> ``0``
  (for floats these are wrong for inf/nan and are never applied)
* ``neg(neg(x))`` -> ``x``; ``where(c, x, x)`` -> ``x``
* ``reshape(reshape(x))`` -> one reshape; a reshape, expand, or full-range slice to the
  same shape -> ``x``; ``permute(permute(x))`` -> one permute (or ``x``);
  ``expand(expand(x))`` -> one expand
* ``cast`` to the same dtype -> ``x``; ``cast(cast(x, wide), x.dtype)`` -> ``x`` when
  ``wide`` holds every value of ``x.dtype`` exactly
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import dtypes as _dt
from .rewrite import rebuild


def scalar_value(n):
    """The single value of a ``full`` (or uniform ``constant``) node, in its dtype."""
    if n.op == "full":
        v = np.full((), n.attrs["value"], dtype=n.dtype.np)
    elif n.op == "constant" and n.attrs["value"] and len(set(map(repr, n.attrs["value"]))) == 1:
        v = np.asarray(n.attrs["value"][0], dtype=n.dtype.np)
    else:
        return None
    return v.item() if n.dtype.np.kind != "V" else float(v)


def _is(n, value, sign=None):
    v = scalar_value(n)
    if v is None or v != value:
        return False
    if sign is not None and isinstance(v, float):
        return math.copysign(1.0, v) == sign
    return True


def _exact_float(n):
    return n.dtype.category == _dt.FLOAT


_EXACT_INTO = {  # dtype -> wider dtypes that hold all its values exactly
    "bool": ("uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
             "float64"),
    "uint8": ("int16", "int32", "int64", "float16", "float32", "float64"),
    "int8": ("int16", "int32", "int64", "float16", "float32", "float64"),
    "int16": ("int32", "int64", "float32", "float64"),
    "int32": ("int64", "float64"),
    "float16": ("float32", "float64"),
    "bfloat16": ("float32", "float64"),
    "float32": ("float64",),
}


def _compose_perm(p1, p2):
    return tuple(p1[i] for i in p2)


def _rules(n, ins, b, exact):
    op = n.op
    if op == "mul":
        a, c = ins
        if _is(c, 1):
            return a
        if _is(a, 1):
            return c
        if not _exact_float(n) and n.dtype is not _dt.bool_ and (_is(c, 0) or _is(a, 0)):
            return b.add("full", (), {"shape": n.shape, "value": 0, "dtype": n.dtype})
    elif op in ("div", "pow"):
        if _is(ins[1], 1):
            return ins[0]
    elif op == "add":
        a, c = ins
        if _exact_float(n):
            if _is(c, 0, sign=-1.0) or (not exact and _is(c, 0)):
                return a
            if _is(a, 0, sign=-1.0) or (not exact and _is(a, 0)):
                return c
        elif n.dtype is not _dt.bool_:
            if _is(c, 0):
                return a
            if _is(a, 0):
                return c
    elif op == "sub":
        a, c = ins
        if _is(c, 0, sign=1.0) or (not _exact_float(n) and _is(c, 0)):
            return a
        if not _exact_float(n) and a is c:
            return b.add("full", (), {"shape": n.shape, "value": 0, "dtype": n.dtype})
    elif op == "neg":
        if ins[0].op == "neg":
            return ins[0].inputs[0]
    elif op == "where":
        if ins[1] is ins[2]:
            return ins[1]
    elif op in ("reshape", "expand"):
        x = ins[0]
        if x.op == op:
            x = x.inputs[0]
        if x.shape == n.shape:
            return x
        if x is not ins[0]:
            return b.add(op, (x,), {"shape": n.shape})
    elif op == "permute":
        x, perm = ins[0], n.attrs["perm"]
        if x.op == "permute":
            perm = _compose_perm(x.attrs["perm"], perm)
            x = x.inputs[0]
        if perm == tuple(range(len(perm))):
            return x
        if x is not ins[0]:
            return b.add("permute", (x,), {"perm": perm})
    elif op == "slice":
        a = n.attrs
        if ins[0].shape == n.shape and all(s == 1 for s in a["steps"]):
            return ins[0]
    elif op == "cast":
        x = ins[0]
        if x.dtype is n.dtype:
            return x
        if x.op == "cast" and x.inputs[0].dtype is n.dtype and \
                x.dtype.name in _EXACT_INTO.get(n.dtype.name, ()):
            return x.inputs[0]
    return None


def simplify(graph, exact=True):
    return rebuild(graph, lambda n, ins, b: _rules(n, ins, b, exact))[0]
