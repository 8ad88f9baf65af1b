"""Eager dispatch: the Tensor interpreter behind ``ops.bind``, and the operand coercion
(promotion, broadcasting, Python scalars) every composite goes through.

The interpreter computes the primitive's cached meta (validation and result dtype), runs
its eager kernel on the device's array module and, when grad mode is on and an input
requires grad, records a grad_fn node. Nothing else in the frontend calls a kernel.
"""
from __future__ import annotations

import numpy as np

from ..ops import PRIMITIVES, bind, current_interpreter, set_base_interpreter
from ..ops import dtypes as D
from ..ops.registry import Interpreter
from .autograd import grad_mode
from .autograd.graph import ShapeStub, make_accumulate, node_class
from .device import CPU
from .promotion import broadcast_shapes, get_default_dtype, result_type

P = PRIMITIVES
_ndarray = np.ndarray
_STATE = grad_mode.STATE


class EagerInterpreter(Interpreter):
    """Runs primitives on concrete tensors and records autograd nodes."""

    def __init__(self):
        self.default_device = [CPU]

    def process(self, prim, args, attrs):
        n = len(args)
        if n == 1:
            a = args[0]
            dev = a.device
            arrays = (a._data,)
            key_shapes = (a._data.shape,)
            key_dtypes = (a.dtype,)
        elif n:
            dev = args[0].device
            for a in args:
                if a.device is not dev:
                    raise RuntimeError(f"{prim.name}: expected all tensors to be on the same "
                                       f"device, found {dev} and {a.device}")
            arrays = [a._data for a in args]
            key_shapes = tuple([x.shape for x in arrays])
            key_dtypes = tuple([a.dtype for a in args])
        else:
            dev = self.default_device[-1]
            arrays = key_shapes = key_dtypes = ()
        # the cached shape/dtype rule (inlined Primitive.meta: this is the hot path)
        key = (key_shapes, key_dtypes, tuple(sorted(attrs.items())) if attrs else ())
        meta = prim._meta_cache.get(key)
        if meta is None:
            meta = prim.meta(key_shapes, key_dtypes, attrs)
        out = prim.eager(dev.xp, *arrays, **attrs)
        if type(out) is not _ndarray:
            out = np.asarray(out)
        t = _wrap(out, meta[1], dev)
        if _STATE.enabled and prim.vjp is not None:
            for a in args:
                if a._requires_grad:
                    record(prim, attrs, args, t)
                    break
        return t


def edge(t):
    """The (node, output_nr) a gradient for ``t`` flows into."""
    if not t._requires_grad:
        return (None, 0)
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._acc
    if acc is None:
        acc = t._acc = make_accumulate(t)
    return (acc, 0)


_NO_EDGE = (None, 0)
_NODE_CLS: dict = {}


def record(prim, attrs, args, out):
    cls = _NODE_CLS.get(prim)
    if cls is None:
        cls = _NODE_CLS[prim] = node_class(prim.grad_name)
    node = cls.__new__(cls)
    node.prim = prim
    node.attrs = attrs
    edges = []
    for a in args:  # inlined edge(): this runs once per recorded op
        if not a._requires_grad:
            edges.append(_NO_EDGE)
        elif a.grad_fn is not None:
            edges.append((a.grad_fn, a._output_nr))
        else:
            edges.append(edge(a))
    node.next_functions = tuple(edges)
    node._pre_hooks = None
    node._retained = None
    node.metadata = {}
    node.device = out.device
    keep = prim.saves_inputs
    if keep is True:
        node._saved = args
        versions = [(a, a._version[0]) for a in args]
    elif keep is False:
        node._saved = tuple([ShapeStub(a._data.shape, a.dtype) for a in args])
        versions = []
    else:  # a tuple of the input positions the VJP reads
        node._saved = tuple([a if i in keep else ShapeStub(a._data.shape, a.dtype)
                             for i, a in enumerate(args)])
        versions = [(args[i], args[i]._version[0]) for i in keep]
    if prim.uses_output:
        dtype, counter = out.dtype, out._version
        data, dev = out._data, out.device
        versions.append((_VersionRef(counter, out.shape, dtype), counter[0]))

        node._out = _SavedOutput(data, dtype, dev, counter)
    else:
        node._out = None
    node._versions = versions
    out._requires_grad = True
    out.grad_fn = node


class _SavedOutput:
    """A node's output, kept as its array (not the Tensor: no reference cycle between the
    output and its own grad_fn); ``unpack(node)`` rebuilds the tensor for the VJP."""

    __slots__ = ("data", "dtype", "device", "counter")

    def __init__(self, data, dtype, device, counter):
        self.data, self.dtype, self.device, self.counter = data, dtype, device, counter

    def unpack(self, node):
        t = Tensor._wrap(self.data, self.dtype, self.device)
        t._version = self.counter
        t._requires_grad = True
        t.grad_fn = node
        return t


class _VersionRef:
    """Lets the version check name a saved output without keeping the tensor alive."""

    __slots__ = ("_version", "shape", "dtype")

    def __init__(self, counter, shape, dtype):
        self._version, self.shape, self.dtype = counter, shape, dtype


EAGER = EagerInterpreter()
set_base_interpreter(EAGER)


# ------------------------------------------------------------------ operand coercion

def constant(value, shape, dtype, device=CPU):
    """A broadcast constant operand (never a graph input when tracing). Eagerly it is a
    read-only stride-0 view of one element, so it costs no memory at any shape."""
    if current_interpreter() is EAGER:
        try:
            one = np.array(value, dtype=dtype.np)
        except OverflowError:  # an out-of-range Python int wraps, as in PyTorch
            one = np.array(value).astype(dtype.np)
        arr = _ndarray(shape, dtype.np, one, 0, (0,) * len(shape))
        arr.flags.writeable = False
        return Tensor._wrap(arr, dtype, device)
    return bind(P["full"], shape=tuple(shape), value=value, dtype=dtype)


def cast(t, dtype):
    return t if t.dtype is dtype else bind(P["cast"], t, dtype=dtype)


def broadcast_to(t, shape):
    s = t.shape
    if s == shape:
        return t
    if len(s) < len(shape):
        t = bind(P["reshape"], t, shape=(1,) * (len(shape) - len(s)) + s)
        if t.shape == shape:
            return t
    return bind(P["expand"], t, shape=shape)


def coerce(operands, dtype=None):
    """Promote and broadcast tensors/scalars to one dtype and shape."""
    tensors = [o for o in operands if isinstance(o, Tensor)]
    if not tensors:
        raise TypeError("expected at least one tensor operand")
    if dtype is None:
        dtype = result_type(*operands)
    shape = broadcast_shapes(*(t.shape for t in tensors))
    dev = tensors[0].device
    out = []
    for o in operands:
        if isinstance(o, Tensor):
            out.append(broadcast_to(cast(o, dtype), shape))
        else:
            out.append(constant(o, shape, dtype, dev))
    return out


def float_dtype_for(dtype):
    return dtype if dtype.category == D.FLOAT else get_default_dtype()


_PY_SCALARS = (int, float, bool)


def binary(name, a, b, floating=False):
    """Apply binary primitive ``name`` with PyTorch promotion; ``floating`` forces a float
    computation dtype (true division)."""
    ta, tb = type(a), type(b)
    if ta is Tensor and tb is Tensor:
        if a.dtype is b.dtype and a._data.shape == b._data.shape and \
                (not floating or a.dtype.category == D.FLOAT):
            return bind(P[name], a, b)
    elif ta is Tensor and tb in _PY_SCALARS or tb is Tensor and ta in _PY_SCALARS:
        # tensor (op) Python scalar: the scalar is weakly typed
        t, s = (a, b) if ta is Tensor else (b, a)
        dt = t.dtype
        cat = D.BOOL if tb is bool or ta is bool else (D.INT if (tb if ta is Tensor else ta) is int
                                                      else D.FLOAT)
        if cat > dt.category:
            dt = get_default_dtype() if cat == D.FLOAT else D.int64
        if floating and dt.category != D.FLOAT:
            dt = get_default_dtype()
        if dt is not t.dtype:
            t = bind(P["cast"], t, dtype=dt)
        c = constant(s, t._data.shape, dt, t.device)
        return bind(P[name], t, c) if ta is Tensor else bind(P[name], c, t)
    dt = result_type(a, b)
    if floating:
        dt = float_dtype_for(dt)
    try:
        x, y = coerce((a, b), dt)
    except RuntimeError as e:  # shape errors name the op as well as the shapes
        raise RuntimeError(f"{name}: {e}") from None
    return bind(P[name], x, y)


def unary_float(name, x):
    """Unary primitive that needs floats: ints and bools are computed in the default float."""
    if x.dtype.category != D.FLOAT:
        x = cast(x, get_default_dtype())
    return bind(P[name], x)


from .tensor import Tensor  # noqa: E402  (tensor.py imports this module's helpers lazily)

_wrap = Tensor._wrap
