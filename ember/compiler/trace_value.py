"""What a traced Tensor holds in place of an array.

A ``TraceValue`` is an IR node seen through the small part of the ndarray surface the
frontend reads (shape, dtype, ndim, size, strides, flags). Anything that needs the
*values* (``.item()``, ``.numpy()``, ``bool(t)``, printing, data-dependent shapes) raises
a ``TraceError`` that names the operation and points at the user's line.
"""
from __future__ import annotations

import math
import sys


from .errors import TraceError, user_line

# which frontend function asked for values -> what the user did, and what to do instead
_WHY = {
    "item": (".item()", "return the tensor from the compiled function and call .item() "
             "outside it"),
    "__float__": ("float(tensor)", "keep the value as a tensor, or read it outside the "
                  "compiled function"),
    "__int__": ("int(tensor)", "keep the value as a tensor, or read it outside the compiled "
                "function"),
    "__index__": ("using a tensor as a Python index", "index with the tensor itself"),
    "__bool__": ("bool(tensor) (an `if`/`while` on a tensor value)", "use ember.where(cond, "
                 "a, b) for data-dependent choices, or move the condition outside the "
                 "compiled function"),
    "tolist": (".tolist()", "return the tensor and convert it outside"),
    "numpy": (".numpy()", "return the tensor and convert it outside"),
    "nonzero": ("a data-dependent shape (nonzero / boolean-mask indexing x[mask])",
                "use ember.where(mask, x, 0) or masked_fill, which keep the shape static"),
    "_advanced_plan": ("a data-dependent shape (boolean-mask indexing x[mask])",
                       "use ember.where(mask, x, 0) or masked_fill, which keep the shape "
                       "static"),
    "tensor_repr": ("printing tensor values", "print outside the compiled function, or "
                    "return the tensor"),
    "_values": ("printing tensor values", "print outside the compiled function, or return "
                "the tensor"),
}


def _raise_values_needed():
    f = sys._getframe(2)
    what = None
    while f is not None and what is None:
        what = _WHY.get(f.f_code.co_name)
        f = f.f_back
    op, fix = what or ("reading tensor values on the host", "keep the computation in "
                                                           "tensor ops")
    raise TraceError(f"ember.compile cannot trace {op} at {user_line()}: the value is not "
                     f"known while tracing. Instead, {fix}.")


class _Flags:
    writeable = True
    c_contiguous = True
    f_contiguous = False
    owndata = True


class TraceValue:
    """An IR node standing where a Tensor's array would be."""

    __slots__ = ("tracer", "node")
    flags = _Flags()

    def __init__(self, tracer, node):
        self.tracer = tracer
        self.node = node

    @property
    def shape(self):
        return self.node.shape

    @property
    def dtype(self):
        return self.node.dtype.np

    @property
    def ndim(self):
        return len(self.node.shape)

    @property
    def size(self):
        return math.prod(self.node.shape)

    @property
    def itemsize(self):
        return self.node.dtype.itemsize

    @property
    def strides(self):
        st, acc = [], self.itemsize
        for n in reversed(self.node.shape):
            st.append(acc)
            acc *= max(n, 1)
        return tuple(reversed(st))

    def copy(self):
        return self  # values in a graph are immutable: a copy is the same value

    def reshape(self, *shape):
        return self  # only ever used on the way to .item(), which raises

    def item(self):
        _raise_values_needed()

    tolist = __array__ = __bool__ = __float__ = __int__ = __index__ = item

    @property
    def ctypes(self):
        _raise_values_needed()

    def __repr__(self):
        return f"<traced {self.node!r}>"


class EscapedValue:
    """Poison left in a tensor that was created inside a trace and outlived it (stored in
    a list, an attribute, a closure): any use raises and says where it was created."""

    __slots__ = ("loc",)

    def __init__(self, loc):
        self.loc = loc

    def __getattr__(self, name):
        raise TraceError(
            f"this tensor was created inside an ember.compile'd function (at {self.loc}) and "
            f"escaped the trace (stored in a list, attribute or closure), so it has no value. "
            f"Return it from the compiled function instead; for state such as optimizer "
            f"buffers, create it before compiling (e.g. run one eager step first).")

    def __array__(self, *a, **k):
        self.__getattr__("__array__")


