"""Accuracy of the LLVM backend's vector math (float32) against float64 numpy/scipy:
max ulp error on a sweep over the whole float32 range (every 8191st bit pattern), dense
sweeps where accuracy is hard (near 0, near the overflow/underflow edges, tanh's switch
point) and special values (nan, +-inf, +-0, subnormals, huge arguments)."""
import numpy as np
import pytest

pytest.importorskip("llvmlite")
from _helpers import erf64, expit64  # noqa: E402  (float64 references without scipy)

from ember.compiler import kernel_ir as K  # noqa: E402
from ember.compiler.codegen.llvm import JitProgram  # noqa: E402

N = 1 << 20   # sweep buffer length (one compiled size for every function)
FLT_MIN = float(np.finfo(np.float32).tiny)
REF = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
       "sigmoid": expit64, "erf": erf64, "sin": np.sin, "cos": np.cos}
BOUND = {f: 2.0 for f in REF}


def _kernel(fn):
    ps = (K.Param("x", "float32", (N,)), K.Param("y", "float32", (N,), "out"))
    x = K.Load(K.Access(0, (1,)), "float32")
    return K.Kernel(f"vm_{fn}", ps, (N,), (), (K.Store(K.Access(1, (1,)), K.op(fn, x)),))


def _binary_kernel(name, fn):
    ps = (K.Param("x", "float32", (N,)), K.Param("z", "float32", (N,)),
          K.Param("y", "float32", (N,), "out"))
    x, z = K.Load(K.Access(0, (1,)), "float32"), K.Load(K.Access(1, (1,)), "float32")
    return K.Kernel(name, ps, (N,), (), (K.Store(K.Access(2, (1,)), K.op(fn, x, z)),))


@pytest.fixture(scope="module")
def prog():
    ks = [_kernel(f) for f in REF] + [_binary_kernel("vm_pow", "pow"),
                                      _binary_kernel("vm_maximum", "maximum"),
                                      _binary_kernel("vm_minimum", "minimum")]
    return JitProgram(ks, num_threads=1)


def _apply(prog, name, *xs):
    bufs = []
    for x in xs:
        b = np.zeros(N, np.float32)
        b[:x.size] = x
        bufs.append(b)
    y = np.empty(N, np.float32)
    prog[name](*bufs, y)
    return y[:xs[0].size]


def ulp_errors(got, want):
    """|got - want| in units of the float32 spacing at the correctly rounded result;
    results below FLT_MIN may flush (abs error <= FLT_MIN counts as 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        w32 = want.astype(np.float32)
        nan_ok = np.isnan(got) == np.isnan(want)
        inf_ok = ~(np.isinf(w32) | np.isinf(got)) | (got == w32) | np.isnan(want)
        sp = np.spacing(np.abs(w32)).astype(np.float64)
        fin = np.isfinite(w32) & np.isfinite(got)
        err = np.where(fin, np.abs(got.astype(np.float64) - want) / sp, 0.0)
        err = np.where(fin & (np.abs(want) < FLT_MIN)
                       & (np.abs(got.astype(np.float64) - want) <= FLT_MIN), 0.0, err)
    return err, nan_ok & inf_ok


SPECIALS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, -1e-40,
                     FLT_MIN, -FLT_MIN, 1e-30, -1e-30, 3e38, -3e38, 88.72, 88.73, 89, -87.3,
                     -103.9, -104, -200, 0.625, -0.625, 0.875, -0.875, 1.75, 4, 9.5, -9.5,
                     0.5, -0.5, 1, -1, 2, np.pi, 1e4, -1e4], np.float32)


def _sweep(fn):
    bits = np.arange(0, 2 ** 32, 8191, dtype=np.uint64).astype(np.uint32)
    every = bits.view(np.float32)
    if fn in ("sin", "cos"):
        every = every[np.abs(every) <= 1e4]
    dense = {"exp": np.linspace(-104, 89, 200_001), "expm1": np.linspace(-1, 1, 200_001),
             "log": np.linspace(0.5, 2, 200_001), "log1p": np.linspace(-0.9, 1, 200_001),
             "tanh": np.concatenate([np.linspace(-1, 1, 200_001), np.geomspace(1e-8, 0.7, 50_000)]),
             "sigmoid": np.linspace(-100, 30, 200_001),
             "erf": np.linspace(-4.5, 4.5, 300_001),
             "sin": np.linspace(-1e4, 1e4, 400_001), "cos": np.linspace(-1e4, 1e4, 400_001)}[fn]
    xs = np.concatenate([every, dense.astype(np.float32), SPECIALS])
    if fn in ("sin", "cos"):
        xs = xs[~(np.abs(xs) > 1e4)]
    assert xs.size <= N
    return xs


@pytest.mark.parametrize("fn", list(REF))
def test_max_ulp_error(prog, fn):
    xs = _sweep(fn)
    got = _apply(prog, f"vm_{fn}", xs)
    with np.errstate(all="ignore"):
        want = REF[fn](xs.astype(np.float64))
    err, ok = ulp_errors(got, want)
    bad = xs[~ok]
    assert ok.all(), f"{fn}: nan/inf mismatch at {bad[:8]} -> {got[~ok][:8]}"
    i = int(np.argmax(err))
    assert err[i] <= BOUND[fn], f"{fn}: {err[i]:.2f} ulp at x={xs[i]!r}: {got[i]!r} vs {want[i]!r}"


@pytest.mark.parametrize("fn", ["tanh", "erf", "sin", "expm1", "log1p"])
def test_odd_functions_keep_signed_zero_and_tiny_args(prog, fn):
    xs = np.array([0.0, -0.0, 1e-40, -1e-40, 1e-20, -1e-20], np.float32)
    got = _apply(prog, f"vm_{fn}", xs)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(xs))
    slope = 2 / np.sqrt(np.pi) if fn == "erf" else 1.0
    np.testing.assert_allclose(got[2:], (xs[2:].astype(np.float64) * slope).astype(np.float32),
                               rtol=2e-7)


def test_special_values(prog):
    nan, inf = np.nan, np.inf
    x = np.array([nan, inf, -inf], np.float32)
    expect = {"exp": [nan, inf, 0], "expm1": [nan, inf, -1], "log": [nan, inf, nan],
              "log1p": [nan, inf, nan], "tanh": [nan, 1, -1], "sigmoid": [nan, 1, 0],
              "erf": [nan, 1, -1], "sin": [nan, nan, nan], "cos": [nan, nan, nan]}
    for fn, want in expect.items():
        np.testing.assert_array_equal(_apply(prog, f"vm_{fn}", x), np.float32(want), err_msg=fn)
    np.testing.assert_array_equal(_apply(prog, "vm_log", np.float32([0, -0.0, -1])),
                                  np.float32([-inf, -inf, nan]))
    np.testing.assert_array_equal(_apply(prog, "vm_log1p", np.float32([-1, -2])),
                                  np.float32([-inf, nan]))


def test_sin_cos_beyond_1e4(prog):
    # documented: accurate up to |x| ~ 1.6e6 (tested to 1e6 here), bounded beyond
    xs = np.linspace(1e4, 1e6, 100_001).astype(np.float32)
    for fn in ("sin", "cos"):
        got = _apply(prog, f"vm_{fn}", xs)
        err, ok = ulp_errors(got, REF[fn](xs.astype(np.float64)))
        assert ok.all() and err.max() <= 2, (fn, err.max())
        huge = _apply(prog, f"vm_{fn}", np.float32([1e20, -3e38, 1e10]))
        assert np.all(np.abs(huge) <= 1)


def test_general_pow_bound(prog, rng=np.random.default_rng(1)):
    # general pow is glibc powf: documented <= 1 ulp
    x = np.abs(rng.standard_normal(200_000) * 10).astype(np.float32)
    y = (rng.standard_normal(200_000) * 8).astype(np.float32)
    got = _apply(prog, "vm_pow", x, y)
    with np.errstate(all="ignore"):
        err, ok = ulp_errors(got, x.astype(np.float64) ** y.astype(np.float64))
    assert ok.all() and err.max() <= 1.0


def test_maximum_minimum_propagate_nan(prog):
    a = np.float32([np.nan, 1, np.nan, -np.inf, 0.0, 3, -0.0, 0.0])
    b = np.float32([1, np.nan, np.nan, 2, 0.0, -np.inf, 0.0, -0.0])
    for fn, ref in (("vm_maximum", np.maximum), ("vm_minimum", np.minimum)):
        got = _apply(prog, fn, a, b)
        np.testing.assert_array_equal(got, ref(a, b))
        np.testing.assert_array_equal(np.signbit(got), np.signbit(ref(a, b)))  # ties: as numpy
