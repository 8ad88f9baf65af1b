"""Spec entries for the elementwise composites (``ember/frontend/functional/math.py``).

``op(m, ...)`` is written against the module ``m`` so the parity tests can run the same
call with torch; references are numpy in float64."""
from __future__ import annotations

import numpy as np

from . import refs
from .sampling import BINARY_SHAPES, Sample, arr
from .spec import (ALL, FLOATS, INTS, NUMERIC, SIGNED, OpSpec, binary, binary_samples,
                   scalar_samples, unary)

_FI = FLOATS + ("int32", "int64", "bool")     # float functions also take ints and bools
_EDGE = ([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0],)


_SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 1e30, -1e30]


def _u(name, ref, low=-2.0, high=2.0, dtypes=_FI, **kw):
    # every float function also meets nan, infinities, signed zeros and huge/tiny values
    kw["extra"] = tuple(kw.get("extra", ())) + (_SPECIAL,)
    if kw.get("out_dtype", "float") == "float":  # the float function of an int or bool input
        ref = (lambda f: lambda x: f(np.asarray(x, np.float64)))(ref)
    return unary(name, lambda m, x, _n=name: getattr(m, _n)(x), ref, low=low, high=high,
                 dtypes=dtypes, **kw)


def _sign_ref(x):
    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype)  # torch: sign(nan) = 0


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))     # exact form, no overflow


UNARY = [
    _u("exp", np.exp), _u("expm1", np.expm1),
    _u("log", np.log, 0.05, 3.0), _u("log1p", np.log1p, -0.9, 3.0),
    _u("sqrt", np.sqrt, 0.05, 3.0), _u("rsqrt", lambda x: 1 / np.sqrt(x), 0.05, 3.0),
    _u("sin", np.sin, -4, 4), _u("cos", np.cos, -4, 4), _u("tan", np.tan, -1.2, 1.2),
    _u("tanh", np.tanh, -3, 3), _u("sinh", np.sinh), _u("cosh", np.cosh),
    _u("erf", refs.erf_ref, -3, 3, extra=([0.0, -0.0, 5.0, -5.0, np.inf, -np.inf],)),
    _u("erfc", lambda x: 1 - refs.erf_ref(x), -3, 3),
    _u("exp2", np.exp2), _u("log2", np.log2, 0.05, 3.0), _u("log10", np.log10, 0.05, 3.0),
    _u("reciprocal", lambda x: 1 / x, avoid=(0.0,), dtypes=FLOATS),
    _u("sigmoid", _sigmoid, -6, 6, extra=([-800.0, -50.0, 0.0, 50.0, 800.0],)),
    _u("logit", lambda x: np.log(x / (1 - x)), 0.05, 0.95, dtypes=FLOATS),
    _u("neg", np.negative, dtypes=NUMERIC, out_dtype="same"),
    _u("abs", np.abs, dtypes=NUMERIC, out_dtype="same", avoid=(0.0,)),
    _u("sign", _sign_ref, dtypes=NUMERIC, out_dtype="same"),
    _u("sgn", _sign_ref, dtypes=NUMERIC, out_dtype="same"),
    _u("square", np.square, dtypes=NUMERIC, out_dtype="same"),
    _u("relu", lambda x: np.where(x <= 0, 0, x).astype(x.dtype), dtypes=NUMERIC, out_dtype="same",
       avoid=(0.0,)),
    _u("floor", np.floor, dtypes=NUMERIC, out_dtype="same", avoid=(-2, -1, 0, 1, 2)),
    _u("ceil", np.ceil, dtypes=NUMERIC, out_dtype="same", avoid=(-2, -1, 0, 1, 2)),
    _u("trunc", np.trunc, dtypes=NUMERIC, out_dtype="same", avoid=(-2, -1, 0, 1, 2)),
    _u("fix", np.trunc, dtypes=NUMERIC, out_dtype="same", avoid=(-2, -1, 0, 1, 2)),
    _u("round", np.round, dtypes=NUMERIC, out_dtype="same", avoid=(-1.5, -0.5, 0.5, 1.5),
       extra=([0.5, 1.5, 2.5, -0.5, -2.5],)),
    _u("frac", lambda x: x - np.trunc(x), dtypes=FLOATS, avoid=(-2, -1, 0, 1, 2)),
    _u("isnan", np.isnan, dtypes=ALL, out_dtype="bool", grad=(), extra=_EDGE),
    _u("isinf", np.isinf, dtypes=ALL, out_dtype="bool", grad=(), extra=_EDGE),
    _u("isfinite", np.isfinite, dtypes=ALL, out_dtype="bool", grad=(), extra=_EDGE),
    _u("logical_not", np.logical_not, dtypes=ALL, out_dtype="bool", grad=()),
    _u("bitwise_not", lambda x: np.logical_not(x) if x.dtype == bool else np.invert(x),
       dtypes=INTS + ("bool",), out_dtype="same", grad=()),
    OpSpec("round_decimals", lambda m, x, s: m.round(x, decimals=s),
           lambda x, s: np.round(x, s),
           scalar_samples((1, 2), avoid=()), dtypes=FLOATS,
           tol={"float32": (1e-6, 1e-6)}, grad=(0,), lowp=False,
           notes="x * 10**d is rounded in the input dtype (torch uses float32 for 2-byte "
                 "floats): bfloat16 results can be off by more than its epsilon"),
    OpSpec("nan_to_num", lambda m, x, **kw: m.nan_to_num(x, **kw),
           lambda x, **kw: np.nan_to_num(x, **kw),
           lambda rng, dtype: [Sample((np.array([np.nan, np.inf, -np.inf, 1.5, -2.0],
                                                dtype=dtype),),
                                      {"nan": 0.5, "posinf": 100.0, "neginf": -100.0}),
                               Sample((arr(rng, (2, 3), dtype),), {"nan": 0.0, "posinf": 1.0,
                                                                  "neginf": -1.0})],
           dtypes=FLOATS, grad=(0,)),
]


# ---------------------------------------------------------------- binary

def _nonzero_b(low=0.5, high=3.0, low_a=-3.0, high_a=3.0):
    """Operand b of either sign with |b| in [low, high] (divisors)."""
    def gen(rng, dtype):
        out = []
        for sa, sb in BINARY_SHAPES:
            a = arr(rng, sa, dtype, low_a, high_a)
            mag = arr(rng, sb, dtype, max(low, 1) if np.dtype(dtype).kind in "iu" else low, high)
            if np.dtype(dtype).kind == "u":
                b = mag
            else:
                b = (mag * np.where(rng.random(sb) < 0.5, -1, 1)).astype(dtype)
            out.append(Sample((a, b)))
        return out
    return gen


def _b(name, ref, dtypes=NUMERIC, **kw):
    return binary(name, lambda m, a, b, _n=name: getattr(m, _n)(a, b), ref, dtypes=dtypes, **kw)


def _np_logical(f):
    return lambda a, b: f(a != 0, b != 0)


def _np_bitwise(f, g):
    return lambda a, b: f(a, b) if a.dtype == bool else g(a, b)


def _floor_div_ref(a, b):
    return np.floor_divide(a, b)


def _trunc_div_ref(a, b):
    if a.dtype.kind in "iu":
        q = np.abs(a) // np.abs(b)
        return (q * np.sign(a) * np.sign(b)).astype(np.result_type(a, b))
    return np.trunc(a / b)


def _remainder_ref(a, b):
    return np.remainder(a, b)


def _fmod_ref(a, b):
    return np.fmod(a, b)


def _lerp_samples(rng, dtype):
    return [Sample((arr(rng, sa, dtype), arr(rng, sb, dtype), arr(rng, sw, dtype, 0, 1)))
            for sa, sb, sw in (((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()), ((), (4,), (4,)))]


def _divmod_op(name, mode):
    return lambda m, a, b: m.div(a, b, rounding_mode=mode)


BINARY = [
    _b("add", np.add, dtypes=ALL),
    _b("sub", np.subtract, dtypes=NUMERIC),
    _b("mul", np.multiply, dtypes=ALL),
    binary("add_alpha", lambda m, a, b: m.add(a, b, alpha=2), lambda a, b: a + 2 * b,
           dtypes=NUMERIC),
    binary("sub_alpha", lambda m, a, b: m.sub(a, b, alpha=3), lambda a, b: a - 3 * b,
           dtypes=SIGNED + FLOATS),
    binary("rsub", lambda m, a, b: m.rsub(a, b), lambda a, b: b - a, dtypes=NUMERIC),
    OpSpec("div", lambda m, a, b: m.div(a, b), lambda a, b: np.asarray(a, np.float64) / b,
           _nonzero_b(), dtypes=ALL[:-1], out_dtype="float", grad=(0, 1)),
    OpSpec("true_divide", lambda m, a, b: m.true_divide(a, b), lambda a, b: a / b,
           _nonzero_b(), dtypes=FLOATS, grad=(0, 1)),
    OpSpec("div_trunc", _divmod_op("div", "trunc"), _trunc_div_ref, _nonzero_b(),
           dtypes=NUMERIC, grad=()),
    OpSpec("div_floor", _divmod_op("div", "floor"), _floor_div_ref, _nonzero_b(),
           dtypes=NUMERIC, grad=()),
    OpSpec("floor_divide", lambda m, a, b: m.floor_divide(a, b), _floor_div_ref, _nonzero_b(),
           dtypes=NUMERIC, grad=()),
    OpSpec("remainder", lambda m, a, b: m.remainder(a, b), _remainder_ref, _nonzero_b(),
           dtypes=NUMERIC, grad=(0, 1), tol={"float32": (1e-5, 1e-5)}),
    OpSpec("fmod", lambda m, a, b: m.fmod(a, b), _fmod_ref, _nonzero_b(),
           dtypes=NUMERIC, grad=(0, 1), tol={"float32": (1e-5, 1e-5)}),
    _b("pow", np.power, dtypes=FLOATS, low=0.2, high=2.0, low_b=-1.5, high_b=2.0),
    OpSpec("pow_int", lambda m, a, b: m.pow(a, b), np.power,
           lambda rng, dtype: [Sample((arr(rng, sa, dtype, -2, 3), arr(rng, sb, dtype, 0, 3)))
                               for sa, sb in BINARY_SHAPES], dtypes=INTS, grad=()),
    OpSpec("pow_scalar", lambda m, x, s: m.pow(x, s), lambda x, s: np.power(x, s),
           scalar_samples((2, 3, 0.5, -1, 2.5, 0, 1, -2), 0.2, 2.0), dtypes=FLOATS),
    OpSpec("pow_scalar_int", lambda m, x, s: m.pow(x, s), lambda x, s: np.power(x, s),
           scalar_samples((0, 1, 2, 3), -3, 3), dtypes=INTS, grad=()),
    OpSpec("rpow_scalar", lambda m, x, s: m.pow(s, x), lambda x, s: np.power(s, x),
           scalar_samples((2.0, 0.5)), dtypes=FLOATS),
    OpSpec("float_power", lambda m, a, b: m.float_power(a, b), np.power,
           lambda rng, dtype: [Sample((arr(rng, (2, 3), dtype, 0.2, 2),
                                       arr(rng, (3,), dtype, -1, 2)))],
           dtypes=FLOATS, out_dtype="float64"),
    _b("maximum", np.maximum, dtypes=ALL, ties=True),
    _b("minimum", np.minimum, dtypes=ALL, ties=True),
    _b("hypot", np.hypot, dtypes=FLOATS, avoid_b=(0.0,)),
    OpSpec("logaddexp", lambda m, a, b: m.logaddexp(a, b), np.logaddexp,
           lambda rng, d: binary_samples(-30, 30, ties=True)(rng, d) + [Sample((
               np.array([-np.inf, np.inf, -np.inf, 1.0, np.inf], d),
               np.array([-np.inf, np.inf, 2.0, np.inf, -np.inf], d)), desc="edge")],
           grad=(0, 1)),
    OpSpec("lerp", lambda m, a, b, w: m.lerp(a, b, w), lambda a, b, w: a + w * (b - a),
           _lerp_samples, grad=(0, 1, 2)),
    OpSpec("lerp_scalar", lambda m, a, b, s: m.lerp(a, b, s), lambda a, b, s: a + s * (b - a),
           lambda rng, dtype: [Sample((arr(rng, (2, 3), dtype), arr(rng, (3,), dtype)),
                                      {"s": 0.3})], grad=(0, 1)),
] + [
    _b(n, f, dtypes=ALL, grad=(), out_dtype="bool", ties=True)
    for n, f in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                 ("gt", np.greater), ("ge", np.greater_equal))
] + [
    _b(n, _np_logical(f), dtypes=ALL, grad=(), out_dtype="bool")
    for n, f in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                 ("logical_xor", np.logical_xor))
] + [
    _b(n, _np_bitwise(f, g), dtypes=INTS + ("bool",), grad=())
    for n, f, g in (("bitwise_and", np.logical_and, np.bitwise_and),
                    ("bitwise_or", np.logical_or, np.bitwise_or),
                    ("bitwise_xor", np.logical_xor, np.bitwise_xor))
]


def _wrapping(f):
    """Integer results wrap around as in PyTorch (numpy refuses out-of-range scalars)."""
    def ref(x, s):
        if x.dtype.kind in "iu" and isinstance(s, int):
            return f(x.astype(np.int64), s).astype(x.dtype)
        return f(x, s)
    return ref


def _scalar_op(name, fn, ref, values, dtypes, out):
    ref = _wrapping(ref) if out == "same" else ref
    return OpSpec(name, fn, ref, scalar_samples(values, avoid=(0.0,)), dtypes=dtypes, out_dtype=out)


SCALAR = [
    _scalar_op("add_scalar_int", lambda m, x, s: m.add(x, s), lambda x, s: x + s, (2, -3),
               NUMERIC, "same"),
    _scalar_op("add_scalar_float", lambda m, x, s: m.add(x, s), lambda x, s: x + s, (2.5, -0.5),
               NUMERIC, "float"),
    _scalar_op("mul_scalar_int", lambda m, x, s: m.mul(x, s), lambda x, s: x * s, (3, -2),
               NUMERIC, "same"),
    _scalar_op("mul_scalar_float", lambda m, x, s: m.mul(x, s), lambda x, s: x * s, (0.5, -1.5),
               NUMERIC, "float"),
    _scalar_op("sub_scalar", lambda m, x, s: m.sub(x, s), lambda x, s: x - s, (1.5, -2),
               FLOATS, "same"),
    _scalar_op("div_scalar", lambda m, x, s: m.div(x, s), lambda x, s: np.asarray(x, float) / s,
               (2, -0.5), NUMERIC, "float"),
    _scalar_op("rdiv_scalar", lambda m, x, s: m.div(s, x), lambda x, s: s / x,
               (1.0, -3.0), FLOATS, "same"),
    _scalar_op("maximum_scalar_tensor", lambda m, x, s: m.maximum(x, m.tensor(s, dtype=x.dtype)),
               lambda x, s: np.maximum(x, s), (0.5,), FLOATS, "same"),
]


def _nan_pairs(rng, dtype):
    out = binary_samples(ties=True)(rng, dtype)
    if np.dtype(dtype).kind == "f":
        a = np.array([1.0, np.nan, np.nan, 2.0, -1.0, 0.5], dtype)
        b = np.array([np.nan, 3.0, np.nan, 2.0, 4.0, -0.5], dtype)
        out.append(Sample((a, b), desc="edge"))
    return out


def _isclose_samples(rng, dtype):
    a = arr(rng, (2, 3), dtype)
    out = [Sample((a, a + np.asarray(1e-9, dtype)), {}), Sample((a, arr(rng, (3,), dtype)), {})]
    if np.dtype(dtype).kind == "f":
        e = np.array([1.0, np.nan, np.inf, -np.inf, 1.0, 0.0], dtype)
        f = np.array([1.0 + 1e-7, np.nan, np.inf, np.inf, 1.1, 1e-9], dtype)
        out += [Sample((e, f), {}), Sample((e, f), {"equal_nan": True}),
                Sample((e, f), {"rtol": 0.2, "atol": 0.0})]
    return out


def _isclose_ref(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


EXTRA = [
    # at ties the gradient goes to a, not split (tests/test_ops_ties.py), so finite
    # differences skip the tie sample
    OpSpec("fmax", lambda m, a, b: m.fmax(a, b), np.fmax, _nan_pairs, dtypes=NUMERIC,
           grad=(0, 1), grad_filter=lambda s: s.desc != "ties"),
    OpSpec("fmin", lambda m, a, b: m.fmin(a, b), np.fmin, _nan_pairs, dtypes=NUMERIC,
           grad=(0, 1), grad_filter=lambda s: s.desc != "ties"),
    OpSpec("isclose", lambda m, a, b, **kw: m.isclose(a, b, **kw), _isclose_ref,
           _isclose_samples, dtypes=FLOATS + ("int64",), grad=(), out_dtype="bool"),
]


# ---------------------------------------------------------------- selection

def _where_samples(rng, dtype):
    return [Sample(((rng.random(sc) < 0.5), arr(rng, sa, dtype), arr(rng, sb, dtype)))
            for sc, sa, sb in (((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()), ((3,), (2, 1), (2, 3)),
                               ((), (2,), (2,)), ((0, 2), (2,), ()))]


def _clamp_samples(bounds, low=-1.5, high=1.5):
    def gen(rng, dtype):
        avoid = tuple(v for b in bounds for v in b if v is not None)
        return [Sample((arr(rng, s, dtype, low, high, avoid),), {"min": lo, "max": hi})
                for s in ((2, 3), (), (4,)) for lo, hi in bounds]
    return gen


def _clamp_ref(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def _clamp_tensor_samples(rng, dtype):
    return [Sample((arr(rng, (2, 3), dtype, -2, 2, (-0.5, 0.5)), np.full((3,), -0.5, dtype),
                    np.full((2, 1), 0.5, dtype))),
            Sample((arr(rng, (4,), dtype), arr(rng, (4,), dtype, -3, -2.5),
                    arr(rng, (), dtype, 2.5, 3)))]


def _masked_fill_samples(rng, dtype):
    return [Sample((arr(rng, sx, dtype), rng.random(sm) < 0.5), {"value": v})
            for sx, sm in (((2, 3), (2, 3)), ((2, 3), (3,)), ((4,), ()))
            for v in ((-1.5 if np.dtype(dtype).kind == "f" else -1), 0)]


SELECTION = [
    OpSpec("where", lambda m, c, a, b: m.where(c, a, b), lambda c, a, b: np.where(c, a, b),
           _where_samples, dtypes=ALL, grad=(1, 2)),
    OpSpec("where_scalar", lambda m, c, a: m.where(c, a, 0.0),
           lambda c, a: np.where(c, a, 0.0),
           lambda rng, d: [Sample(s.args[:2]) for s in _where_samples(rng, d)[:3]],
           dtypes=FLOATS, grad=(1,), notes="the third operand is the Python scalar 0.0"),
    OpSpec("clamp", lambda m, x, **kw: m.clamp(x, **kw), _clamp_ref,
           _clamp_samples(((-0.5, 0.5), (None, 0.3), (-0.3, None), (1.0, -1.0))),
           dtypes=FLOATS),
    OpSpec("clamp_int", lambda m, x, **kw: m.clamp(x, **kw), _clamp_ref,
           _clamp_samples(((-1, 1), (None, 0), (0, None)), -3, 3), dtypes=SIGNED, grad=()),
    OpSpec("clamp_tensor", lambda m, x, lo, hi: m.clamp(x, lo, hi),
           lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), _clamp_tensor_samples,
           grad=(0, 1, 2)),
    OpSpec("clamp_min", lambda m, x, **kw: m.clamp_min(x, kw["min"]),
           lambda x, **kw: np.maximum(x, kw["min"]), _clamp_samples(((0.2, None),))),
    OpSpec("clamp_max", lambda m, x, **kw: m.clamp_max(x, kw["max"]),
           lambda x, **kw: np.minimum(x, kw["max"]), _clamp_samples(((None, 0.2),))),
    OpSpec("masked_fill", lambda m, x, mask, value: m.masked_fill(x, mask, value),
           lambda x, mask, value: np.where(mask, value, x).astype(x.dtype),
           _masked_fill_samples, dtypes=NUMERIC, grad=(0,)),
]

SPECS = UNARY + BINARY + EXTRA + SCALAR + SELECTION
