"""The one table of Tensor methods and operators, each forwarding to a composite.

``METHODS`` maps a method name to a function taking the tensor first; ``INPLACE`` lists
the methods that also get an in-place ``name_`` form. Operators are the dunder rows.
"""
from __future__ import annotations

from ..ops import dtypes as D
from . import functional as F
from . import random as R
from .autograd.graph import rename_grad_fn
from .functional.inplace import make_inplace
from .tensor import Tensor


def _swap(fn):
    return lambda a, b: fn(b, a)


def _to(dtype):
    return lambda x, *a, **k: x.to(dtype)


METHODS = {
    # arithmetic and math
    "add": F.add, "sub": F.sub, "subtract": F.sub, "mul": F.mul, "multiply": F.mul,
    "div": F.div, "divide": F.div, "true_divide": F.div, "floor_divide": F.floor_divide,
    "remainder": F.remainder, "fmod": F.fmod, "pow": F.pow, "float_power": F.float_power,
    "neg": F.neg, "negative": F.neg, "abs": F.abs, "absolute": F.abs, "sign": F.sign,
    "sgn": F.sign, "floor": F.floor, "ceil": F.ceil, "round": F.round, "trunc": F.trunc,
    "fix": F.trunc, "frac": F.frac, "exp": F.exp, "exp2": F.exp2, "expm1": F.expm1,
    "log": F.log, "log2": F.log2, "log10": F.log10, "log1p": F.log1p, "sqrt": F.sqrt,
    "rsqrt": F.rsqrt, "square": F.square, "reciprocal": F.reciprocal, "sin": F.sin,
    "cos": F.cos, "tan": F.tan, "tanh": F.tanh, "sinh": F.sinh, "cosh": F.cosh, "erf": F.erf,
    "erfc": F.erfc, "sigmoid": F.sigmoid, "logit": F.logit, "relu": F.relu, "lerp": F.lerp,
    "hypot": F.hypot, "logaddexp": F.logaddexp, "nan_to_num": F.nan_to_num,
    "clamp": F.clamp, "clip": F.clamp, "clamp_min": F.clamp_min, "clamp_max": F.clamp_max,
    "maximum": F.maximum, "minimum": F.minimum, "fmax": F.maximum, "fmin": F.minimum,
    "where": lambda x, cond, other: F.where(cond, x, other), "masked_fill": F.masked_fill,
    # comparison and logic
    "eq": F.eq, "ne": F.ne, "lt": F.lt, "le": F.le, "gt": F.gt, "ge": F.ge,
    "greater": F.gt, "greater_equal": F.ge, "less": F.lt, "less_equal": F.le,
    "not_equal": F.ne, "equal": F.equal, "isnan": F.isnan, "isinf": F.isinf,
    "isfinite": F.isfinite, "isclose": F.isclose, "allclose": F.allclose,
    "logical_not": F.logical_not, "logical_and": F.logical_and, "logical_or": F.logical_or,
    "logical_xor": F.logical_xor, "bitwise_and": F.bitwise_and, "bitwise_or": F.bitwise_or,
    "bitwise_xor": F.bitwise_xor, "bitwise_not": F.bitwise_not,
    # reductions
    "sum": F.sum, "nansum": F.nansum, "mean": F.mean, "nanmean": F.nanmean, "prod": F.prod,
    "max": F.max, "min": F.min, "amax": F.amax, "amin": F.amin, "aminmax": F.aminmax,
    "argmax": F.argmax, "argmin": F.argmin, "all": F.all, "any": F.any, "var": F.var,
    "std": F.std, "logsumexp": F.logsumexp, "softmax": F.softmax, "log_softmax": F.log_softmax,
    "norm": F.norm, "cumsum": F.cumsum, "count_nonzero": F.count_nonzero,
    # shape and movement
    "view": F.view, "view_as": F.view_as, "reshape": F.reshape, "reshape_as": F.reshape_as,
    "flatten": F.flatten, "unflatten": F.unflatten, "ravel": F.ravel, "permute": F.permute,
    "transpose": F.transpose, "swapaxes": F.transpose, "swapdims": F.transpose, "t": F.t,
    "movedim": F.movedim, "moveaxis": F.movedim, "unsqueeze": F.unsqueeze,
    "squeeze": F.squeeze, "expand": F.expand, "expand_as": F.expand_as,
    "broadcast_to": F.broadcast_to, "narrow": F.narrow, "select": F.select, "split": F.split,
    "chunk": F.chunk, "tensor_split": F.tensor_split, "unbind": F.unbind,
    "contiguous": F.contiguous, "clone": F.clone, "flip": F.flip, "fliplr": F.fliplr,
    "flipud": F.flipud, "roll": F.roll, "repeat": F.repeat, "tile": F.tile,
    "repeat_interleave": F.repeat_interleave,
    # indexing
    "gather": F.gather, "scatter": F.scatter, "scatter_add": F.scatter_add,
    "index_select": F.index_select, "take": F.take, "take_along_dim": F.take_along_dim,
    "nonzero": F.nonzero, "argwhere": F.argwhere, "masked_select": F.masked_select,
    "index_put": F.index_put,
    # linear algebra
    "matmul": F.matmul, "mm": F.mm, "bmm": F.bmm, "mv": F.mv, "dot": F.dot, "inner": F.dot,
    "outer": F.outer, "ger": F.outer, "addmm": lambda x, a, b, **k: F.addmm(x, a, b, **k),
    # dtype conversions
    "float": _to(D.float32), "double": _to(D.float64), "half": _to(D.float16),
    "bfloat16": _to(D.bfloat16), "long": _to(D.int64), "int": _to(D.int32),
    "short": _to(D.int16), "char": _to(D.int8), "byte": _to(D.uint8), "bool": _to(D.bool_),
    "type_as": lambda x, other: x.to(other.dtype),
    "new_tensor": lambda x, data, **k: _creation().tensor(data, **{"dtype": x.dtype, **k}),
    "new_zeros": lambda x, *s, **k: _creation().zeros(*s, **{"dtype": x.dtype, **k}),
    "new_ones": lambda x, *s, **k: _creation().ones(*s, **{"dtype": x.dtype, **k}),
    "new_empty": lambda x, *s, **k: _creation().zeros(*s, **{"dtype": x.dtype, **k}),
    "new_full": lambda x, s, v, **k: _creation().full(s, v, **{"dtype": x.dtype, **k}),
    "copy_": F.copy_, "fill_": F.fill_, "zero_": F.zero_, "index_put_": F.index_put_,
}

INPLACE = ["add", "sub", "mul", "div", "floor_divide", "remainder", "fmod", "pow", "neg",
           "abs", "sign", "floor", "ceil", "round", "trunc", "frac", "exp", "expm1", "log",
           "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
           "tan", "tanh", "sinh", "cosh", "erf", "sigmoid", "relu", "clamp", "clip",
           "clamp_min", "clamp_max", "masked_fill", "lerp", "nan_to_num", "scatter",
           "scatter_add", "logical_not", "logical_and", "logical_or", "eq", "ne", "lt", "le",
           "gt", "ge", "bitwise_and", "bitwise_or", "bitwise_xor", "t", "transpose",
           "squeeze", "unsqueeze", "hypot", "logit", "float_power"]

_SHAPE_INPLACE = {"t", "transpose", "squeeze", "unsqueeze"}


def _creation():
    from . import creation
    return creation


def _shape_inplace_name(name, args):
    if name == "squeeze":
        return "SqueezeBackward3" if not args else \
            "SqueezeBackward4" if isinstance(args[0], int) else "SqueezeBackward5"
    return {"t": "TBackward1", "transpose": "TransposeBackward1",
            "unsqueeze": "UnsqueezeBackward1"}[name]


def _shape_inplace(name):
    """``t_``/``transpose_``/``squeeze_``/``unsqueeze_``: x takes the view's shape, data and
    history (PyTorch changes the metadata of x itself)."""
    fn = METHODS[name]

    def method(x, *args):
        from .autograd import grad_mode
        if x._requires_grad and x.grad_fn is None and grad_mode.STATE.enabled:
            raise RuntimeError(f"{name}_: a leaf Variable that requires grad is being used in "
                               f"an in-place operation.")
        old = x.grad_fn
        y = fn(x, *args)
        x._data = y._data
        if y._requires_grad:
            x.grad_fn, x._output_nr, x._requires_grad = y.grad_fn, y._output_nr, True
            rename_grad_fn(x, _shape_inplace_name(name, args), old)
        if x._base is not None:
            x._view_chain = y._view_chain
        return x
    method.__name__ = name + "_"
    return method


OPERATORS = {
    "__add__": F.add, "__radd__": _swap(F.add), "__sub__": F.sub, "__rsub__": _swap(F.sub),
    "__mul__": F.mul, "__rmul__": _swap(F.mul), "__truediv__": F.div,
    "__rtruediv__": _swap(F.div), "__floordiv__": F.floor_divide,
    "__rfloordiv__": _swap(F.floor_divide), "__mod__": F.remainder,
    "__rmod__": _swap(F.remainder), "__pow__": F.pow, "__rpow__": _swap(F.pow),
    "__matmul__": F.matmul, "__rmatmul__": _swap(F.matmul), "__neg__": F.neg,
    "__pos__": lambda x: x, "__abs__": F.abs, "__invert__": F.bitwise_not,
    "__and__": F.bitwise_and, "__rand__": _swap(F.bitwise_and), "__or__": F.bitwise_or,
    "__ror__": _swap(F.bitwise_or), "__xor__": F.bitwise_xor, "__rxor__": _swap(F.bitwise_xor),
    "__eq__": F.eq, "__ne__": F.ne, "__lt__": F.lt, "__le__": F.le, "__gt__": F.gt,
    "__ge__": F.ge, "__getitem__": F.getitem, "__setitem__": F.setitem,
}
INPLACE_OPERATORS = {"__iadd__": "add", "__isub__": "sub", "__imul__": "mul",
                     "__itruediv__": "div", "__ifloordiv__": "floor_divide",
                     "__imod__": "remainder", "__ipow__": "pow", "__iand__": "bitwise_and",
                     "__ior__": "bitwise_or", "__ixor__": "bitwise_xor"}


def _binop(fn):
    def op(a, b):
        if not isinstance(b, (Tensor, int, float, bool)) and not hasattr(b, "__index__") \
                and not isinstance(b, complex):
            try:
                import numpy as np
                if isinstance(b, np.generic):
                    b = b.item()
                else:
                    return NotImplemented
            except Exception:
                return NotImplemented
        return fn(a, b)
    return op


def install():
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name in INPLACE:
        if name in _SHAPE_INPLACE:
            setattr(Tensor, name + "_", _shape_inplace(name))
        else:
            setattr(Tensor, name + "_", make_inplace(METHODS[name], name))
    unary = {"__neg__", "__pos__", "__abs__", "__invert__"}
    for name, fn in OPERATORS.items():
        if name in unary or name in ("__getitem__", "__setitem__"):
            setattr(Tensor, name, fn)
        else:
            setattr(Tensor, name, _binop(fn))
    for dunder, name in INPLACE_OPERATORS.items():
        setattr(Tensor, dunder, getattr(Tensor, name + "_"))
    Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; hashing stays by identity
    Tensor.T = property(lambda x: F.permute(x, tuple(reversed(range(x.ndim)))))
    Tensor.mT = property(lambda x: F.transpose(x, -2, -1))
    Tensor.H = Tensor.T
    Tensor.uniform_ = _uniform_
    Tensor.normal_ = _normal_
    Tensor.bernoulli_ = _bernoulli_
    Tensor.random_ = _random_
    Tensor.exponential_ = _exponential_


def _uniform_(x, a=0.0, b=1.0, *, generator=None):
    from .autograd.grad_mode import no_grad
    with no_grad():
        u = R.rand_like_shape(tuple(x.shape), x.dtype, generator)
        return F.copy_(x, F.add(F.mul(u, b - a), a))


def _normal_(x, mean=0.0, std=1.0, *, generator=None):
    from .autograd.grad_mode import no_grad
    with no_grad():
        z = R.randn(tuple(x.shape), generator=generator, dtype=x.dtype)
        return F.copy_(x, F.add(F.mul(z, std), mean))


def _bernoulli_(x, p=0.5, *, generator=None):
    from .autograd.grad_mode import no_grad
    with no_grad():
        u = R.rand_like_shape(tuple(x.shape), D.float32, generator)
        return F.copy_(x, F.lt(u, p))


def _random_(x, low=0, high=None, *, generator=None):
    from .autograd.grad_mode import no_grad
    if high is None:
        low, high = 0, low if low else 2 ** 24
    with no_grad():
        return F.copy_(x, R.randint(low, high, tuple(x.shape), generator=generator))


def _exponential_(x, lambd=1.0, *, generator=None):
    from .autograd.grad_mode import no_grad
    with no_grad():
        u = R.rand_like_shape(tuple(x.shape), x.dtype, generator)
        return F.copy_(x, F.div(F.neg(F.log1p(F.neg(u))), lambd))
