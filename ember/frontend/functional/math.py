"""Elementwise composites: arithmetic with PyTorch promotion, math functions, activations
that are plain compositions of primitives."""
from __future__ import annotations

import math as _math

from ...ops import PRIMITIVES as P, bind
from ...ops import dtypes as D
from ..dispatch import Tensor, binary, cast, coerce, constant, unary_float
from ..promotion import get_default_dtype, result_type


def _named(out, name, x):
    """Give the composite's result PyTorch's grad_fn name (its VJP is the primitive's)."""
    from ..autograd.graph import rename_grad_fn
    return rename_grad_fn(out, name, x.grad_fn if isinstance(x, Tensor) else None)


def _t(x, like=None):
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"expected a Tensor, got {type(x).__name__}")


# ---- arithmetic
def add(a, b, *, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    return binary("add", a, b)


def sub(a, b, *, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    return binary("sub", a, b)


subtract = sub


def rsub(a, b, *, alpha=1):
    return sub(b, a, alpha=alpha)


def mul(a, b):
    return binary("mul", a, b)


multiply = mul


def div(a, b, *, rounding_mode=None):
    if rounding_mode is None:
        return binary("div", a, b, floating=True)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        dt = result_type(a, b)
        if dt.category == D.FLOAT:
            return trunc(binary("div", a, b, floating=True))
        q = floor_divide(a, b)  # integer trunc division: floor + 1 where inexact and a/b < 0
        r = sub(a, mul(q, b))
        fix = logical_and(ne(r, 0), ne(lt(a, 0), lt(b, 0)))
        return where(fix, add(q, 1), q)
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


divide = true_divide = div


def floor_divide(a, b):
    return binary("floordiv", a, b)


def remainder(a, b):
    """Python-style modulo: the result has the sign of the divisor (torch.remainder)."""
    return sub(a, mul(floor_divide(a, b), b))


def fmod(a, b):
    """C-style modulo: the result has the sign of the dividend."""
    return sub(a, mul(div(a, b, rounding_mode="trunc"), b))


def pow(a, b):
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, Tensor):
        return _pow_scalar(a, b)
    return binary("pow", a, b)


def _pow_scalar(x, e):
    """Constant exponents become muls, sqrt and reciprocals (exact, and cheap to fuse)."""
    dt = result_type(x, e)
    if dt is not x.dtype:
        x = cast(x, dt)
    if e == 1:
        return bind(P["mul"], x, constant(1, x.shape, dt, x.device))
    if e == 2:
        return bind(P["mul"], x, x)
    if e == 0.5 and dt.category == D.FLOAT:
        return bind(P["sqrt"], x)
    if e == -1 and dt.category == D.FLOAT:
        return bind(P["recip"], x)
    return binary("pow", x, e)


def float_power(a, b):
    a = cast(a, D.float64) if isinstance(a, Tensor) else a
    b = cast(b, D.float64) if isinstance(b, Tensor) else b
    return pow(a, b)


def neg(x):
    if x.dtype is D.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return bind(P["neg"], x)


negative = neg


def abs(x):
    return bind(P["abs"], x)


absolute = abs


def sign(x):
    return bind(P["sign"], x)


def sgn(x):
    return sign(x)


def _rounding(name):
    def f(x):
        if x.dtype.category != D.FLOAT:
            return x.clone() if hasattr(x, "clone") else x
        return bind(P[name], x)
    f.__name__ = name
    return f


floor, ceil, trunc = _rounding("floor"), _rounding("ceil"), _rounding("trunc")
fix = trunc


def round(x, *, decimals=0):
    if x.dtype.category != D.FLOAT:
        return x.clone()
    if decimals == 0:
        return bind(P["round"], x)
    s = 10.0 ** decimals
    return div(bind(P["round"], mul(x, s)), s)


def frac(x):
    return sub(x, trunc(x))


def _float_unary(name):
    def f(x):
        return unary_float(name, x)
    f.__name__ = name
    return f


exp, expm1, log, log1p, sqrt, sin, cos, tanh, erf = map(
    _float_unary, ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tanh", "erf"))


def reciprocal(x):
    return unary_float("recip", x)


def _float(x):
    return x if x.dtype.category == D.FLOAT else cast(x, get_default_dtype())


def rsqrt(x):
    return _named(reciprocal(sqrt(x)), "RsqrtBackward0", x)


def square(x):
    return mul(x, x)


def exp2(x):
    # pow, not exp(x * ln 2): rounding x * ln 2 costs |x| ulps (12% at x = 88 in bfloat16)
    return binary("pow", 2.0, _float(x))


def log2(x):
    return div(log(x), _math.log(2.0))


def log10(x):
    return div(log(x), _math.log(10.0))


def tan(x):
    x = _float(x)
    return div(sin(x), cos(x))


def sinh(x):
    x = _float(x)
    return div(sub(exp(x), exp(neg(x))), 2.0)


def cosh(x):
    x = _float(x)
    return div(add(exp(x), exp(neg(x))), 2.0)


def erfc(x):
    x = _float(x)
    return rsub(erf(x), 1.0)


def sigmoid(x):
    """1 / (1 + exp(-x)): saturates cleanly to 0 and 1 (exp overflows to inf, 1/inf = 0)."""
    x = x if x.dtype.category == D.FLOAT else cast(x, get_default_dtype())
    return _named(reciprocal(add(exp(neg(x)), 1.0)), "SigmoidBackward0", x)


def logit(x, eps=None):
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return log(div(x, rsub(x, 1.0)))


def relu(x):
    """where(x <= 0, 0, x): relu'(0) = 0 as in PyTorch (maximum would split the tie), and
    nan stays nan (a comparison with nan is false)."""
    return _named(where(le(x, 0), 0, x), "ReluBackward0", x)


def hypot(a, b):
    """sqrt(a^2 + b^2) without overflow or underflow in the squares (scaled by the larger
    magnitude); an infinite operand gives inf even when the other is nan (C's hypot)."""
    a, b = abs(a), abs(b)
    m, n = maximum(a, b), minimum(a, b)
    safe = where(logical_or(eq(m, 0), isinf(m)), 1.0, m)
    q = div(n, safe)
    r = mul(m, sqrt(add(mul(q, q), 1.0)))
    return where(logical_or(isinf(a), isinf(b)), float("inf"), r)


def lerp(start, end, weight):
    return add(start, mul(weight, sub(end, start)))


def logaddexp(a, b):
    m = maximum(a, b)
    # equal operands (also two equal infinities, whose difference is nan) differ by 0
    d = where(eq(a, b), 0.0, abs(sub(a, b)))
    return add(m, log1p(exp(neg(d))))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    fi = D.finfo(x.dtype) if x.dtype.category == D.FLOAT else None
    if fi is None:
        return x.clone()
    posinf = float(fi.max) if posinf is None else posinf
    neginf = float(fi.min) if neginf is None else neginf
    x = where(isnan(x), nan, x)
    x = where(eq(x, float("inf")), posinf, x)
    return where(eq(x, float("-inf")), neginf, x)


# ---- comparisons and logic
def _cmp(name):
    def f(a, b):
        return binary(name, a, b)
    f.__name__ = name
    return f


eq, ne, lt, le, gt, ge = map(_cmp, ("eq", "ne", "lt", "le", "gt", "ge"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(a, b):
    """True when the tensors have one shape and equal elements (a Python bool)."""
    return tuple(a.shape) == tuple(b.shape) and bool(all_(eq(a, b)))


def all_(x):
    from .reduce import all as _all
    return _all(x)


def isnan(x):
    return ne(x, x)


def isinf(x):
    if x.dtype.category != D.FLOAT:
        return ne(x, x)  # integers are never infinite
    return eq(abs(x), float("inf"))


def isfinite(x):
    if x.dtype.category != D.FLOAT:
        return eq(x, x)
    return logical_not(logical_or(isnan(x), isinf(x)))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    # infinities are close only to themselves: |inf - (-inf)| <= inf must not count
    close = logical_and(le(abs(sub(a, b)), add(mul(abs(b), rtol), atol)),
                        logical_and(isfinite(a), isfinite(b)))
    close = logical_or(close, eq(a, b))
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(all_(isclose(a, b, rtol, atol, equal_nan)))


def _as_bool(x):
    return x if x.dtype is D.bool_ else ne(x, 0)


def logical_not(x):
    return bind(P["logical_not"], x)


def logical_and(a, b):
    return bind(P["and"], *coerce((_as_bool(a), _as_bool(b)), D.bool_))


def logical_or(a, b):
    return bind(P["or"], *coerce((_as_bool(a), _as_bool(b)), D.bool_))


def logical_xor(a, b):
    return bind(P["xor"], *coerce((_as_bool(a), _as_bool(b)), D.bool_))


def _bitwise(name):
    def f(a, b):
        dt = result_type(a, b)
        if dt.category == D.FLOAT:
            raise TypeError(f"bitwise_{name}: not defined for floating dtypes ({dt!r})")
        return bind(P[name], *coerce((a, b), dt))
    return f


bitwise_and, bitwise_or, bitwise_xor = _bitwise("and"), _bitwise("or"), _bitwise("xor")


def bitwise_not(x):
    if x.dtype is D.bool_:
        return logical_not(x)
    if x.dtype.category == D.FLOAT:
        raise TypeError("bitwise_not: not defined for floating dtypes")
    return sub(neg(x), 1)


def _is_bool(x):
    return isinstance(x, Tensor) and x.dtype is D.bool_


# ---- selection
def where(condition, a=None, b=None):
    if a is None and b is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    cond = _as_bool(condition)
    dt = result_type(a, b)
    tensors = [t for t in (cond, a, b) if isinstance(t, Tensor)]
    from ..promotion import broadcast_shapes
    shape = broadcast_shapes(*(t.shape for t in tensors))
    from ..dispatch import broadcast_to
    c = broadcast_to(cond, shape)
    dev = cond.device
    x = _operand(a, dt, shape, dev)
    y = _operand(b, dt, shape, dev)
    return bind(P["where"], c, x, y)


def _operand(v, dt, shape, dev):
    from ..dispatch import broadcast_to
    if isinstance(v, Tensor):
        return broadcast_to(cast(v, dt), shape)
    return constant(v, shape, dt, dev)


def maximum(a, b):
    return binary("maximum", a, b)


def minimum(a, b):
    return binary("minimum", a, b)


def fmax(a, b):
    """Like maximum, but a nan loses to a number (C's fmax). The gradient goes to ``a`` where
    a >= b or b is nan, else to ``b``: no tie split (PyTorch's fmax backward)."""
    return where(logical_or(ge(a, b), isnan(b)), a, b)


def fmin(a, b):
    """Like minimum, but a nan loses to a number; ties send the gradient to ``a``."""
    return where(logical_or(le(a, b), isnan(b)), a, b)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    # where, not maximum/minimum: x gets the whole gradient on the closed range [min, max]
    # and a bound only where it is strictly active (PyTorch's clamp backward, no tie split)
    out = x
    if min is not None:
        out = where(lt(out, min), min, out)
    if max is not None:
        out = where(gt(out, max), max, out)
    if isinstance(min, (int, float)) and isinstance(max, (int, float)) and min > max:
        out = where(eq(x, x), max, out)  # PyTorch: min > max sets everything to max
    tensor_bound = isinstance(min, Tensor) or isinstance(max, Tensor)
    return _named(out, "ClampBackward0" if tensor_bound else "ClampBackward1", x)


clip = clamp


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


def masked_fill(x, mask, value):
    if mask.dtype is not D.bool_:
        raise RuntimeError(f"masked_fill: expected a bool mask, got {mask.dtype!r}")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.dim()} dimension(s).")
        value = cast(value, x.dtype)
    out = where(mask, value, x)
    if out.dtype is not x.dtype:
        out = cast(out, x.dtype)
    if tuple(out.shape) != tuple(x.shape):
        raise RuntimeError(f"masked_fill: mask of shape {tuple(mask.shape)} broadcasts the "
                           f"input {tuple(x.shape)} to {tuple(out.shape)}")
    return out
