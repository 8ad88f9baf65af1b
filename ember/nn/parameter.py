"""``nn.Parameter``: a leaf Tensor that a Module registers as trainable state."""
from __future__ import annotations

import numpy as np

from ..frontend.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and is registered when assigned to a Module.

    Like PyTorch, it shares storage (and the version counter) with the tensor it wraps and
    is always a leaf: a non-leaf ``data`` is detached.
    """

    def __new__(cls, data=None, requires_grad=True):
        return object.__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ..frontend.promotion import get_default_dtype
            dt = get_default_dtype()
            self._init(np.zeros((0,), dtype=dt.np), dt, _cpu())
        else:
            if not isinstance(data, Tensor):
                raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
            self._init(data._data, data.dtype, data.device)
            self._version = data._version
        self._is_param = True
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        t = Parameter(Tensor._wrap(self._data.copy(), self.dtype, self.device),
                      self._requires_grad)
        memo[id(self)] = t
        if self.grad is not None:
            import copy
            t.grad = copy.deepcopy(self.grad, memo)
        return t

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (np.array(self._data), self.dtype.name, self._requires_grad))


def _cpu():
    from ..frontend.device import CPU
    return CPU


def _rebuild_parameter(arr, dtype_name, requires_grad):
    from ..ops import dtypes as D
    return Parameter(Tensor._wrap(arr, D.from_name(dtype_name)), requires_grad)
