"""The per-primitive renderer table: how each kernel-IR operator becomes LLVM IR.

Values arrive in their *compute* type (irutil.COMPUTE: bool is i1, half precision is
float). One entry per (operator, kind) where kind is "f" (float), "i" (signed int), "u"
(uint8) or "b" (bool). Numerics follow PyTorch/ember eager: floor semantics for ``//`` and
``%``, integer division by zero gives 0 and never traps (INT_MIN // -1 wraps), float->int
casts saturate with nan -> 0, maximum/minimum propagate nan (llvm.maximum, not maxnum).
"""
from __future__ import annotations

import math

import llvmlite.ir as ir

from . import vecmath
from .irutil import COMPUTE, F32, F64, I1, I16, I32, FMath, intrinsic, suffix

FLOAT_UNARY_VM = set(vecmath.FUNCTIONS)


def kind_of(dtype):
    if dtype in ("float16", "bfloat16", "float32", "float64"):
        return "f"
    if dtype == "bool":
        return "b"
    return "u" if dtype == "uint8" else "i"


def _zero(ty):
    return ir.Constant(ty, 0.0 if isinstance(ty, (ir.FloatType, ir.DoubleType)) else 0)


def _const(ty, v):
    return ir.Constant(ty, float(v) if isinstance(ty, (ir.FloatType, ir.DoubleType)) else int(v))


# ------------------------------------------------------------------ float

def _f_unary(b, name, x):
    m = FMath(b, x.type)
    if name in FLOAT_UNARY_VM:
        return vecmath.call(b, name, x)
    if name == "neg":
        return m.neg(x)
    if name == "sqrt":
        return m.sqrt(x)
    if name == "rsqrt":
        return m.div(m.k(1.0), m.sqrt(x))
    if name == "recip":
        return m.div(m.k(1.0), x)
    if name == "abs":
        return m.fabs(x)
    if name == "sign":  # nan -> nan, +-0 kept
        one = m.k(1.0)
        return m.sel(m.gt(x, m.k(0.0)), one, m.sel(m.lt(x, m.k(0.0)), m.neg(one), x))
    if name in ("floor", "ceil", "trunc"):
        return m.un(name, x)
    if name == "round":
        return m.rint(x)
    if name == "logical_not":
        return b.fcmp_ordered("==", x, m.k(0.0))
    raise NotImplementedError(f"LLVM renderer: no float kernel for unary {name!r}")


def _f_floordiv(b, x, y):
    """numpy's npy_divmod, which PyTorch's floor division also follows."""
    m = FMath(b, x.type)
    mod = b.frem(x, y)
    div = m.div(m.sub(x, mod), y)
    fix = b.and_(b.fcmp_unordered("!=", mod, m.k(0.0)),
                 b.xor(m.lt(y, m.k(0.0)), m.lt(mod, m.k(0.0))))
    div = m.sel(fix, m.sub(div, m.k(1.0)), div)
    fl = m.floor(div)
    fl = m.sel(m.gt(m.sub(div, fl), m.k(0.5)), m.add(fl, m.k(1.0)), fl)
    res = m.sel(m.eq(div, m.k(0.0)), m.copysign(m.k(0.0), m.div(x, y)), fl)
    return m.sel(m.eq(y, m.k(0.0)), m.div(x, y), res)


def _f_remainder(b, x, y):
    m = FMath(b, x.type)
    mod = b.frem(x, y)
    fix = b.and_(b.fcmp_unordered("!=", mod, m.k(0.0)),
                 b.xor(m.lt(y, m.k(0.0)), m.lt(mod, m.k(0.0))))
    mod = m.sel(fix, m.add(mod, y), mod)
    return m.sel(m.eq(mod, m.k(0.0)), m.copysign(m.k(0.0), y), mod)


_FCMP = {"eq": "==", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_F_ARITH = {"add": FMath.add, "sub": FMath.sub, "mul": FMath.mul, "div": FMath.div}


def _f_binary(b, name, x, y):
    m = FMath(b, x.type)
    if name in _F_ARITH:
        return _F_ARITH[name](m, x, y)
    if name in ("maximum", "minimum"):
        # numpy (= eager) semantics exactly: nan from either side wins, ties return y (so
        # maximum(-0., 0.) is 0. and maximum(0., -0.) is -0., as np.maximum). The inner
        # select is one vmaxps/vminps.
        better = m.gt(x, y) if name == "maximum" else m.lt(x, y)
        return m.sel(m.isnan(x), x, m.sel(better, x, y))
    if name == "pow":  # general case; constant exponents never get here (pow_const)
        return intrinsic(b, "pow", x.type, [x, y])
    if name == "floordiv":
        return _f_floordiv(b, x, y)
    if name == "remainder":
        return _f_remainder(b, x, y)
    if name in _FCMP:
        return b.fcmp_ordered(_FCMP[name], x, y)
    if name == "ne":
        return b.fcmp_unordered("!=", x, y)
    raise NotImplementedError(f"LLVM renderer: no float kernel for binary {name!r}")


def pow_const(b, x, c, kind):
    """x ** c for a compile-time constant c: multiplications, sqrt and reciprocals where
    they are exact enough (<= 2 ulp), otherwise None (the caller uses the general pow)."""
    if kind != "f":
        if float(c).is_integer() and 0 <= c <= 4:
            return _ipow_small(b, x, int(c))
        return None
    m = FMath(b, x.type)
    if c == 0:
        return m.k(1.0)  # pow(nan, 0) == 1 as in C and PyTorch
    if c == 0.5 or c == -0.5:
        r = m.add(m.sqrt(x), m.k(0.0))                       # sqrt(-0) = -0 but pow gives +0
        r = m.sel(m.eq(x, m.k(-math.inf)), m.k(math.inf), r)
        return r if c > 0 else m.div(m.k(1.0), r)
    if float(c).is_integer() and 1 <= abs(c) <= 4:
        n = int(abs(c))
        r = x if n == 1 else (m.mul(x, x) if n in (2, 4) else m.mul(m.mul(x, x), x))
        if n == 4:
            r = m.mul(r, r)
        return r if c > 0 else m.div(m.k(1.0), r)
    return None


def _ipow_small(b, x, n):
    if n == 0:
        return _const(x.type, 1)
    r = x
    for _ in range(n - 1):
        r = b.mul(r, x)
    return r


# ------------------------------------------------------------------ integer / bool

def _i_unary(b, name, x, kind):
    ty = x.type
    if kind == "b":
        if name == "logical_not":
            return b.xor(x, ir.Constant(I1, 1))
        if name in ("abs", "floor", "ceil", "round", "trunc"):
            return x
        raise NotImplementedError(f"LLVM renderer: {name!r} is not defined for bool")
    if name == "neg":
        return b.sub(_zero(ty), x)
    if name == "abs":
        return x if kind == "u" else intrinsic(b, "abs", ty, [x, ir.Constant(I1, 0)])
    if name == "sign":
        pos = b.icmp_signed(">", x, _zero(ty)) if kind == "i" else \
            b.icmp_unsigned(">", x, _zero(ty))
        neg = b.icmp_signed("<", x, _zero(ty)) if kind == "i" else ir.Constant(I1, 0)
        return b.select(pos, _const(ty, 1), b.select(neg, _const(ty, -1), _zero(ty)))
    if name in ("floor", "ceil", "round", "trunc"):
        return x
    if name == "logical_not":
        return b.icmp_signed("==", x, _zero(ty))
    raise NotImplementedError(f"LLVM renderer: no integer kernel for unary {name!r}")


def _i_divmod(b, x, y, kind, want_div):
    ty = x.type
    zero, one = _zero(ty), _const(ty, 1)
    y_zero = b.icmp_signed("==", y, zero)
    if kind == "u":
        ys = b.select(y_zero, one, y)
        res = b.udiv(x, ys) if want_div else b.urem(x, ys)
        return b.select(y_zero, zero, res)
    y_m1 = b.icmp_signed("==", y, _const(ty, -1))
    ys = b.select(b.or_(y_zero, y_m1), one, y)     # never divide by 0 or INT_MIN / -1
    q, r = b.sdiv(x, ys), b.srem(x, ys)
    fix = b.and_(b.icmp_signed("!=", r, zero), b.icmp_signed("<", b.xor(r, ys), zero))
    if want_div:
        res = b.select(fix, b.sub(q, one), q)
        res = b.select(y_m1, b.sub(zero, x), res)
    else:
        res = b.select(fix, b.add(r, ys), r)
        res = b.select(y_m1, zero, res)
    return b.select(y_zero, zero, res)


def _i_pow(b, x, y, kind):
    """Square-and-multiply over every exponent bit (branch-free). Negative exponents give
    the integer value of 1/x**|y| (1, +-1 for x = -1, else 0), never a trap."""
    ty = x.type
    one = _const(ty, 1)
    res, base, e = one, x, y
    for _ in range(ty.width):
        bit = b.trunc(b.and_(e, one), I1)
        res = b.select(bit, b.mul(res, base), res)
        base = b.mul(base, base)
        e = b.lshr(e, one)
    if kind == "u":
        return res
    neg = b.icmp_signed("<", y, _zero(ty))
    odd = b.trunc(b.and_(y, one), I1)
    inv = b.select(b.icmp_signed("==", x, one), one,
                   b.select(b.icmp_signed("==", x, _const(ty, -1)),
                            b.select(odd, _const(ty, -1), one), _zero(ty)))
    return b.select(neg, inv, res)


_ICMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
# IRBuilder methods: integers wrap; on bool (i1) mul/minimum are and, maximum is or
_I_ARITH = {"add": "add", "sub": "sub", "mul": "mul", "and": "and_", "or": "or_",
            "xor": "xor"}
_B_ARITH = {"mul": "and_", "and": "and_", "minimum": "and_", "or": "or_", "maximum": "or_",
            "xor": "xor"}


def _i_binary(b, name, x, y, kind):
    ty = x.type
    if name in _ICMP:
        return (b.icmp_signed if kind == "i" else b.icmp_unsigned)(_ICMP[name], x, y)
    if kind == "b":
        if name in _B_ARITH:
            return getattr(b, _B_ARITH[name])(x, y)
        raise NotImplementedError(f"LLVM renderer: {name!r} is not defined for bool")
    if name in _I_ARITH:
        return getattr(b, _I_ARITH[name])(x, y)
    if name in ("maximum", "minimum"):
        pre = ("s" if kind == "i" else "u") + ("max" if name == "maximum" else "min")
        return intrinsic(b, pre, ty, [x, y])
    if name == "floordiv":
        return _i_divmod(b, x, y, kind, True)
    if name == "remainder":
        return _i_divmod(b, x, y, kind, False)
    if name == "pow":
        return _i_pow(b, x, y, kind)
    raise NotImplementedError(f"LLVM renderer: no integer kernel for binary {name!r}")


def unary(b, name, x, dtype):
    k = kind_of(dtype)
    return _f_unary(b, name, x) if k == "f" else _i_unary(b, name, x, k)


def binary(b, name, x, y, dtype):
    k = kind_of(dtype)
    return _f_binary(b, name, x, y) if k == "f" else _i_binary(b, name, x, y, k)


# ------------------------------------------------------------------ casts, half precision

def round_to_storage(b, x, dtype):
    """A float32 compute value rounded to float16/bfloat16 precision (kept as float32)."""
    if dtype == "float16":
        return b.fpext(b.fptrunc(x, ir.HalfType()), F32)
    if dtype == "bfloat16":
        return bf16_to_f32(b, f32_to_bf16(b, x))
    return x


def f32_to_bf16(b, x):
    """Round to nearest even on the bits; nan stays a (quiet) nan."""
    bits = b.bitcast(x, I32)
    lsb = b.and_(b.lshr(bits, ir.Constant(I32, 16)), ir.Constant(I32, 1))
    rounded = b.lshr(b.add(bits, b.add(lsb, ir.Constant(I32, 0x7FFF))), ir.Constant(I32, 16))
    isnan = b.fcmp_unordered("uno", x, x)
    quiet = b.or_(b.lshr(bits, ir.Constant(I32, 16)), ir.Constant(I32, 0x40))
    return b.trunc(b.select(isnan, quiet, rounded), I16)


def bf16_to_f32(b, h):
    return b.bitcast(b.shl(b.zext(h, I32), ir.Constant(I32, 16)), F32)


def cast(b, x, src, dst):
    if src == dst:
        return x
    ks, kd = kind_of(src), kind_of(dst)
    tdst = COMPUTE[dst]
    if ks == "f":
        if kd == "f":
            if x.type != tdst:
                x = b.fpext(x, tdst) if tdst == F64 else b.fptrunc(x, tdst)
            return round_to_storage(b, x, dst)
        if kd == "b":
            return b.fcmp_unordered("!=", x, ir.Constant(x.type, 0.0))
        name = "fptoui.sat" if kd == "u" else "fptosi.sat"
        return intrinsic(b, name, tdst, [x], [suffix(tdst), suffix(x.type)])
    if ks == "b":
        if kd == "f":
            return round_to_storage(b, b.uitofp(x, tdst), dst)
        return b.zext(x, tdst)
    # integer source
    if kd == "b":
        return b.icmp_signed("!=", x, _zero(x.type))
    if kd == "f":
        v = b.uitofp(x, tdst) if ks == "u" else b.sitofp(x, tdst)
        return round_to_storage(b, v, dst)
    if tdst.width < x.type.width:
        return b.trunc(x, tdst)
    if tdst.width > x.type.width:
        return b.zext(x, tdst) if ks == "u" else b.sext(x, tdst)
    return x
