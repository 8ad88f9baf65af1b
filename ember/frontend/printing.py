"""``repr(tensor)`` in PyTorch's format: values, then dtype / requires_grad / grad_fn when
PyTorch would show them.

The layout follows ``torch/_tensor_str.py`` rule for rule (one formatter per tensor that
picks integer, fixed or scientific notation from the non-zero finite values; rows wrapped
at ``linewidth``; summaries with ``...`` past ``threshold`` elements), so printed output
can be compared with PyTorch's character for character. Printing reads the values as a
NumPy array: it is display, not computation, and never part of a graph.
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import dtypes as D

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
             "sci_mode": None}
_OPTS = dict(_DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """As ``torch.set_printoptions``: a profile first, then the explicit options."""
    if profile == "default":
        _OPTS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _OPTS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _OPTS.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    elif profile is not None:
        raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected "
                         f"'default', 'short' or 'full'")
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            _OPTS[k] = v
    _OPTS["sci_mode"] = sci_mode


def get_printoptions():
    return dict(_OPTS)


class _Formatter:
    """Chooses one notation and width for all elements, as PyTorch's ``_Formatter``."""

    def __init__(self, arr):
        self.floating = arr.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = _OPTS["precision"]
        flat = arr.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if vals.size:
                absv = np.abs(vals)
                lo, hi = float(absv.min()), float(absv.max())
                self.int_mode = bool(np.all(vals == np.ceil(vals)))
                with np.errstate(over="ignore"):
                    wide = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                forced = _OPTS["sci_mode"]
                self.sci_mode = wide if forced is None else bool(forced)
                # int-mode floats end in "." (one more character)
                extra = 1 if self.int_mode and not self.sci_mode else 0
                for v in vals.tolist():
                    s = f"{v:.{p}e}" if self.sci_mode else (
                        f"{v:.0f}" if self.int_mode else f"{v:.{p}f}")
                    self.max_width = max(self.max_width, len(s) + extra)

    def format(self, v):
        p = _OPTS["precision"]
        if self.floating:
            if self.sci_mode:
                s = f"{v:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{p}f}"
        else:
            s = f"{v}"
        return (self.max_width - len(s)) * " " + s


def _summarized(arr):
    """The elements a summarised print shows (edge rows/columns only)."""
    e = _OPTS["edgeitems"]
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        return np.concatenate([arr[:e], arr[-e:]]) if arr.shape[0] > 2 * e else arr
    if not e:
        return np.zeros((0,) * arr.ndim, arr.dtype)
    rows = list(range(e)) + list(range(arr.shape[0] - e, arr.shape[0])) \
        if arr.shape[0] > 2 * e else range(arr.shape[0])
    return np.stack([_summarized(arr[i]) for i in rows])


def _vector_str(arr, indent, summarize, fmt):
    e = _OPTS["edgeitems"]
    per_line = max(1, int(math.floor((_OPTS["linewidth"] - indent) / (fmt.max_width + 2))))
    if summarize and not e:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * e:
        data = [fmt.format(v) for v in arr[:e].tolist()] + [" ..."] + \
            [fmt.format(v) for v in arr[-e:].tolist()]
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    e = _OPTS["edgeitems"]
    n = arr.shape[0]
    if summarize and n > 2 * e:
        parts = [_tensor_str(arr[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] + \
            [_tensor_str(arr[i], indent + 1, summarize, fmt) for i in range(n - e, n)]
    else:
        parts = [_tensor_str(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def values_str(arr, indent=7):
    """The bracketed values of a NumPy array as PyTorch prints them."""
    if arr.size == 0:
        return "[]"
    if arr.dtype.kind == "f" and arr.dtype.itemsize < 4 or arr.dtype.kind == "V" \
            or str(arr.dtype) == "bfloat16":
        arr = arr.astype(np.float32)
    summarize = arr.size > _OPTS["threshold"]
    fmt = _Formatter(_summarized(arr) if summarize else arr)
    return _tensor_str(arr, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent):
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > _OPTS["linewidth"]:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            out.append(", " + s)
            last += len(s) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(t, prefix="tensor("):
    from .promotion import get_default_dtype
    indent = len(prefix)
    arr = np.asarray(t._data)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if t.dtype is not get_default_dtype():
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(arr.shape)}")
        if t.dtype not in (get_default_dtype(), D.int64, D.bool_):
            suffixes.append(f"dtype={t.dtype!r}")
        body = values_str(arr, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
