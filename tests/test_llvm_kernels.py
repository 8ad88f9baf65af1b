"""LLVM CPU backend: kernels written by hand in kernel IR, compiled once per module and
compared with numpy float64 references (values computed independently of ember)."""
import math
import re

import numpy as np
import pytest

pytest.importorskip("llvmlite")

from ember.compiler import kernel_ir as K  # noqa: E402
from ember.compiler.codegen.llvm import CodegenOptions, JitProgram, build_ir  # noqa: E402
from ember.compiler.codegen.llvm.target import emit_assembly  # noqa: E402
from ember.runtime import NativeError  # noqa: E402

F = "float32"


def P(name, shape, dtype=F, role="in"):
    return K.Param(name, dtype, tuple(shape), role)


def L(params, i, strides, offset=0):
    return K.Load(K.Access(i, tuple(strides), offset), params[i].dtype)


def S(i, strides, value, offset=0):
    return K.Store(K.Access(i, tuple(strides), offset), value)


def _chain(x):
    return K.op("maximum", x * 1.5 + 0.5, 0.0) * K.op("sigmoid", x) - K.op("tanh", x) / 2


def sigmoid64(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


# ------------------------------------------------------------------ kernels under test

def k_chain(n=1000):
    ps = (P("x", (n,)), P("y", (n,), role="out"))
    return K.Kernel("fused_mul_add_maximum_mul_sigmoid_sub_tanh_div_0", ps, (n,), (),
                    (S(1, (1,), _chain(L(ps, 0, (1,)))),))


def k_bcast_perm():
    # out[i,j,k] = a[k,i,j] (a stored (5,3,4)) + b[j] (b stored (4,1)) * c[i,j,2+k] (c (3,4,10))
    ps = (P("a", (5, 3, 4)), P("b", (4, 1)), P("c", (3, 4, 10)), P("out", (3, 4, 5), role="out"))
    sp = (3, 4, 5)
    a = L(ps, 0, K.view_strides((5, 3, 4), sp, perm=(1, 2, 0)))
    b = L(ps, 1, K.view_strides((4, 1), sp[:2] + (1,)) [:2] + (0,))
    c = L(ps, 2, (40, 10, 1), offset=2)
    return K.Kernel("fused_add_mul_perm", ps, sp, (), (S(3, (20, 5, 1), a + b * c),))


def k_sizes():
    # 1-size dims everywhere, a two-output store, and an index value
    ps = (P("x", (1, 7, 1)), P("y", (1, 7, 1), role="out"), P("z", (1, 7, 1), "int64", "out"))
    x = L(ps, 0, (7, 1, 1))
    return K.Kernel("fused_two_outputs", ps, (1, 7, 1), (),
                    (S(1, (7, 1, 1), x * x), S(2, (7, 1, 1), K.IndexVar(1) * 10)))


def k_flip(n=37):
    # a flipped view: negative stride from the last element
    ps = (P("x", (n,)), P("y", (n,), role="out"))
    return K.Kernel("fused_flip_neg", ps, (n,), (), (S(1, (1,), -L(ps, 0, (-1,), offset=n - 1)),))


def k_empty():
    ps = (P("x", (3, 0)), P("y", (3, 0), role="out"), P("s", (3,), role="out"),
          P("p", (3,), role="out"))
    x = L(ps, 0, (0, 1))
    return K.Kernel("fused_empty", ps, (3,), (0,),
                    (S(1, (0, 1), x + 1.0),
                     K.Reduce("s", "sum", x), S(2, (1, 0), K.AccRef("s", F)),
                     K.Reduce("p", "prod", x), S(3, (1, 0), K.AccRef("p", F))))


def k_softmax(r, c, name):
    ps = (P("x", (r, c)), P("y", (r, c), role="out"))
    x = L(ps, 0, (c, 1))
    m = K.AccRef("m", F)
    s = K.AccRef("s", F)
    return K.Kernel(name, ps, (r,), (c,), (
        K.Reduce("m", "max", x),
        K.Reduce("s", "sum", K.op("exp", x - m)),
        S(1, (c, 1), K.op("exp", x - m) / s)))


def k_layernorm(r=5, c=33, eps=1e-5, name="fused_layer_norm"):
    ps = (P("x", (r, c)), P("w", (c,)), P("b", (c,)), P("y", (r, c), role="out"))
    x = L(ps, 0, (c, 1))
    mean = K.AccRef("s", F) / float(c)
    var = K.AccRef("v", F) / float(c)
    return K.Kernel(name, ps, (r,), (c,), (
        K.Reduce("s", "sum", x),
        K.Reduce("v", "sum", (x - mean) * (x - mean)),
        S(3, (c, 1), (x - mean) * K.op("rsqrt", var + eps) * L(ps, 1, (0, 1)) + L(ps, 2, (0, 1)))))


def k_logsoftmax_nll(r=6, c=11, name="fused_log_softmax_nll"):
    ps = (P("x", (r, c)), P("t", (r,), "int64"), P("loss", (r,), role="out"))
    x = L(ps, 0, (c, 1))
    m, s, picked = K.AccRef("m", F), K.AccRef("s", F), K.AccRef("picked", F)
    hit = K.op("eq", K.IndexVar(1), L(ps, 1, (1, 0)))
    return K.Kernel(name, ps, (r,), (c,), (
        K.Reduce("m", "max", x),
        K.Reduce("s", "sum", K.op("exp", x - m)),
        K.Reduce("picked", "sum", K.op("where", hit, x, 0.0)),
        S(2, (1, 0), -(picked - m - K.op("log", s)))))


def k_reductions():
    # column sums of a (37, 5) buffer (a reduction over a strided, permuted axis); row
    # max/min/argmax/prod of a (4, 6); an int64 row sum
    ps = (P("a", (37, 5)), P("cs", (5,), role="out"))
    qs = (P("r", (4, 6)), P("i", (4, 6), "int64"), P("mx", (4,), role="out"),
          P("mn", (4,), role="out"), P("am", (4,), "int64", "out"), P("pr", (4,), role="out"),
          P("isum", (4,), "int64", "out"))
    r = L(qs, 0, (6, 1))
    return [
        K.Kernel("reduce_sum_cols", ps, (5,), (37,), (
            K.Reduce("s", "sum", L(ps, 0, (1, 5))), S(1, (1, 0), K.AccRef("s", F)))),
        K.Kernel("reduce_row_stats", qs, (4,), (6,), (
            K.Reduce("mx", "max", r), S(2, (1, 0), K.AccRef("mx", F)),
            K.Reduce("mn", "min", r), S(3, (1, 0), K.AccRef("mn", F)),
            K.Reduce("am", "argmax", r), S(4, (1, 0), K.AccRef("am", "int64")),
            K.Reduce("pr", "prod", r), S(5, (1, 0), K.AccRef("pr", F)),
            K.Reduce("is", "sum", L(qs, 1, (6, 1))), S(6, (1, 0), K.AccRef("is", "int64")))),
    ]


def k_columns(a=3, r=50, c=300):
    # reductions over axis 1 of x (a, r, c): contiguous along the kept last axis, strided
    # along the reduced one -> the column-tile path; plus an int64 column sum
    ps = (P("x", (a, r, c)), P("i", (r, c), "int64"), P("y", (a, c), role="out"),
          P("mx", (a, c), role="out"), P("isum", (a, c), "int64", "out"))
    x = L(ps, 0, (r * c, 1, c))
    return K.Kernel("reduce_columns", ps, (a, c), (r,), (
        K.Reduce("s", "sum", x * x), K.Reduce("m", "max", x),
        K.Reduce("is", "sum", L(ps, 1, (0, 1, c))),
        S(2, (c, 1, 0), K.AccRef("s", F) / float(r) - K.AccRef("m", F)),
        S(3, (c, 1, 0), K.AccRef("m", F)),
        S(4, (c, 1, 0), K.AccRef("is", "int64"))))


def k_long_sum(n=200_003):
    ps = (P("x", (n,)), P("s", (1,), role="out"))
    return K.Kernel("reduce_sum_all", ps, (), (n,), (
        K.Reduce("s", "sum", L(ps, 0, (1,))), S(1, (0,), K.AccRef("s", F))))


def k_int_ops(n=64, dt="int32"):
    ps = (P("a", (n,), dt), P("b", (n,), dt), P("q", (n,), dt, "out"), P("r", (n,), dt, "out"),
          P("mx", (n,), dt, "out"), P("pw", (n,), dt, "out"), P("ab", (n,), dt, "out"))
    a, b = L(ps, 0, (1,)), L(ps, 1, (1,))
    return K.Kernel(f"int_ops_{dt}", ps, (n,), (), (
        S(2, (1,), a // b), S(3, (1,), a % b), S(4, (1,), K.op("maximum", a, b)),
        S(5, (1,), K.op("pow", a, K.op("remainder", b, 5))), S(6, (1,), K.op("abs", a))))


def k_float_divmod(n=64):
    ps = (P("a", (n,)), P("b", (n,)), P("q", (n,), role="out"), P("r", (n,), role="out"))
    a, b = L(ps, 0, (1,)), L(ps, 1, (1,))
    return K.Kernel("float_divmod", ps, (n,), (), (S(2, (1,), a // b), S(3, (1,), a % b)))


def k_casts(n=16):
    ps = (P("x", (n,)), P("i32", (n,), "int32", "out"), P("u8", (n,), "uint8", "out"),
          P("bl", (n,), "bool", "out"), P("h", (n,), "float16", "out"),
          P("bf", (n,), "bfloat16", "out"), P("i8", (n,), "int8", "out"))
    x = L(ps, 0, (1,))
    c = lambda d: K.op("cast", x, dtype=d)  # noqa: E731
    return K.Kernel("casts", ps, (n,), (), (
        S(1, (1,), c("int32")), S(2, (1,), c("uint8")), S(3, (1,), c("bool")),
        S(4, (1,), c("float16")), S(5, (1,), c("bfloat16")), S(6, (1,), c("int8"))))


def k_half(n=50):
    ps = (P("x", (n,), "float16"), P("y", (n,), "float16", "out"), P("z", (n,), "bfloat16", "out"))
    x = L(ps, 0, (1,))
    return K.Kernel("half_math", ps, (n,), (), (
        S(1, (1,), K.op("exp", x) * x + 1.0),
        S(2, (1,), K.op("cast", K.op("tanh", x), dtype="bfloat16"))))


def k_f64(n=300):
    ps = (P("x", (n,), "float64"),) + tuple(P(f"o{i}", (n,), "float64", "out") for i in range(7))
    x = L(ps, 0, (1,))
    fs = ["exp", "log1p", "tanh", "erf", "sin", "sigmoid", "expm1"]
    arg = lambda f: K.op("abs", x) if f == "log1p" else x  # noqa: E731
    return K.Kernel("f64_math", ps, (n,), (),
                    tuple(S(i + 1, (1,), K.op(f, arg(f))) for i, f in enumerate(fs)))


def k_pow(n=40):
    ps = (P("x", (n,)), P("y", (n,))) + tuple(P(f"o{i}", (n,), role="out") for i in range(6))
    x, y = L(ps, 0, (1,)), L(ps, 1, (1,))
    return K.Kernel("pows", ps, (n,), (), (
        S(2, (1,), x ** 2.0), S(3, (1,), x ** 0.5), S(4, (1,), x ** -1.0), S(5, (1,), x ** 3.0),
        S(6, (1,), x ** y), S(7, (1,), K.op("where", K.op("gt", x, y), x, y))))


KERNELS = ([k_chain(), k_bcast_perm(), k_sizes(), k_empty(), k_flip(), k_softmax(6, 37, "fused_softmax"),
            k_softmax(3, 3000, "fused_softmax_long"), k_layernorm(), k_logsoftmax_nll(),
            # rows shorter than a vector: walked tile-of-rows-wise (render._narrow_mode)
            k_softmax(203, 10, "fused_softmax_narrow"), k_softmax(40, 1, "fused_softmax_1"),
            k_layernorm(77, 7, name="fused_layer_norm_narrow"),
            k_logsoftmax_nll(300, 10, "fused_log_softmax_nll_narrow"),
            k_long_sum(), k_columns(), k_int_ops(), k_int_ops(dt="int64"), k_int_ops(dt="uint8"),
            k_float_divmod(), k_casts(), k_half(), k_f64(), k_pow()] + k_reductions())


@pytest.fixture(scope="module")
def prog():
    return JitProgram(KERNELS, num_threads=1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def run(prog, name, *inputs):
    k = next(k for k in KERNELS if k.name == name)
    outs = [np.zeros(p.shape, dtype=_npd(p.dtype)) for p in k.params if p.role != "in"]
    prog[name](*inputs, *outs)
    return outs


def _npd(d):
    from ember.runtime.native import np_dtype
    return np_dtype(d)


# ------------------------------------------------------------------ tests

def test_elementwise_chain_matches_float64(prog, rng):
    x = np.concatenate([rng.standard_normal(990) * 4, [0, -0.0, 1e-3, -1e-3, 20, -20, 80, -80,
                                                      1e30, -1e30]]).astype(np.float32)
    (y,) = run(prog, k_chain().name, x)
    xd = x.astype(np.float64)
    ref = np.maximum(xd * 1.5 + 0.5, 0) * sigmoid64(xd) - np.tanh(xd) / 2
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=1e-6)


def test_chain_nan_and_inf(prog):
    x = np.full(1000, np.nan, np.float32)
    x[1], x[2] = np.inf, -np.inf
    (y,) = run(prog, k_chain().name, x)
    assert np.isnan(y[0]) and np.isnan(y[3:]).all()
    assert y[1] == np.inf and y[2] == np.float32(0.5)   # relu(-inf)*0 - (-1)/2


def test_broadcast_permute_slice_inputs(prog, rng):
    a = rng.standard_normal((5, 3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 1)).astype(np.float32)
    c = rng.standard_normal((3, 4, 10)).astype(np.float32)
    (out,) = run(prog, "fused_add_mul_perm", a, b, c)
    ref = a.astype(np.float64).transpose(1, 2, 0) + b[:, 0][None, :, None] * c[:, :, 2:7]
    np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_size_one_dims_two_outputs_and_index(prog):
    x = np.arange(7, dtype=np.float32).reshape(1, 7, 1)
    y, z = run(prog, "fused_two_outputs", x)
    np.testing.assert_array_equal(y, x * x)
    np.testing.assert_array_equal(z.ravel(), np.arange(7) * 10)


def test_negative_strides(prog, rng):
    x = rng.standard_normal(37).astype(np.float32)
    (y,) = run(prog, "fused_flip_neg", x)
    np.testing.assert_array_equal(y, -x[::-1])


def test_zero_size_iteration_and_empty_reductions(prog):
    x = np.zeros((3, 0), np.float32)
    y, s, p = run(prog, "fused_empty", x)
    assert y.shape == (3, 0)
    np.testing.assert_array_equal(s, 0)
    np.testing.assert_array_equal(p, 1)


@pytest.mark.parametrize("name,shape", [("fused_softmax", (6, 37)),
                                        ("fused_softmax_long", (3, 3000)),
                                        ("fused_softmax_narrow", (203, 10)),
                                        ("fused_softmax_1", (40, 1))])
def test_softmax_row_local(prog, rng, name, shape):
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    x.flat[:3] = [80, -80, 30]
    (y,) = run(prog, name, x)
    xd = x.astype(np.float64)
    e = np.exp(xd - xd.max(1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(1, keepdims=True), rtol=3e-6, atol=1e-9)


@pytest.mark.parametrize("name,shape", [("fused_layer_norm", (5, 33)),
                                        ("fused_layer_norm_narrow", (77, 7))])
def test_layer_norm_row_local(prog, rng, name, shape):
    x = (rng.standard_normal(shape) * 3 + 10).astype(np.float32)
    w = rng.standard_normal(shape[1]).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    (y,) = run(prog, name, x, w, b)
    xd = x.astype(np.float64)
    mu = xd.mean(1, keepdims=True)
    ref = (xd - mu) / np.sqrt(((xd - mu) ** 2).mean(1, keepdims=True) + 1e-5) * w + b
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("name,shape", [("fused_log_softmax_nll", (6, 11)),
                                        ("fused_log_softmax_nll_narrow", (300, 10))])
def test_log_softmax_nll_one_kernel(prog, rng, name, shape):
    r, c = shape
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    x[1, 3] = 85.0                          # exp overflows without the max shift
    t = rng.integers(0, c, r).astype(np.int64)
    (loss,) = run(prog, name, x, t)
    xd = x.astype(np.float64)
    m = xd.max(1, keepdims=True)
    lsm = xd - m - np.log(np.exp(xd - m).sum(1, keepdims=True))
    np.testing.assert_allclose(loss, -lsm[np.arange(r), t], rtol=1e-5, atol=1e-6)


def test_narrow_rows_take_the_row_tile_path():
    from ember.compiler.codegen.llvm.render import _narrow_mode
    assert _narrow_mode(k_softmax(203, 10, "n")) and "ctile" in build_ir([k_softmax(203, 10, "n")])
    assert not _narrow_mode(k_softmax(6, 37, "w"))        # a row fills a vector: row-wise
    assert not _narrow_mode(k_softmax(6, 10, "s"))        # too few rows to fill a tile
    assert not _narrow_mode(k_reductions()[1])            # argmax/prod keep the row walk
    assert not _narrow_mode(k_layernorm(77, 7, name="l"))  # no exp/log: row-wise is as fast


def test_reductions_strided_and_row_stats(prog, rng):
    a = rng.standard_normal((37, 5)).astype(np.float32)
    (cs,) = run(prog, "reduce_sum_cols", a)
    np.testing.assert_allclose(cs, a.astype(np.float64).sum(0), rtol=1e-5, atol=1e-6)
    r = rng.standard_normal((4, 6)).astype(np.float32)
    r[1, 2] = np.nan                       # nan propagates through max/min, argmax finds it
    r[2] = [1, 5, 5, -1, 5, 0]             # ties: the first index wins
    r[3] = -np.inf
    i = rng.integers(-1000, 1000, (4, 6)).astype(np.int64)
    mx, mn, am, pr, isum = run(prog, "reduce_row_stats", r, i)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(mx, r.max(1))
        np.testing.assert_array_equal(mn, r.min(1))
    np.testing.assert_array_equal(am, np.argmax(r, 1))
    np.testing.assert_allclose(pr, r.astype(np.float64).prod(1), rtol=1e-6)
    np.testing.assert_array_equal(isum, i.sum(1))


def test_column_reductions(prog, rng):
    assert "ctile" in build_ir([k_columns()])           # the column-tile path is taken
    x = (rng.standard_normal((3, 50, 300)) * 3 + 100).astype(np.float32)
    x[1, 7, 5] = np.nan
    i = rng.integers(-10**12, 10**12, (50, 300)).astype(np.int64)
    y, mx, isum = run(prog, "reduce_columns", x, i)
    xd = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(mx, x.max(1))
        np.testing.assert_allclose(y, (xd * xd).sum(1) / 50 - xd.max(1), rtol=2e-6)
    assert np.isnan(y[1, 5]) and np.isnan(mx[1, 5])
    np.testing.assert_array_equal(isum, np.broadcast_to(i.sum(0), (3, 300)))


def test_float32_sum_is_accurate(prog, rng):
    # a long row with a large mean: sequential float32 summation would be off by ~1e-4
    # relative here; the blocked + compensated order stays within a few eps
    x = (rng.random(200_003) + 1000).astype(np.float32)
    (s,) = run(prog, "reduce_sum_all", x)
    exact = x.astype(np.float64).sum()
    assert abs(float(s[0]) - exact) <= 4 * np.finfo(np.float32).eps * np.abs(x).sum()
    seq = np.cumsum(x, dtype=np.float32)[-1]      # numpy's cumsum is sequential
    assert abs(float(seq) - exact) > abs(float(s[0]) - exact)


def _wrap(values, dt):
    bits = 8 * np.dtype(dt).itemsize
    out = []
    for v in values:
        v %= 1 << bits
        if np.iinfo(dt).min and v >= 1 << (bits - 1):
            v -= 1 << bits
        out.append(v)
    return np.array(out, dtype=dt)


@pytest.mark.parametrize("dt", ["int32", "int64", "uint8"])
def test_integer_floor_division_and_modulo(prog, rng, dt):
    info = np.iinfo(dt)
    n = 64
    a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    b = rng.integers(-9 if info.min else 0, 9, n, dtype=dt, endpoint=True)
    b[:6] = 0                              # division by zero gives 0, never traps
    if info.min:
        a[6], b[6] = info.min, -1          # INT_MIN // -1 would trap in a plain sdiv
        b[7] = -1
    q, r, mx, pw, ab = run(prog, f"int_ops_{dt}", a, b)
    A, B = [int(v) for v in a], [int(v) for v in b]
    np.testing.assert_array_equal(q, _wrap([0 if y == 0 else x // y for x, y in zip(A, B)], dt))
    np.testing.assert_array_equal(r, _wrap([0 if y == 0 else x % y for x, y in zip(A, B)], dt))
    np.testing.assert_array_equal(mx, np.maximum(a, b))
    # exponent = b % 5 (floor semantics: in 0..4)
    np.testing.assert_array_equal(pw, _wrap([x ** (0 if y == 0 else y % 5) for x, y in zip(A, B)],
                                            dt))
    np.testing.assert_array_equal(ab, _wrap([abs(x) for x in A], dt))  # abs(INT_MIN) wraps


def test_float_floor_division_and_modulo(prog, rng):
    a = (rng.standard_normal(64) * 10).astype(np.float32)
    b = (rng.standard_normal(64) * 3).astype(np.float32)
    b[:4] = [0, 0, 0, -0.0]
    a[:4] = [5, -5, 0, 1]
    a[4], b[4] = -0.0, 3.0
    q, r = run(prog, "float_divmod", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(q, np.floor_divide(a, b))
        np.testing.assert_array_equal(r, np.remainder(a, b))
        np.testing.assert_array_equal(np.signbit(r), np.signbit(np.remainder(a, b)))


def test_casts_saturate_and_round(prog):
    x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 2.7, -2.7, 255.9, 256, -1, 0, -0.0,
                  1e-30, 65519.0, 70000, 1.00390625], np.float32)
    i32, u8, bl, h, bf, i8 = run(prog, "casts", x)
    np.testing.assert_array_equal(i32, [0, 2**31 - 1, -2**31, 2**31 - 1, -2**31, 2, -2, 255,
                                        256, -1, 0, 0, 0, 65519, 70000, 1])
    np.testing.assert_array_equal(u8, [0, 255, 0, 255, 0, 2, 0, 255, 255, 0, 0, 0, 0, 255, 255, 1])
    np.testing.assert_array_equal(i8[:8], [0, 127, -128, 127, -128, 2, -2, 127])
    np.testing.assert_array_equal(bl, x != 0)           # nan is truthy
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(h.astype(np.float32), x.astype(np.float16).astype(np.float32))
        import ml_dtypes
        np.testing.assert_array_equal(bf.astype(np.float32),
                                      x.astype(ml_dtypes.bfloat16).astype(np.float32))


def test_half_precision_computes_in_float32(prog, rng):
    import ml_dtypes
    x = (rng.standard_normal(50) * 2).astype(np.float16)
    y, z = run(prog, "half_math", x)
    xd = x.astype(np.float64)
    # computed in float32, rounded once at the store: within one float16 rounding (plus
    # float32 noise) of the exact value
    want = np.exp(xd) * xd + 1
    np.testing.assert_allclose(y.astype(np.float64), want, rtol=2 ** -11 + 1e-6, atol=1e-7)
    np.testing.assert_allclose(z.astype(np.float64), np.tanh(xd), rtol=2 ** -8 + 1e-6, atol=1e-7)
    assert z.dtype == ml_dtypes.bfloat16


def test_float64_kernels_use_accurate_paths(prog, rng):
    from _helpers import erf64, expit64
    x = rng.standard_normal(300) * 3
    outs = run(prog, "f64_math", x)
    refs = [np.exp(x), np.log1p(np.abs(x)), np.tanh(x), erf64(x), np.sin(x),
            expit64(x), np.expm1(x)]
    for o, r in zip(outs, refs):
        np.testing.assert_allclose(o, r, rtol=4e-16, atol=1e-300)


def test_pow_constant_exponents_and_general(prog, rng):
    x = (rng.random(40) * 4 + 0.1).astype(np.float32)
    y = (rng.standard_normal(40)).astype(np.float32)
    x[:3] = [0.0, -0.0, np.inf]
    sq, rt, inv, cube, gen, wh = run(prog, "pows", x, y)
    xd = x.astype(np.float64)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(sq, xd ** 2, rtol=2e-7)
        np.testing.assert_array_equal(rt, np.sqrt(x))
        assert not np.signbit(rt[1])          # pow(-0, .5) = +0 (sqrt would give -0)
        np.testing.assert_allclose(inv, 1 / xd, rtol=1e-7)
        np.testing.assert_allclose(cube, xd ** 3, rtol=3e-7)
        np.testing.assert_allclose(gen, xd ** y.astype(np.float64), rtol=3e-7)
    np.testing.assert_array_equal(wh, np.where(x > y, x, y))


def test_callable_rejects_wrong_shapes_and_dtypes(prog):
    k = k_chain()
    with pytest.raises(NativeError, match="shape"):
        prog[k.name](np.zeros(999, np.float32), np.zeros(1000, np.float32))
    with pytest.raises(NativeError, match="float32"):
        prog[k.name](np.zeros(1000, np.float64), np.zeros(1000, np.float32))
    with pytest.raises(NativeError, match="expected 2 buffers"):
        prog[k.name](np.zeros(1000, np.float32))
    with pytest.raises(NativeError, match="contiguous"):
        prog[k.name](np.zeros(2000, np.float32)[::2], np.zeros(1000, np.float32))


def test_parallel_results_are_bitwise_identical_across_thread_counts(rng):
    from ember.runtime import parallel
    if parallel.gomp() is None:
        pytest.skip("libgomp not found")
    opts = CodegenOptions(parallel_min_elements=1)
    ks = [k_chain(5000), k_softmax(300, 17, "sm_par")]
    pr = JitProgram(ks, opts, num_threads=1)
    x = (rng.standard_normal(5000) * 3).astype(np.float32)
    xs = (rng.standard_normal((300, 17)) * 3).astype(np.float32)
    res = {}
    for nt in (1, 2, 3):
        pr.set_num_threads(nt)
        y, ys = np.empty_like(x), np.empty_like(xs)
        pr[ks[0].name](x, y)
        pr["sm_par"](xs, ys)
        res[nt] = (y, ys)
    for nt in (2, 3):
        assert res[nt][0].tobytes() == res[1][0].tobytes()
        assert res[nt][1].tobytes() == res[1][1].tobytes()
    xd = x.astype(np.float64)
    np.testing.assert_allclose(res[2][0], np.maximum(xd * 1.5 + .5, 0) * sigmoid64(xd)
                               - np.tanh(xd) / 2, rtol=2e-6, atol=1e-6)


def _function_asm(asm, name):
    m = re.search(rf"^{re.escape(name)}:.*?(?=^\s*\.Lfunc_end)", asm, re.S | re.M)
    return m.group(0) if m else ""


def test_asm_is_vectorised_without_libm_calls():
    ks = [k_chain(4096), k_softmax(8, 1024, "sm_asm")]
    asm = emit_assembly(build_ir(ks), CodegenOptions())
    for k in ks:
        body = _function_asm(asm, f"{k.name}__body") or _function_asm(asm, k.name)
        assert body, f"no asm for {k.name}"
        assert re.search(r"%[yz]mm", body), f"{k.name}: no vector registers"
        calls = re.findall(r"\bcall[q]?\s+\S+", body)
        assert not calls, f"{k.name}: calls in the kernel body: {calls}"


def test_kernel_names_must_be_unique():
    with pytest.raises(K.KernelIRError, match="two kernels"):
        build_ir([k_chain(), k_chain()])


def test_compile_options_change_code_not_results(rng):
    # a haswell (AVX2) build of the same kernel gives the same values
    opts = CodegenOptions(cpu="haswell", features="")
    pr = JitProgram([k_chain(257)], opts, num_threads=1)
    x = (rng.standard_normal(257) * 3).astype(np.float32)
    y = np.empty_like(x)
    pr[k_chain().name](x, y)
    xd = x.astype(np.float64)
    ref = np.maximum(xd * 1.5 + .5, 0) * sigmoid64(xd) - np.tanh(xd) / 2
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=1e-6)
    assert math.isfinite(pr.compile_seconds)


def test_small_kernels_stay_single_threaded():
    assert "__omp" not in build_ir([k_chain(1000)])            # below parallel_min_elements
    assert "__omp" in build_ir([k_chain(1 << 16)])
    assert "__omp" not in build_ir([k_long_sum()])            # a full reduction: one row
