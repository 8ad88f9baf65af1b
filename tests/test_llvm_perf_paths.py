"""The llvm backend's performance rewrites keep results: gemm results stored transposed
(weight gradients, small-batch Linear), reductions whose summand is stored and reloaded
instead of recomputed (softmax, cross-entropy), next-row prefetch in row kernels, and
serial kernels inside program entries that call BLAS."""
import os

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember.compiler.codegen.llvm import build_ir  # noqa: E402
from ember.compiler.codegen.llvm import render  # noqa: E402


from _helpers import private_cache  # noqa: E402,F401  (autouse: a private EMBER_CACHE_DIR)
from _helpers import compiled as _compiled, training_step  # noqa: E402


def _runners(c):
    exe = list(c._cache.values())[-1].executable
    return list(exe._runners.values())


def _mlp_step(batch, seed=0):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(96, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return model, training_step(model, opt)


def test_transposed_gemm_results_train_like_eager():
    rng = np.random.default_rng(0)
    xs = [ember.tensor(rng.standard_normal((8, 96)).astype(np.float32)) for _ in range(4)]
    ys = [ember.tensor(rng.integers(0, 10, 8)) for _ in range(4)]
    m_eager, step_eager = _mlp_step(8)
    m_comp, step_comp = _mlp_step(8)
    # default first call eager: it creates the momentum buffers the trace then reads
    c = ember.compile(step_comp, backend="llvm")
    for x, y in zip(xs, ys):
        le, lc = step_eager(x, y), c(x, y)
        np.testing.assert_allclose(lc.item(), le.item(), rtol=1e-5)
    for pe, pc in zip(m_eager.parameters(), m_comp.parameters()):
        np.testing.assert_allclose(pc.detach().numpy(), pe.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    plan = _runners(c)[0].plan
    # the weight gradient (x.T @ g, read transposed by the update) and the forward
    # x @ W1.T at batch 8 (computed as W1 @ x.T) are both stored transposed
    assert len(plan.shapes) >= 2
    mms = [s.kernel for s in plan.steps if s.kind == "matmul"]
    assert any(mm.m == 64 and mm.n == 8 for mm in mms)      # W1 @ x.T
    for key, shape in plan.shapes.items():
        assert shape == tuple(key.shape)[::-1]
        assert plan.buffers[key][1] == shape


def _kernel(c):
    return [s.kernel for r in _runners(c) for s in r.plan.steps if s.kind == "kernel"]


def _exp_calls(kernel):
    text = build_ir([kernel])
    body = text.split(f'define internal void @"{kernel.name}__body"')[1].split("\n}")[0]
    return body.count("@\"ember.vm.exp.f32\"(")


def test_softmax_summand_is_stored_once_and_reloaded():
    rng = np.random.default_rng(1)
    xn = (rng.standard_normal((6, 1100)) * 8).astype(np.float32)
    c = _compiled(lambda a: F.softmax(a, -1))
    got = c(ember.tensor(xn)).numpy()
    (k,) = _kernel(c)
    assert render._spills(k)                      # the exp(x - m) sum spills to the output
    assert _exp_calls(k) == 1                     # one exp per element, not two
    x64 = xn.astype(np.float64)
    d = x64 - x64.max(-1, keepdims=True)
    ref = np.exp(d) / np.exp(d).sum(-1, keepdims=True)
    # float32 x - m rounds (|d| <= 60: abs error 2e-6, relative error of exp the same)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-30)


def test_cross_entropy_reloads_stored_probabilities():
    rng = np.random.default_rng(2)
    xn = rng.standard_normal((5, 300)).astype(np.float32)
    tgt = rng.integers(0, 300, 5)
    x = ember.tensor(xn, requires_grad=True)
    t = ember.tensor(tgt)

    def f(a):
        loss = F.cross_entropy(a, t)
        (g,) = ember.autograd.grad(loss, a)
        return loss, g
    c = _compiled(f)
    loss, g = c(x)
    x64 = xn.astype(np.float64)
    p = np.exp(x64 - x64.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ref = -np.log(p[np.arange(5), tgt]).mean()
    gref = p.copy()
    gref[np.arange(5), tgt] -= 1
    gref /= 5
    np.testing.assert_allclose(loss.item(), ref, rtol=1e-5)
    np.testing.assert_allclose(g.numpy(), gref, rtol=1e-4, atol=1e-7)
    rows = [k for k in _kernel(c) if k.inner and any(
        isinstance(st, render.K.Reduce) for st in k.body)]
    assert any(render._reloads(k) or render._spills(k) for k in rows)


def test_layer_norm_rows_with_prefetch():
    rng = np.random.default_rng(3)
    xn = (rng.standard_normal((7, 1024)) * 3 + 5).astype(np.float32)
    w = rng.standard_normal(1024).astype(np.float32)
    b = rng.standard_normal(1024).astype(np.float32)
    c = _compiled(lambda a: F.layer_norm(a, (1024,), ember.tensor(w), ember.tensor(b)))
    got = c(ember.tensor(xn)).numpy()
    (k,) = _kernel(c)
    assert "llvm.prefetch" in build_ir([k])
    x64 = xn.astype(np.float64)
    mu, var = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
    ref = (x64 - mu) / np.sqrt(var + 1e-5) * w + b
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=2e-5)


def test_entries_with_blas_run_kernels_serially(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DUMP_DIR", str(tmp_path))
    ember.manual_seed(0)
    lin = nn.Linear(128, 256)

    @ember.no_grad()
    def blas_then_big_kernel(a):
        return ember.relu(lin(a)) * 2.0 + 1.0
    c = _compiled(blas_then_big_kernel)
    x = ember.randn(256, 128)
    got = c(x).numpy()
    ref = np.maximum(x.numpy().astype(np.float64) @ lin.weight.detach().numpy().T.astype(
        np.float64) + lin.bias.detach().numpy(), 0) * 2 + 1
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    (ll,) = [f for f in os.listdir(tmp_path) if f.endswith(".ll")]
    text = (tmp_path / ll).read_text()
    entry = text.split('_entry0"(ptr')[1].split("\n}")[0]
    # the 64K-element kernel has a parallel path, but this entry calls BLAS: serial twin
    assert "__seq\"(" in entry


def test_spilled_output_is_not_written_into_an_input_it_reads():
    # y *= softmax(x): the row kernel would write exp(x - m) into y's storage during the
    # sum pass and then read y there; the in-place update must not be applied to it
    rng = np.random.default_rng(4)
    xn = rng.standard_normal((3, 300)).astype(np.float32)
    yn = rng.standard_normal((3, 300)).astype(np.float32)

    def f(x, y):
        y.mul_(F.softmax(x, -1))
        return x.sum()
    c = _compiled(f)
    y = ember.tensor(yn.copy())
    c(ember.tensor(xn), y)
    (r,) = _runners(c)
    assert r.plan.graph.updates and not r.plan.inplace
    x64 = xn.astype(np.float64)
    p = np.exp(x64 - x64.max(-1, keepdims=True))
    np.testing.assert_allclose(y.numpy(), yn * p / p.sum(-1, keepdims=True), rtol=1e-5,
                               atol=1e-9)


def test_short_strided_inner_loop_stays_rolled_and_vectorises():
    # 2x2 max pooling over (8, 3, 28, 28): the innermost loop has 14 iterations and
    # stride-2 loads; it carries loop metadata so LLVM vectorises it with interleaved
    # loads instead of unrolling it into gathers. Values equal numpy's pooling.
    from ember.compiler import kernel_ir as K
    from ember.compiler.codegen.llvm import CodegenOptions, JitProgram
    from ember.compiler.codegen.llvm.target import emit_assembly
    n, c, h = 8, 3, 28
    ps = (K.Param("x", "float32", (n, c, h, h)),
          K.Param("y", "float32", (n, c, h // 2, h // 2), "out"))
    taps = [K.Load(K.Access(0, (c * h * h, h * h, 2 * h, 2), off), "float32")
            for off in (0, 1, h, h + 1)]
    v = K.op("maximum", K.op("maximum", taps[0], taps[1]), K.op("maximum", taps[2], taps[3]))
    k = K.Kernel("pool2x2", ps, (n, c, h // 2, h // 2), (), (K.Store(K.Access(
        1, K.contiguous_strides((n, c, h // 2, h // 2))), v),))
    text = build_ir([k])
    assert "llvm.loop.vectorize.enable" in text and "llvm.loop.unroll.disable" in text
    asm = emit_assembly(text, CodegenOptions())
    assert "gather" not in asm
    x = np.random.default_rng(0).standard_normal((n, c, h, h)).astype(np.float32)
    y = np.empty((n, c, h // 2, h // 2), np.float32)
    JitProgram([k], num_threads=1)["pool2x2"](x, y)
    np.testing.assert_array_equal(y, x.reshape(n, c, h // 2, 2, h // 2, 2).max(axis=(3, 5)))
    # a 7-iteration loop (7x7 pooling output) is left to LLVM's defaults: no gain there
    assert not render._SHORT_TRIP[0] <= 7 < render._SHORT_TRIP[1]


NARROW_FNS = {     # name: (function, walked tile-of-rows-wise: it computes exp/log)
    "sum": (lambda x: x.sum(-1), False),
    "amax": (lambda x: x.amax(-1), False),
    "centered": (lambda x: x - x.sum(-1, keepdim=True), False),
    "softmax": (lambda x: F.softmax(x, -1), True),
    "logsumexp": (lambda x: ember.logsumexp(x, -1), True),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8"])
@pytest.mark.parametrize("name", list(NARROW_FNS))
@pytest.mark.parametrize("shape", [(37, 5), (16, 16), (3, 20, 7)])
def test_narrow_rows_compiled_equal_eager(dtype, name, shape):
    # rows of <= 16 elements are reduced tile-of-rows-wise when the kernel computes a
    # costly function (render._narrow_mode), row-wise otherwise: both equal eager
    from ember.compiler import kernel_ir as K
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shape).astype(dtype) * 4 if dtype.startswith("float") else \
        rng.integers(0, 60, shape).astype(dtype)
    f, narrow = NARROW_FNS[name]
    x = ember.tensor(a)
    try:
        want = f(x).numpy()
    except (TypeError, RuntimeError, NotImplementedError):
        pytest.skip(f"{name} is not defined for {dtype} in eager mode")
    c = _compiled(f)
    got = c(x).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)
    else:
        np.testing.assert_array_equal(got, want)
    kernels = [s.kernel for r in _runners(c) for s in r.plan.steps if s.kind == "kernel"]
    assert any(k.inner and render._narrow_mode(K.coalesce(k)) for k in kernels) == narrow
