"""``repr(tensor)`` in PyTorch's format: values, then dtype / requires_grad / grad_fn when
PyTorch would show them."""
from __future__ import annotations

import numpy as np

from ..ops import dtypes as D

_OPTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    if profile == "default":
        _OPTS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _OPTS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _OPTS.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            _OPTS[k] = v
    _OPTS["sci_mode"] = sci_mode


def _float_formatter(arr):
    p = _OPTS["precision"]
    finite = arr[np.isfinite(arr)] if arr.size else arr
    nz = np.abs(finite[finite != 0]) if finite.size else finite
    if finite.size and np.all(finite == np.round(finite)) and (nz.size == 0 or nz.max() < 1e8):
        fmt = lambda v: f"{v:.0f}." if np.isfinite(v) else _special(v)  # noqa: E731
    else:
        sci = _OPTS["sci_mode"]
        if sci is None:
            sci = nz.size > 0 and (nz.max() / nz.min() > 1000.0 or nz.max() > 1e8 or nz.min() < 1e-4)
        if sci:
            fmt = lambda v: f"{v:.{p}e}" if np.isfinite(v) else _special(v)  # noqa: E731
        else:
            fmt = lambda v: f"{v:.{p}f}" if np.isfinite(v) else _special(v)  # noqa: E731
    flat = arr.reshape(-1)
    width = max((len(fmt(v)) for v in _sample(flat)), default=1)
    return lambda v: fmt(v).rjust(width)


def _sample(flat):
    if flat.size <= _OPTS["threshold"]:
        return flat
    e = _OPTS["edgeitems"]
    return np.concatenate([flat[:e * 50], flat[-e * 50:]])


def _special(v):
    return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")


def _values(t):
    arr = np.asarray(t._data)
    if t.dtype is D.bfloat16 or t.dtype is D.float16:
        arr = arr.astype(np.float32)
    if arr.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(arr)}
    elif arr.dtype == bool:
        formatter = {"bool": lambda v: " True" if v else "False"}
    else:
        w = max((len(str(v)) for v in _sample(arr.reshape(-1))), default=1)
        formatter = {"int": lambda v: str(v).rjust(w)}
    if arr.ndim == 0:
        f = next(iter(formatter.values()))
        return f(arr.item()).strip()
    if arr.size == 0:
        return "[]" if arr.ndim == 1 else f"size={tuple(arr.shape)}"
    return np.array2string(arr, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=_OPTS["threshold"], edgeitems=_OPTS["edgeitems"],
                           max_line_width=_OPTS["linewidth"])


def tensor_repr(t):
    from .promotion import get_default_dtype
    parts = [_values(t)]
    if t._data.size == 0 and t._data.ndim > 1:
        parts = ["[]", f"size={tuple(t.shape)}"]
    if t.device.type != "cpu":
        parts.append(f"device='{t.device}'")
    if t.dtype not in (get_default_dtype(), D.int64, D.bool_):
        parts.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t._requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
