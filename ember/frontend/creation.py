"""Tensor creation: ``tensor``, ``zeros``/``ones``/``full``/``empty`` (and ``*_like``),
``arange``, ``linspace``, ``eye``, ``from_numpy``, triangular helpers."""
from __future__ import annotations

import numbers

import numpy as np

from ..ops import PRIMITIVES as P, bind
from ..ops import dtypes as D
from .device import as_device
from .dispatch import EAGER, Tensor
from .promotion import get_default_dtype


def _infer_dtype(data):
    """PyTorch's inference for nested Python data: bool < int64 < default float."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.ndarray):
        return D.from_numpy(data.dtype)
    if isinstance(data, (bool, np.bool_)):
        return D.bool_
    if isinstance(data, numbers.Integral):
        return D.int64
    if isinstance(data, numbers.Real):
        return get_default_dtype()
    if isinstance(data, (list, tuple)):
        best = None
        for item in data:
            d = _infer_dtype(item)
            if best is None or d.category > best.category or (
                    d.category == best.category and d.itemsize > best.itemsize
                    and isinstance(item, (Tensor, np.ndarray))):
                best = d
        return best or get_default_dtype()
    raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__}")


def _tensor_data(data, dtype=None):
    """(numpy array copy, dtype) from Python data, arrays or tensors."""
    if isinstance(data, Tensor):
        dt = dtype or data.dtype
        return np.array(data._data, dtype=D.require_known(dt).np), dt
    dt = dtype or _infer_dtype(data)
    D.require_known(dt)
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
        data = _to_nested_arrays(data)
    try:
        arr = np.array(data, dtype=dt.np)
    except (ValueError, TypeError) as e:
        raise ValueError(f"tensor(): cannot build a tensor from this data: {e}") from None
    if arr.dtype == object:
        raise ValueError("tensor(): data is ragged or has non-numeric entries")
    return arr, dt


def _flat(data):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _to_nested_arrays(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_to_nested_arrays(v) for v in data]
    return data


def _make(arr, dtype, device, requires_grad):
    dev = as_device(device)
    if dev.type != "cpu":
        dev.xp  # raises the clear CUDA message
    t = Tensor._wrap(arr, dtype, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays, tensors)."""
    arr, dt = _tensor_data(data, dtype)
    return _make(arr, dt, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or D.from_numpy(data.dtype) is dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(arr):
    """A tensor sharing memory with ``arr`` (writes show through both ways)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(arr).__name__})")
    return Tensor._wrap(arr, D.from_numpy(arr.dtype))


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    return size


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from .promotion import scalar_dtype
    if dtype is None:
        dtype = scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    size = _size((size,) if isinstance(size, int) else tuple(size))
    dev = as_device(device)
    EAGER.default_device.append(dev)
    try:
        t = bind(P["full"], shape=size, value=fill_value, dtype=dtype)
    finally:
        EAGER.default_device.pop()
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return full(_size(size), 0, dtype=dtype or get_default_dtype(), device=device,
                requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return full(_size(size), 1, dtype=dtype or get_default_dtype(), device=device,
                requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None):
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _like(x, dtype, device):
    return tuple(x.shape), dtype or x.dtype, device or x.device


def zeros_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    s, d, dev = _like(x, dtype, device)
    return full(s, 0, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    s, d, dev = _like(x, dtype, device)
    return full(s, 1, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(x, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    s, d, dev = _like(x, dtype, device)
    return full(s, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = D.int64 if all(isinstance(v, numbers.Integral) for v in vals) \
            else get_default_dtype()
    n = max(0, int(np.ceil((end - start) / step)))
    from . import functional as F
    with _on(device):
        idx = bind(P["iota"], n=n, dtype=D.float64 if dtype.category == D.FLOAT else D.int64)
    out = F.add(F.mul(idx, step), start) if (start != 0 or step != 1) else idx
    out = out.to(dtype)
    if requires_grad:
        out.requires_grad_(True)
    return out


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    dtype = dtype or get_default_dtype()
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    from . import functional as F
    with _on(device):
        idx = bind(P["iota"], n=steps, dtype=D.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    # PyTorch fills the second half backwards from ``end``, so the last value is exact
    head = F.add(F.mul(idx, step), start)
    tail = F.sub(end, F.mul(F.rsub(idx, steps - 1), step))
    out = F.where(F.lt(idx, steps / 2), head, tail).to(dtype)
    if requires_grad:
        out.requires_grad_(True)
    return out


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None):
    from . import functional as F
    return F.pow(base, linspace(start, end, steps, dtype=D.float64, device=device)).to(
        dtype or get_default_dtype())


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    from . import functional as F
    m = n if m is None else m
    with _on(device):
        r = bind(P["iota"], n=n, dtype=D.int64)
        c = bind(P["iota"], n=m, dtype=D.int64)
    out = F.eq(r.reshape(n, 1), c.reshape(1, m)).to(dtype or get_default_dtype())
    if requires_grad:
        out.requires_grad_(True)
    return out


def triu_ones(n, dtype, device=None):
    """Upper-triangular (including the diagonal) ones, n x n."""
    from . import functional as F
    with _on(device):
        r = bind(P["iota"], n=n, dtype=D.int64)
    return F.le(r.reshape(n, 1), r.reshape(1, n)).to(dtype)


class _on:
    """Make nullary primitives (full, iota) allocate on ``device``."""

    def __init__(self, device):
        self.dev = as_device(device)

    def __enter__(self):
        EAGER.default_device.append(self.dev)

    def __exit__(self, *exc):
        EAGER.default_device.pop()


def tril(x, diagonal=0):
    from . import functional as F
    n, m = x.shape[-2], x.shape[-1]
    r = bind(P["iota"], n=n, dtype=D.int64).reshape(n, 1)
    c = bind(P["iota"], n=m, dtype=D.int64).reshape(1, m)
    return F.where(F.le(F.sub(c, r), diagonal), x, False if x.dtype is D.bool_ else 0)


def triu(x, diagonal=0):
    from . import functional as F
    n, m = x.shape[-2], x.shape[-1]
    r = bind(P["iota"], n=n, dtype=D.int64).reshape(n, 1)
    c = bind(P["iota"], n=m, dtype=D.int64).reshape(1, m)
    return F.where(F.ge(F.sub(c, r), diagonal), x, False if x.dtype is D.bool_ else 0)


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._dtype


def typed_tensor(dt, name):
    """The legacy constructors: ``ember.FloatTensor([1, 2])`` copies data as float32,
    ``ember.FloatTensor(2, 3)`` makes a tensor of that size; ``isinstance(t, FloatTensor)``
    checks the dtype, as in PyTorch."""
    def __new__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], int):
            return tensor(args[0], dtype=dt)
        return zeros(*args, dtype=dt) if args else zeros(0, dtype=dt)
    return _TypedTensorMeta(name, (), {"__new__": __new__, "_dtype": dt,
                                       "__doc__": typed_tensor.__doc__})
