"""Devices. A Device owns the array module its eager kernels run on, so a new backend
adds a Device, never edits to the kernels."""
from __future__ import annotations

from ..ops import xp as _xp


class Device:
    """``ember.device('cpu')``, ``ember.device('cuda:0')``."""

    __slots__ = ("type", "index")
    _cache: dict = {}

    def __new__(cls, spec="cpu", index=None):
        if isinstance(spec, Device):
            return spec
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        typ, _, idx = spec.partition(":")
        if idx:
            index = int(idx)
        if typ not in ("cpu", "cuda"):
            raise RuntimeError(f"device: unknown device type {typ!r}; expected 'cpu' or 'cuda'")
        if typ == "cuda" and index is None:
            index = 0
        key = (typ, index)
        dev = cls._cache.get(key)
        if dev is None:
            dev = object.__new__(cls)
            dev.type, dev.index = typ, index
            cls._cache[key] = dev
        return dev

    @property
    def xp(self):
        if self.type == "cpu":
            return _xp.numpy_namespace()
        raise RuntimeError(cuda_unavailable_message())

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (Device, (str(self),))


CPU = Device("cpu")


def cuda_is_available() -> bool:
    """True when cupy imports and sees a GPU. The CUDA backend is a later issue, so even
    then tensors cannot move there yet."""
    try:
        import cupy  # noqa: F401
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, no driver, no device: all mean "not available"
        return False


def cuda_unavailable_message():
    if not cuda_is_available():
        return ("CUDA is not available: ember needs cupy and an NVIDIA GPU "
                "(pip install 'ember[cuda]'); use device='cpu'")
    return "the CUDA device backend is not implemented yet in ember; use device='cpu'"


def as_device(d) -> Device:
    if d is None:
        return CPU
    if isinstance(d, int):
        return Device("cuda", d)
    return Device(d)
