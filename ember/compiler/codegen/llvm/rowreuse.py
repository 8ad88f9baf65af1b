"""Row kernels that store a costly value once and load it back instead of computing it
twice (see docs/CODEGEN.md, "Row kernels"): which statements spill or reload what. Pure
kernel-IR analysis; ``render.KernelRenderer`` emits the stores and loads."""
from __future__ import annotations

from ... import kernel_ir as K


def _column_mode(k):
    from .walks import _column_mode as cm
    return cm(k)


_COSTLY = frozenset({"exp", "exp2", "expm1", "log", "log2", "log1p", "tanh", "sigmoid", "erf",
                     "sin", "cos", "tan", "pow", "atan", "asin", "acos", "atan2", "sinh",
                     "cosh", "asinh", "acosh", "atanh"})


def _spills(k):
    """{reduce name: store} for float sums whose summand is also a subexpression of a later
    element-level store (softmax: ``s = sum(exp(x - m))``, ``out = exp(x - m) / s``): the
    reduce loop writes the summand into that store's locations, and the store loop loads
    it back instead of recomputing it (one exp per element instead of two; bitwise the
    same value, float32/float64 storage is exact). Only when the store's buffer is written
    by that one store and read by nothing in the kernel."""
    if not k.inner or _column_mode(k):
        return {}
    loaded = {n.access.param for st in k.body for n in K.walk(st.value)
              if isinstance(n, K.Load)}
    writes = {}
    for st in k.body:
        if isinstance(st, K.Store):
            writes[st.access.param] = writes.get(st.access.param, 0) + 1
    out = {}
    for i, r in enumerate(k.body):
        if not isinstance(r, K.Reduce) or r.op != "sum" or \
                r.value.dtype not in ("float32", "float64") or \
                not any(isinstance(n, K.Op) and n.op in _COSTLY for n in K.walk(r.value)):
            continue
        for st in k.body[i + 1:]:
            if not isinstance(st, K.Store) or K.is_row_level(k, st):
                continue
            p = st.access.param
            if k.params[p].dtype == r.value.dtype and p not in loaded and writes[p] == 1 \
                    and any(n == r.value for n in K.walk(st.value)) \
                    and st not in out.values():
                out[r.name] = st
                break
    return out


def _reloads(k):
    """{id(statement): [(expr, access, dtype)]}: an element-level store of a costly value
    ``V`` (cross-entropy: ``p = exp(x - m)``) followed by a reduction or store that
    recomputes ``V`` (``sum(exp(x - m))``) reads it back from the first store's location
    instead (same value: float32/float64 storage is exact)."""
    if not k.inner or _column_mode(k):
        return {}
    out = {}
    for i, st in enumerate(k.body):
        if not isinstance(st, K.Store) or K.is_row_level(k, st):
            continue
        dt = k.params[st.access.param].dtype
        v = st.value
        if dt != v.dtype or dt not in ("float32", "float64") or \
                not any(isinstance(n, K.Op) and n.op in _COSTLY for n in K.walk(v)):
            continue
        for later in k.body[i + 1:]:
            if isinstance(later, K.Store) and later.access.param == st.access.param:
                break
            if isinstance(later, K.Store) and K.is_row_level(k, later):
                continue
            if any(n == v for n in K.walk(later.value)):
                out.setdefault(id(later), []).append((v, st.access, dt))
    return out
