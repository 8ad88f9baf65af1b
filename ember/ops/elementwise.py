"""Elementwise primitives: one table row each (name, kernel, VJP, dtype rule, doc).

Binary primitives take two inputs of the *same* shape and dtype: dispatch has already
broadcast (``expand``) and promoted (``cast``). Comparisons return bool.
"""
from __future__ import annotations

import math

from . import dtypes as _dt
from . import lax as L
from .registry import ELEMENTWISE, ShapeError, defprim

_FLOAT, _ANY, _BOOL_OR_INT, _NUMERIC = "float", "any", "bool_or_int", "numeric"


def _check_dtype(name, d, rule):
    if rule == _FLOAT and d.category != _dt.FLOAT:
        raise TypeError(f"{name}: expected a floating-point input, got {d!r} "
                        f"(dispatch casts integer inputs to the default float dtype)")
    if rule == _NUMERIC and d is _dt.bool_:
        raise TypeError(f"{name}: not defined for {d!r}")
    if rule == _BOOL_OR_INT and d.category == _dt.FLOAT:
        raise TypeError(f"{name}: expected a bool or integer input, got {d!r}")


def _unary_meta(name, rule, out_dtype=None):
    def meta(shapes, dtypes):
        (d,) = dtypes
        _check_dtype(name, d, rule)
        return shapes[0], out_dtype or d
    return meta


def _binary_meta(name, rule, out_dtype=None):
    def meta(shapes, dtypes):
        (sa, sb), (da, db) = shapes, dtypes
        if sa != sb:
            raise ShapeError(f"{name}: operands must have the same shape after broadcasting, "
                             f"got {sa} and {sb}")
        if da is not db:
            raise TypeError(f"{name}: operands must have one dtype (dispatch inserts casts), "
                            f"got {da!r} and {db!r}")
        _check_dtype(name, da, rule)
        return sa, out_dtype or da
    return meta


def _zero_grad(g, out, *xs):
    return tuple(L.zeros_like(x) for x in xs)


def _k(fname):
    """An eager kernel that applies ``xp.<fname>`` keeping the input dtype."""
    def kernel(xp, *arrays):
        return getattr(xp, fname)(*arrays)
    return kernel


# ------------------------------------------------------------------ unary
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _sqrt_vjp(g, out, x):
    return (L.div(g, L.mul(out, L.scalar_like(out, 2))),)


def _recip_vjp(g, out, x):
    return (L.neg(L.mul(g, L.mul(out, out))),)


def _tanh_vjp(g, out, x):
    return (L.mul(g, L.sub(L.scalar_like(out, 1), L.mul(out, out))),)


def _erf_vjp(g, out, x):
    d = L.mul(L.exp(L.neg(L.mul(x, x))), L.scalar_like(x, _TWO_OVER_SQRT_PI))
    return (L.mul(g, d),)


def _sign_kernel(xp, x):
    if x.dtype.kind in "fV":  # sign(nan) = 0, as PyTorch
        return xp.where(xp.isnan(x), xp.zeros((), x.dtype), xp.sign(x))
    return xp.sign(x)


def _round_kernel(xp, x):  # round half to even, as torch.round
    return xp.round(x)


UNARY = [
    # name, kernel, vjp, dtype rule, uses_output, doc
    ("neg", _k("negative"), lambda g, out, x: (L.neg(g),), _NUMERIC, False, "-x"),
    ("exp", _k("exp"), lambda g, out, x: (L.mul(g, out),), _FLOAT, True, "e**x"),
    ("expm1", _k("expm1"), lambda g, out, x: (L.mul(g, L.add(out, L.scalar_like(out, 1))),),
     _FLOAT, True, "e**x - 1, accurate near 0"),
    ("log", _k("log"), lambda g, out, x: (L.div(g, x),), _FLOAT, False, "natural log"),
    ("log1p", _k("log1p"), lambda g, out, x: (L.div(g, L.add(x, L.scalar_like(x, 1))),),
     _FLOAT, False, "log(1 + x), accurate near 0"),
    ("sqrt", _k("sqrt"), _sqrt_vjp, _FLOAT, True, "square root"),
    ("recip", lambda xp, x: xp.divide(xp.ones((), x.dtype), x), _recip_vjp, _FLOAT, True, "1 / x"),
    ("sin", _k("sin"), lambda g, out, x: (L.mul(g, L.cos(x)),), _FLOAT, False, "sine"),
    ("cos", _k("cos"), lambda g, out, x: (L.neg(L.mul(g, L.sin(x))),), _FLOAT, False, "cosine"),
    ("tanh", _k("tanh"), _tanh_vjp, _FLOAT, True, "hyperbolic tangent"),
    ("erf", lambda xp, x: xp.erf(x), _erf_vjp, _FLOAT, False, "error function"),
    ("abs", _k("abs"), lambda g, out, x: (L.mul(g, L.sign(x)),), _NUMERIC, False,
     "|x|; abs'(0) = 0 as in PyTorch"),
    ("sign", _sign_kernel, _zero_grad, _NUMERIC, False, "sign(x) in {-1, 0, 1}; sign(nan) = 0"),
    ("floor", _k("floor"), _zero_grad, _NUMERIC, False, "round toward -inf"),
    ("ceil", _k("ceil"), _zero_grad, _NUMERIC, False, "round toward +inf"),
    ("round", _round_kernel, _zero_grad, _NUMERIC, False, "round half to even"),
    ("trunc", _k("trunc"), _zero_grad, _NUMERIC, False, "round toward 0"),
    ("logical_not", lambda xp, x: xp.logical_not(x), None, _ANY, False, "not x (bool result)"),
]

# which inputs each VJP reads (the rest are kept as shapes only, as eager PyTorch saves)
_SAVES = {"neg": False, "exp": False, "expm1": False, "sqrt": False, "recip": False,
          "tanh": False, "sign": False, "floor": False, "ceil": False, "round": False,
          "trunc": False, "add": False, "sub": False, "floordiv": False, "div": (1,)}

for _name, _kern, _vjp, _rule, _uo, _doc in UNARY:
    defprim(_name, kind=ELEMENTWISE, eager=_kern, vjp=_vjp, uses_output=_uo, doc=_doc, nargs=1,
            saves_inputs=_SAVES.get(_name, True),
            meta=_unary_meta(_name, _rule, _dt.bool_ if _name == "logical_not" else None))


# ------------------------------------------------------------------ binary

def _div_vjp(g, out, a, b):
    ga = L.div(g, b)
    return ga, L.neg(L.mul(ga, out))


def _pow_vjp(g, out, a, b):
    zero = L.zeros_like(a)
    one = L.scalar_like(b, 1)
    ga = L.where(L.eq(b, L.zeros_like(b)), zero, L.mul(g, L.mul(b, L.pow_(a, L.sub(b, one)))))
    if dtype_is_float(b):
        gb = L.where(L.eq(a, zero), L.zeros_like(b), L.mul(g, L.mul(out, L.log(a))))
    else:
        gb = None
    return ga, gb


def dtype_is_float(v):
    return L.dtype_of(v).category == _dt.FLOAT


def _minmax_vjp(cmp):
    def vjp(g, out, a, b):
        half = L.div(g, L.scalar_like(g, 2))
        zero = L.zeros_like(g)
        ties = L.eq(a, b)
        ga = L.where(cmp(a, b), g, L.where(ties, half, zero))
        gb = L.where(cmp(b, a), g, L.where(ties, half, zero))
        return ga, gb
    return vjp


def _floordiv_kernel(xp, a, b):
    if a.dtype.kind in "iu":  # integer division by zero yields 0 rather than trapping
        with xp.errstate(divide="ignore"):
            return xp.floor_divide(a, b)
    return xp.floor_divide(a, b)


def _pow_kernel(xp, a, b):
    if a.dtype.kind in "iu" and (b < 0).any():
        raise ValueError("pow: integers to negative integer powers are not allowed")
    return xp.power(a, b)


def _bitwise(logical, bitwise):
    def kernel(xp, a, b):
        return getattr(xp, logical if a.dtype == bool else bitwise)(a, b)
    return kernel


BINARY = [
    ("add", _k("add"), lambda g, out, a, b: (g, g), _ANY, False, "a + b (logical or for bool)"),
    ("sub", _k("subtract"), lambda g, out, a, b: (g, L.neg(g)), _NUMERIC, False, "a - b"),
    ("mul", _k("multiply"), lambda g, out, a, b: (L.mul(g, b), L.mul(g, a)), _ANY, False, "a * b"),
    ("div", _k("divide"), _div_vjp, _FLOAT, True, "a / b (true division, floats only)"),
    ("floordiv", _floordiv_kernel, _zero_grad, _NUMERIC, False,
     "floor(a / b); integer division by zero gives 0"),
    ("pow", _pow_kernel, _pow_vjp, _NUMERIC, True, "a ** b"),
    ("maximum", _k("maximum"), _minmax_vjp(L.gt), _ANY, False,
     "elementwise max, nan-propagating; ties split the gradient"),
    ("minimum", _k("minimum"), _minmax_vjp(L.lt), _ANY, False,
     "elementwise min, nan-propagating; ties split the gradient"),
    ("and", _bitwise("logical_and", "bitwise_and"), None, _BOOL_OR_INT, False, "a & b"),
    ("or", _bitwise("logical_or", "bitwise_or"), None, _BOOL_OR_INT, False, "a | b"),
    ("xor", _bitwise("logical_xor", "bitwise_xor"), None, _BOOL_OR_INT, False, "a ^ b"),
]
COMPARE = [("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
           ("gt", "greater"), ("ge", "greater_equal")]

for _name, _kern, _vjp, _rule, _uo, _doc in BINARY:
    defprim(_name, kind=ELEMENTWISE, eager=_kern, vjp=_vjp, uses_output=_uo, doc=_doc, nargs=2,
            saves_inputs=_SAVES.get(_name, True),
            meta=_binary_meta(_name, _rule))
for _name, _np in COMPARE:
    defprim(_name, kind=ELEMENTWISE, eager=_k(_np), vjp=None, nargs=2,
            meta=_binary_meta(_name, _ANY, _dt.bool_), doc=f"comparison {_name} (bool result)")


# ------------------------------------------------------------------ where, cast

def _where_meta(shapes, dtypes):
    (sc, sa, sb), (dc, da, db) = shapes, dtypes
    if not (sc == sa == sb):
        raise ShapeError(f"where: condition and operands must have one shape after "
                         f"broadcasting, got {sc}, {sa} and {sb}")
    if dc is not _dt.bool_:
        raise TypeError(f"where: condition must be bool, got {dc!r}")
    if da is not db:
        raise TypeError(f"where: operands must have one dtype, got {da!r} and {db!r}")
    return sa, da


def _where_vjp(g, out, c, a, b):
    z = L.zeros_like(g)
    return None, L.where(c, g, z), L.where(c, z, g)


defprim("where", kind=ELEMENTWISE, meta=_where_meta, nargs=3, saves_inputs=(0,),
        eager=lambda xp, c, a, b: xp.select(c, a, b), vjp=_where_vjp,
        doc="c ? a : b, elementwise")


def _cast_meta(shapes, dtypes, dtype):
    _dt.require_known(dtype)
    return shapes[0], dtype


def _cast_kernel(xp, x, dtype):
    if dtype.category == _dt.INT and _dt.from_numpy(x.dtype).category == _dt.FLOAT:
        # float -> int saturates (and nan -> 0) instead of numpy's undefined wrap-around
        info = xp.iinfo(dtype.np)
        with xp.errstate(invalid="ignore"):
            y = xp.trunc(xp.where(xp.isnan(x), 0, x))
            # float(int64 max) rounds up to 2**63, which would wrap: saturate by mask instead
            big, small = y >= float(info.max), y <= float(info.min)
            y = xp.where(big | small, 0, y).astype(dtype.np)
            y = xp.where(big, dtype.np.type(info.max), y)
            return xp.where(small, dtype.np.type(info.min), y)
    return x.astype(dtype.np)


def _cast_vjp(g, out, x, dtype):
    src = L.dtype_of(x)
    if src.category != _dt.FLOAT:
        return (None,)
    return (L.cast(g, src),)


defprim("cast", kind=ELEMENTWISE, meta=_cast_meta, eager=_cast_kernel, vjp=_cast_vjp, nargs=1,
        saves_inputs=False,
        grad_name="ToCopyBackward0",
        doc="convert to ``dtype``; float->int truncates toward 0 and saturates, nan -> 0")
