"""The Tensor: an array on a device, a dtype, and autograd state.

Math and shape methods are attached from one table in ``tensor_methods.py``; this file
holds the state, the autograd surface and conversions.

Storage: ``_data`` is the device array (a numpy array on the CPU). Views share it with
their base, as in PyTorch; a view remembers ``_base`` and the chain of movement
primitives (``_view_chain``) that made it, so in-place updates of the view can be replayed
as functional updates of the base (autograd now, tracing later). Views and their base
share one version counter (``_version``, a one-element list).
"""
from __future__ import annotations

import numpy as np

from ..ops import dtypes as D
from .autograd import grad_mode
from .device import CPU, as_device, cuda_unavailable_message


class Tensor:
    __slots__ = ("_data", "dtype", "device", "_requires_grad", "grad_fn", "grad", "_version",
                 "_base", "_view_chain", "_acc", "_output_nr", "_hooks", "_is_param",
                 "_views", "__weakref__", "__dict__")

    # ------------------------------------------------------------ construction
    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        return self

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """``Tensor(list|ndarray)`` copies data (float32 by default, like torch.Tensor);
        ``Tensor(*sizes)`` makes an uninitialised tensor of that size."""
        from .creation import _tensor_data
        if len(args) == 1 and isinstance(args[0], Size):   # Tensor(x.shape): a size
            args = tuple(args[0])
        if len(args) == 1 and not isinstance(args[0], int):
            arr, dt = _tensor_data(args[0], dtype or _default_float())
        else:
            dt = dtype or _default_float()
            # Tensor() is an empty 1-d tensor, as in PyTorch
            arr = np.zeros(tuple(int(s) for s in args) if args else (0,), dtype=dt.np)
        self._init(arr, dt, as_device(device))
        self._requires_grad = bool(requires_grad)

    def _init(self, data, dtype, device):
        self._data = data
        self.dtype = dtype
        self.device = device
        self._requires_grad = False
        self.grad_fn = None
        self.grad = None
        self._version = [0]
        self._base = None
        self._view_chain = ()
        self._acc = None
        self._output_nr = 0
        self._hooks = None
        self._is_param = False

    @classmethod
    def _wrap(cls, data, dtype, device=CPU):
        t = object.__new__(Tensor)
        t._data = data
        t.dtype = dtype
        t.device = device
        t._requires_grad = False
        t.grad_fn = None
        t.grad = None
        t._version = [0]
        t._base = None
        t._view_chain = ()
        t._acc = None
        t._output_nr = 0
        t._hooks = None
        t._is_param = False
        return t

    # ------------------------------------------------------------ basic properties
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        s = self._data.shape
        if dim is None:
            return Size(s)
        return s[_wrap_dim(dim, len(s), "size")]

    @property
    def ndim(self):
        return len(self._data.shape)

    def dim(self):
        return len(self._data.shape)

    ndimension = dim

    def numel(self):
        return int(np.prod(self._data.shape, dtype=np.int64))

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_floating_point_(self):
        return self.dtype.category == D.FLOAT

    def is_floating_point(self):
        return self.dtype.category == D.FLOAT

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self.ndim, "stride")]

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self):
        return self._data.ctypes.data

    def storage_offset(self):
        if self._base is None:
            return 0
        return (self._data.ctypes.data - self._base._data.ctypes.data) // self._data.itemsize

    def _is_view(self):
        return self._base is not None

    # ------------------------------------------------------------ autograd surface
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and self.dtype.category != D.FLOAT:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, "
                               f"got {self.dtype!r}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def retain_grad(self):
        if self.grad_fn is None:
            return
        import weakref
        self.grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn._retained is not None

    def register_hook(self, hook):
        """``hook(grad) -> grad or None`` runs when this tensor's gradient is computed;
        returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .dispatch import edge
        node, nr = edge(self)
        return node._add_pre_hook(nr, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd.api import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A new tensor sharing storage, cut from the graph."""
        t = Tensor._wrap(self._data, self.dtype, self.device)
        t._version = self._version
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        t = Tensor._wrap(self._data, self.dtype, self.device)
        return t

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(other).__name__}")
        self._data = other._data
        self.dtype = other.dtype
        self.device = other.device

    # ------------------------------------------------------------ conversion
    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if type(self._data) is not np.ndarray:   # a traced value: this raises a clear error
            return np.asarray(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        return a.astype(dtype) if dtype is not None else a

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.category == D.FLOAT:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self._data.reshape(()).item())

    def __len__(self):
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self):
        from .printing import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self.dim() == 0:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.array(self._data), self.dtype.name, str(self.device),
                           self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        cls = type(self)
        t = object.__new__(cls)
        t._init(self._data.copy(), self.dtype, self.device)
        t._requires_grad = self._requires_grad
        for k, v in getattr(self, "__dict__", {}).items():
            t.__dict__[k] = v
        memo[id(self)] = t
        if self.grad is not None:
            import copy
            t.grad = copy.deepcopy(self.grad, memo)
        return t

    # ------------------------------------------------------------ device / dtype moves
    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; ``copy=``."""
        dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)   # one (row-major) layout only
        if kwargs:
            raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, D.DType):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            else:
                device = a
        t = self
        if device is not None:
            dev = as_device(device)
            if dev != self.device:
                if dev.type == "cuda":
                    raise RuntimeError(cuda_unavailable_message())
                raise RuntimeError(f"to(): cannot move from {self.device} to {dev}")
        if dtype is not None and dtype is not self.dtype:
            from .dispatch import cast
            t = cast(self, dtype)
        elif copy:
            t = self.clone()
        return t

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        raise RuntimeError(cuda_unavailable_message())

    def type(self, dtype=None):
        if dtype is None:
            return f"ember.{_TYPE_NAMES.get(self.dtype, 'Tensor')}"
        if isinstance(dtype, str):   # "ember.FloatTensor" / "torch.LongTensor"
            name = dtype.rsplit(".", 1)[-1]
            match = [d for d, n in _TYPE_NAMES.items() if n == name]
            if not match:
                raise ValueError(f"type(): invalid type {dtype!r}")
            dtype = match[0]
        elif not isinstance(dtype, D.DType) and hasattr(dtype, "_dtype"):
            dtype = dtype._dtype     # ember.FloatTensor and friends
        return self.to(dtype)


_TYPE_NAMES = {D.float32: "FloatTensor", D.float64: "DoubleTensor", D.float16: "HalfTensor",
               D.int64: "LongTensor", D.int32: "IntTensor", D.int16: "ShortTensor",
               D.int8: "CharTensor", D.uint8: "ByteTensor", D.bool_: "BoolTensor",
               D.bfloat16: "BFloat16Tensor"}


def _default_float():
    from .promotion import get_default_dtype
    return get_default_dtype()


def _rebuild(arr, dtype_name, device, requires_grad):
    t = Tensor._wrap(arr, D.from_name(dtype_name), as_device(device))
    t._requires_grad = requires_grad
    return t


class Size(tuple):
    """``tensor.shape``: a tuple that prints as ``ember.Size([2, 3])``."""

    def __repr__(self):
        return f"ember.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


def _wrap_dim(dim, ndim, op="dim"):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


grad_mode  # re-exported for tensor_methods; keeps the import explicit
