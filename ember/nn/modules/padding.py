"""Padding modules over ``F.pad``: Zero/Constant/Reflection/Replication/Circular 1d-3d."""
from __future__ import annotations

from .. import functional as F
from .module import Module


def _pads(padding, n):
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n:
        raise ValueError(f"padding must be an int or a {2 * n}-tuple, got {padding!r}")
    return padding


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _pads(padding, self._n)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


def _make(name, n, mode, base=_PadNd):
    return type(name, (base,), {"_n": n, "_mode": mode, "__module__": __name__})


ConstantPad1d = _make("ConstantPad1d", 1, "constant", _ConstantPadNd)
ConstantPad2d = _make("ConstantPad2d", 2, "constant", _ConstantPadNd)
ConstantPad3d = _make("ConstantPad3d", 3, "constant", _ConstantPadNd)
ReflectionPad1d = _make("ReflectionPad1d", 1, "reflect")
ReflectionPad2d = _make("ReflectionPad2d", 2, "reflect")
ReflectionPad3d = _make("ReflectionPad3d", 3, "reflect")
ReplicationPad1d = _make("ReplicationPad1d", 1, "replicate")
ReplicationPad2d = _make("ReplicationPad2d", 2, "replicate")
ReplicationPad3d = _make("ReplicationPad3d", 3, "replicate")
CircularPad1d = _make("CircularPad1d", 1, "circular")
CircularPad2d = _make("CircularPad2d", 2, "circular")
CircularPad3d = _make("CircularPad3d", 3, "circular")


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


ZeroPad1d = _make("ZeroPad1d", 1, "constant", _ZeroPadNd)
ZeroPad2d = _make("ZeroPad2d", 2, "constant", _ZeroPadNd)
ZeroPad3d = _make("ZeroPad3d", 3, "constant", _ZeroPadNd)
