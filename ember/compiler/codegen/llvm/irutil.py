"""Small llvmlite.ir helpers shared by the vector math, the op table and the renderer."""
from __future__ import annotations

import llvmlite.ir as ir

I1, I8, I16, I32, I64 = (ir.IntType(n) for n in (1, 8, 16, 32, 64))
F16, F32, F64 = ir.HalfType(), ir.FloatType(), ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()

# storage type of each dtype (bool is a byte in memory, i1 in registers; bfloat16 is kept
# as its 16 bits and widened by hand, which vectorises and needs no bfloat support)
STORAGE = {"bool": I8, "uint8": I8, "int8": I8, "int16": I16, "int32": I32, "int64": I64,
           "float16": F16, "bfloat16": I16, "float32": F32, "float64": F64}
# register (compute) type: half precision computes in float32
COMPUTE = {"bool": I1, "uint8": I8, "int8": I8, "int16": I16, "int32": I32, "int64": I64,
           "float16": F32, "bfloat16": F32, "float32": F32, "float64": F64}


def suffix(ty):
    if isinstance(ty, ir.FloatType):
        return "f32"
    if isinstance(ty, ir.DoubleType):
        return "f64"
    if isinstance(ty, ir.HalfType):
        return "f16"
    return f"i{ty.width}"


def declare(module, name, ret, args, attrs=()):
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ret, list(args)), name)
        for a in attrs:
            fn.attributes.add(a)
    return fn


def intrinsic(b, name, ret, args, suffixes=None):
    """Call ``llvm.<name>.<suffixes>`` (suffixes default to the first argument's type)."""
    tys = [a.type for a in args]
    sfx = ".".join(suffixes) if suffixes is not None else suffix(tys[0])
    fn = declare(b.module, f"llvm.{name}.{sfx}", ret, tys)
    return b.call(fn, list(args))


def internal_function(module, name, ret, args, build):
    """Get or define an internal always-inline helper; ``build(builder, *params)`` returns
    the result. Inlined into loops, so the loop vectoriser sees plain arithmetic."""
    fn = module.globals.get(name)
    if fn is not None:
        return fn
    fn = ir.Function(module, ir.FunctionType(ret, list(args)), name)
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    fn.attributes.add("nounwind")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    b.ret(build(b, *fn.args))
    return fn


class FMath:
    """Float arithmetic on one builder and type with fixed fast-math flags. The default
    flags allow FMA contraction only: no reassoc (it would fold Cody-Waite splits), no
    nnan/ninf (nan and inf must propagate), no arcp (reciprocal estimates cost ulps)."""

    def __init__(self, b, ty, flags=("contract",)):
        self.b, self.ty, self.flags = b, ty, tuple(flags)
        self.ity = I32 if isinstance(ty, ir.FloatType) else I64

    def k(self, v):
        return ir.Constant(self.ty, float(v))

    def ki(self, v):
        return ir.Constant(self.ity, int(v))

    def add(self, a, c): return self.b.fadd(a, c, flags=self.flags)
    def sub(self, a, c): return self.b.fsub(a, c, flags=self.flags)
    def mul(self, a, c): return self.b.fmul(a, c, flags=self.flags)
    def div(self, a, c): return self.b.fdiv(a, c, flags=self.flags)
    def neg(self, a): return self.b.fneg(a, flags=self.flags)

    def fma(self, a, c, d):
        return intrinsic(self.b, "fma", self.ty, [a, c, d])

    def horner(self, x, coeffs):
        """coeffs from highest to lowest degree, evaluated with FMAs."""
        acc = self.k(coeffs[0])
        for c in coeffs[1:]:
            acc = self.fma(acc, x, self.k(c))
        return acc

    def un(self, name, a):
        return intrinsic(self.b, name, self.ty, [a])

    def floor(self, a): return self.un("floor", a)
    def rint(self, a): return self.un("roundeven", a)
    def fabs(self, a): return self.un("fabs", a)
    def sqrt(self, a): return self.un("sqrt", a)

    def copysign(self, a, s):
        return intrinsic(self.b, "copysign", self.ty, [a, s])

    def sel(self, c, a, d): return self.b.select(c, a, d)
    def lt(self, a, c): return self.b.fcmp_ordered("<", a, c)
    def gt(self, a, c): return self.b.fcmp_ordered(">", a, c)
    def le(self, a, c): return self.b.fcmp_ordered("<=", a, c)
    def ge(self, a, c): return self.b.fcmp_ordered(">=", a, c)
    def eq(self, a, c): return self.b.fcmp_ordered("==", a, c)
    def isnan(self, a): return self.b.fcmp_unordered("uno", a, a)

    def to_bits(self, a): return self.b.bitcast(a, self.ity)
    def from_bits(self, i): return self.b.bitcast(i, self.ty)

    def pow2i(self, n_int):
        """2**n for an integer n in the normal exponent range (bit construction)."""
        bias, shift = (127, 23) if self.ity is I32 else (1023, 52)
        e = self.b.add(n_int, self.ki(bias))
        return self.from_bits(self.b.shl(e, self.ki(shift)))
