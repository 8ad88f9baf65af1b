"""Vector math written in LLVM IR: branch-free scalar functions (selects, FMAs, bit
tricks, vectorisable intrinsics) that are always inlined, so the loop vectoriser turns a
fused loop into SIMD code with no libm calls.

Accuracy contract (float32, measured by tests/test_vecmath.py against float64 numpy/scipy
rounded to float32, on dense sweeps of the whole float range plus special values):

=========  ===========  ====================================================================
function   max error    method
=========  ===========  ====================================================================
exp        <= 2 ulp     Cody-Waite ln2 split, degree-7 polynomial, 2**n applied in two
                        halves so subnormal results are rounded once, not flushed
expm1      <= 2 ulp     same reduction; 2**n * expm1(r) + (2**n - 1) (no cancellation)
log        <= 2 ulp     Cephes logf: mantissa in [sqrt(.5), sqrt(2)), degree-9 polynomial;
                        subnormal inputs are rescaled by 2**23 first
log1p      <= 2 ulp     log core on u = 1 + x plus the rounding correction (x - (u-1))/u
tanh       <= 2 ulp     |x| < 0.625: odd polynomial (no 1 - 2/(e+1) cancellation near 0);
                        otherwise 1 - 2/(exp(2|x|) + 1) with the sign restored
sigmoid    <= 2 ulp     e = exp(-|x|); 1/(1+e) or e/(1+e): one division, the rounding
                        error of 1+e corrected to first order
erf        <= 2 ulp     |x| < .875: x + x*P(x^2); < 1.75: polynomial in x; < 4: 1 -
                        exp(-x^2) * erfcx-polynomial; beyond: +-1 (coefficients fitted for
                        this file with float32 rounding accounted for)
sin, cos   <= 2 ulp     for |x| <= 1e4 (tested); argument reduction and polynomial in
           (|x|<=1e4)   float64 (3-part pi/2), rounded once to float32. The reduction stays
                        accurate up to |x| ~ 1.6e6 (2**20 quadrants); beyond that the error
                        grows with |x| (results stay in [-1, 1]); inf -> nan
=========  ===========  ====================================================================

Everywhere: nan in -> nan out, +-inf give the limits, the sign of zero is kept where the
function is odd. Subnormal results may flush with absolute error <= FLT_MIN (exp and sigmoid
below ~-87.3 round them properly anyway).

float64 uses LLVM intrinsics / glibc (exp, log, sin, cos, pow through ``llvm.*``; expm1,
log1p, tanh, erf by name): correctly rounded to < 1 ulp as glibc documents, but scalar calls
(not vectorised). float16/bfloat16 compute in float32 (casts at load/store).
"""
from __future__ import annotations

import math

from .irutil import F32, F64, FMath, declare, internal_function

LOG2E = 1.4426950408889634
# exp/expm1 polynomial for expm1(r) = r + r^2 * P(r) on |r| <= ln2/2 (Cephes expf)
EXP_P = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
         1.6666665459e-1, 5.0000001201e-1)
LN2_HI, LN2_LO = 0.693359375, -2.12194440e-4
# Cephes logf
LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
         1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
         3.3333331174e-1)
SQRTHF = 0.707106781186547524
# Cephes tanhf, |x| < 0.625
TANH_P = (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
          -3.33332819422e-1)
# erf: fitted for this file (weighted minimax, greedy float32 rounding); low -> high degree
ERF_A = (0.12837916612625122, -0.3761262893676758, 0.11283621937036514,
         -0.026855282485485077, 0.0051906355656683445, -0.0008021723479032516,
         7.842241757316515e-05)                    # erf(x)/x - 1 in z = x^2, |x| < .875
ERF_B1 = (0.936568558216095, 0.20151852071285248, -0.26449039578437805, 0.16425833106040955,
          -0.019697969779372215, -0.03896879404783249, 0.02282816916704178,
          0.0009207212133333087, -0.006341980304569006, 0.0011988572077825665)  # x-1.3125
ERF_B2 = (0.18605369329452515, -0.05857807770371437, 0.01765371672809124,
          -0.0050788396038115025, 0.0017719605239108205, 4.479701237869449e-05,
          0.000338484940584749)                    # erfcx(x) in x - 2.875, 1.75 <= x < 4
# fdlibm 3-part pi/2 (33 + 33 + 53 bits)
PIO2_1, PIO2_2, PIO2_2T = 1.57079632673412561417e+00, 6.07710050630396597660e-11, \
    2.02226624879595063154e-21


def _exp_parts(m, x, lo, hi):
    """Shared exp reduction: returns (n as float, r, expm1(r)) for x clamped to [lo, hi]
    (nan mapped to hi so the integer conversions below never see poison; callers select
    nan back at the end)."""
    # written as x86 min/max patterns (one instruction each); nan maps to hi
    xc = m.sel(m.lt(x, m.k(hi)), x, m.k(hi))
    xc = m.sel(m.gt(xc, m.k(lo)), xc, m.k(lo))
    n = m.floor(m.fma(xc, m.k(LOG2E), m.k(0.5)))
    r = m.fma(n, m.k(-LN2_HI), xc)
    r = m.fma(n, m.k(-LN2_LO), r)
    em1 = m.fma(m.mul(r, r), m.horner(r, EXP_P), r)
    return n, r, em1


def _exp_core(b, x, lo=-104.0, hi=89.0):
    """exp without the final nan select (nan in gives a finite garbage value): for callers
    that select nan themselves. With the default range 2**n is applied in two halves
    (overflow to inf, subnormal results rounded once); callers whose arguments stay inside
    [-87.34, 88.3] pass that range and get the cheaper single scaling (below -87.34 the
    result is then about FLT_MIN instead of a subnormal: abs error <= FLT_MIN)."""
    m = FMath(b, F32)
    n, _, em1 = _exp_parts(m, x, lo, hi)
    p = m.add(em1, m.k(1.0))
    ni = b.fptosi(n, m.ity)
    if lo >= -87.34 and hi <= 88.3:
        return m.mul(p, m.pow2i(ni))
    n1 = b.ashr(ni, m.ki(1))
    n2 = b.sub(ni, n1)
    return m.mul(m.mul(p, m.pow2i(n1)), m.pow2i(n2))


def _exp_f32(b, x):
    m = FMath(b, F32)
    return m.sel(m.isnan(x), x, _exp_core(b, x))


def _expm1_f32(b, x):
    m = FMath(b, F32)
    n, _, em1 = _exp_parts(m, x, -30.0, 89.0)
    ni = b.fptosi(n, m.ity)
    small = b.icmp_signed("<", ni, m.ki(100))
    t = m.pow2i(b.select(small, ni, m.ki(100)))
    near = m.fma(t, em1, m.sub(t, m.k(1.0)))
    n1 = b.ashr(ni, m.ki(1))
    far = m.mul(m.mul(m.add(em1, m.k(1.0)), m.pow2i(n1)), m.pow2i(b.sub(ni, n1)))
    res = m.sel(small, near, far)
    res = m.sel(m.eq(x, m.k(0.0)), x, res)          # keeps -0
    return m.sel(m.isnan(x), x, res)


def _log_core(m, b, u, corr):
    """log(u) + corr for finite u > 0 (corr is a tiny additive correction)."""
    sub = m.lt(u, m.k(2.0 ** -126))
    us = m.sel(sub, m.mul(u, m.k(2.0 ** 23)), u)
    bits = m.to_bits(us)
    e = b.sub(b.lshr(bits, m.ki(23)), m.ki(126))
    mant = m.from_bits(b.or_(b.and_(bits, m.ki(0x807FFFFF)), m.ki(0x3F000000)))  # [0.5, 1)
    ef = b.sitofp(e, m.ty)
    ef = m.sel(sub, m.sub(ef, m.k(23.0)), ef)
    lowm = m.lt(mant, m.k(SQRTHF))
    ef = m.sel(lowm, m.sub(ef, m.k(1.0)), ef)
    f = m.sel(lowm, m.sub(m.add(mant, mant), m.k(1.0)), m.sub(mant, m.k(1.0)))
    z = m.mul(f, f)
    y = m.mul(m.mul(f, z), m.horner(f, LOG_P))
    y = m.fma(ef, m.k(LN2_LO), y)
    y = m.fma(z, m.k(-0.5), y)
    y = m.add(y, corr)
    r = m.add(f, y)
    return m.fma(ef, m.k(LN2_HI), r)


def _log_specials(m, x, res):
    res = m.sel(m.eq(x, m.k(0.0)), m.k(-math.inf), res)
    res = m.sel(m.eq(x, m.k(math.inf)), x, res)
    res = m.sel(m.lt(x, m.k(0.0)), m.k(math.nan), res)
    return m.sel(m.isnan(x), x, res)


def _log_f32(b, x):
    m = FMath(b, F32)
    safe = m.sel(m.gt(x, m.k(0.0)), x, m.k(1.0))
    safe = m.sel(m.eq(x, m.k(math.inf)), m.k(1.0), safe)
    return _log_specials(m, x, _log_core(m, b, safe, m.k(0.0)))


def _log1p_f32(b, x):
    m = FMath(b, F32)
    u = m.add(x, m.k(1.0))
    # the rounding error of u = 1 + x, exactly (Fast2Sum on the larger operand first)
    big = m.gt(u, m.k(2.0))
    corr = m.sel(big, m.sub(m.k(1.0), m.sub(u, x)), m.sub(x, m.sub(u, m.k(1.0))))
    ok = b.and_(m.gt(u, m.k(0.0)), m.lt(u, m.k(math.inf)))
    safe = m.sel(ok, u, m.k(1.0))
    corr = m.sel(ok, corr, m.k(0.0))
    res = _log_core(m, b, safe, m.div(corr, safe))
    res = _log_specials(m, u, res)
    res = m.sel(m.eq(x, m.k(0.0)), x, res)          # keeps -0
    return m.sel(m.isnan(x), x, res)


def _tanh_f32(b, x):
    m = FMath(b, F32)
    ax = m.fabs(x)
    z = m.mul(x, x)
    small = m.fma(m.mul(m.horner(z, TANH_P), z), x, x)
    axc = m.sel(m.gt(ax, m.k(9.5)), m.k(9.5), ax)
    e = _exp_core(b, m.add(axc, axc), 0.0, 19.0)
    big = m.sub(m.k(1.0), m.div(m.k(2.0), m.add(e, m.k(1.0))))
    big = m.copysign(big, x)
    res = m.sel(m.lt(ax, m.k(0.625)), small, big)
    res = m.sel(m.eq(x, m.k(0.0)), x, res)          # keeps -0
    return m.sel(m.isnan(x), x, res)


def _sigmoid_f32(b, x):
    m = FMath(b, F32)
    e = _exp_core(b, m.neg(m.fabs(x)))
    pos = m.ge(x, m.k(0.0))
    num = m.sel(pos, m.k(1.0), e)
    d = m.add(m.k(1.0), e)
    err = m.add(m.sub(m.k(1.0), d), e)             # d's rounding error, exact (Fast2Sum)
    s = m.div(num, d)
    rd = m.sel(pos, s, m.sub(m.k(1.0), s))         # ~1/d, only needed to a few bits
    res = m.fma(m.neg(s), m.mul(err, rd), s)        # num/(d + err) to first order
    return m.sel(m.isnan(x), x, res)


def _erf_f32(b, x):
    m = FMath(b, F32)
    ax = m.fabs(x)
    z = m.mul(x, x)
    small = m.fma(x, m.horner(z, ERF_A[::-1]), x)
    mid = m.horner(m.sub(ax, m.k(1.3125)), ERF_B1[::-1])
    axc = m.sel(m.gt(ax, m.k(4.0)), m.k(4.0), ax)
    axc = m.sel(m.isnan(ax), m.k(4.0), axc)
    q = m.horner(m.sub(axc, m.k(2.875)), ERF_B2[::-1])
    far = m.sub(m.k(1.0), m.mul(_exp_core(b, m.neg(m.mul(axc, axc))), q))
    big = m.sel(m.lt(ax, m.k(1.75)), mid, far)
    res = m.sel(m.lt(ax, m.k(0.875)), small, m.copysign(big, x))
    res = m.sel(m.eq(x, m.k(0.0)), x, res)          # keeps -0
    return m.sel(m.isnan(x), x, res)


def _sincos_f32(b, x, want_cos):
    d = FMath(b, F64)
    xd = b.fpext(x, F64)
    bad = b.fcmp_unordered("uno", d.sub(xd, xd), d.k(0.0))     # nan or inf
    xs = d.sel(bad, d.k(0.0), xd)
    k = d.rint(d.mul(xs, d.k(2.0 / math.pi)))
    r = d.fma(k, d.k(-PIO2_1), xs)
    r = d.fma(k, d.k(-PIO2_2), r)
    r = d.fma(k, d.k(-PIO2_2T), r)
    # past |x| ~ 1.6e6 the 3-part reduction degrades; keep r in range so results stay
    # bounded (and garbage-in-[-1, 1] rather than inf) for absurdly large arguments
    r = d.sel(d.gt(d.fabs(r), d.k(0.7854)), d.copysign(d.k(0.7854), r), r)
    q = b.fptosi(d.sub(k, d.mul(d.k(4.0), d.floor(d.mul(k, d.k(0.25))))), d.ity)
    r2 = d.mul(r, r)
    # Taylor to r^13 / r^14 on |r| <= pi/4: truncation < 1e-11 relative, far below float32
    s = d.fma(d.mul(r, r2), d.horner(r2, [1 / math.factorial(n) * (-1) ** (n // 2)
                                           for n in (13, 11, 9, 7, 5, 3)]), r)
    c = d.fma(r2, d.horner(r2, [1 / math.factorial(n) * (-1) ** (n // 2)
                                for n in (14, 12, 10, 8, 6, 4, 2)]), d.k(1.0))
    if want_cos:
        q = b.and_(b.add(q, d.ki(1)), d.ki(3))    # cos(x) = sin(x + pi/2)
    use_c = b.icmp_unsigned("!=", b.and_(q, d.ki(1)), d.ki(0))
    negate = b.icmp_unsigned(">=", q, d.ki(2))
    v = d.sel(use_c, c, s)
    v = d.sel(negate, d.neg(v), v)
    v = d.sel(bad, d.k(math.nan), v)
    if not want_cos:
        v = d.sel(d.eq(xd, d.k(0.0)), xd, v)       # keeps -0
    return b.fptrunc(v, F32)


def _sin_f32(b, x):
    return _sincos_f32(b, x, False)


def _cos_f32(b, x):
    return _sincos_f32(b, x, True)


# ------------------------------------------------------------------ float64

def _libm(name):
    def build(b, x):
        fn = declare(b.module, name, F64, [F64])
        return b.call(fn, [x])
    return build


def _intrinsic64(name):
    def build(b, x):
        return b.call(declare(b.module, f"llvm.{name}.f64", F64, [F64]), [x])
    return build


def _sigmoid_f64(b, x):
    m = FMath(b, F64)
    e = _intrinsic64("exp")(b, m.neg(m.fabs(x)))
    num = m.sel(m.ge(x, m.k(0.0)), m.k(1.0), e)
    return m.div(num, m.add(m.k(1.0), e))


_F32 = {"exp": _exp_f32, "expm1": _expm1_f32, "log": _log_f32, "log1p": _log1p_f32,
        "tanh": _tanh_f32, "sigmoid": _sigmoid_f32, "erf": _erf_f32, "sin": _sin_f32,
        "cos": _cos_f32}
_F64 = {"exp": _intrinsic64("exp"), "log": _intrinsic64("log"), "sin": _intrinsic64("sin"),
        "cos": _intrinsic64("cos"), "expm1": _libm("expm1"), "log1p": _libm("log1p"),
        "tanh": _libm("tanh"), "erf": _libm("erf"), "sigmoid": _sigmoid_f64}
FUNCTIONS = tuple(_F32)
LIBM_NAMES = ("expm1", "log1p", "tanh", "erf")   # float64 kernels link against libm


def call(b, name, x):
    """Emit ``name(x)`` for a float32 or float64 value (an inlined helper)."""
    if x.type == F32:
        fn = internal_function(b.module, f"ember.vm.{name}.f32", F32, [F32], _F32[name])
    elif x.type == F64:
        fn = internal_function(b.module, f"ember.vm.{name}.f64", F64, [F64], _F64[name])
    else:
        raise TypeError(f"vecmath.{name}: unsupported type {x.type}")
    return b.call(fn, [x])
