"""ember.runtime: artifact format and round trip in a process without llvmlite, the on-disk
cache (hit/miss/corruption/concurrency/env vars), BLAS matmul externs vs numpy, the
generated fallback GEMM, and thread safety of compiled calls."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

pytest.importorskip("llvmlite")

from ember.compiler import kernel_ir as K  # noqa: E402
from ember.compiler.codegen.llvm import CodegenOptions, JitProgram, compile_artifact  # noqa: E402
from ember.runtime import (Artifact, ArtifactCache, ArtifactError, abi, blas, cache_key,  # noqa: E402
                           native)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# runs ember.runtime with a bare ``ember`` package object, so ember/__init__ (which imports
# the frontend) does not run: what is imported is exactly what the runtime needs
STUB = textwrap.dedent("""
    import os, sys, types
    pkg = types.ModuleType("ember"); pkg.__path__ = [os.path.join(sys.argv[1], "ember")]
    sys.modules["ember"] = pkg
    import numpy as np
    import ember.runtime as rt
""")


def _run_py(code, *args, env=None):
    r = subprocess.run([sys.executable, "-c", STUB + textwrap.dedent(code), ROOT, *args],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    return r.stdout


def chain_kernel(n=1000):
    ps = (K.Param("x", "float32", (n,)), K.Param("y", "float32", (n,), "out"))
    x = K.Load(K.Access(0, (1,)), "float32")
    v = K.op("maximum", x * 1.5 + 0.5, 0.0) * K.op("sigmoid", x) - K.op("tanh", x) / 2
    return K.Kernel("fused_chain", ps, (n,), (), (K.Store(K.Access(1, (1,)), v),))


def matmul(name, m, n, k, *, dtype="float32", trans_a=False, trans_b=False, batch=(),
           bcast_b=False, beta=0.0, alpha=1.0):
    """C[batch] = alpha * A[batch] @ B[batch] + beta * C with A, B stored transposed when
    asked (the view is a stride swap, as for Linear's W.T) and B broadcast over batch."""
    bn = int(np.prod(batch)) if batch else 1
    a_shape = batch + ((k, m) if trans_a else (m, k))
    b_shape = (() if bcast_b else batch) + ((n, k) if trans_b else (k, n))
    ps = (K.Param("a", dtype, a_shape), K.Param("b", dtype, b_shape),
          K.Param("c", dtype, batch + (m, n), "inout"))
    bstr = lambda inner, on=True: tuple(  # noqa: E731
        int(np.prod(batch[i + 1:])) * inner if on else 0 for i in range(len(batch)))
    a = K.MatOperand(0, 0, bstr(m * k), *((1, m) if trans_a else (k, 1)))
    b = K.MatOperand(1, 0, bstr(k * n, not bcast_b), *((1, k) if trans_b else (n, 1)))
    c = K.MatOperand(2, 0, bstr(m * n), n, 1)
    del bn
    return K.Matmul(name, ps, dtype, batch, m, n, k, a, b, c, alpha, beta)


MATMULS = [
    matmul("mm_plain", 33, 17, 65),
    matmul("mm_linear_wt", 32, 10, 24, trans_b=True, beta=1.0),    # x @ W.T + bias
    matmul("mm_grad_at", 24, 10, 32, trans_a=True),                   # X.T @ grad
    matmul("mm_batched_bcast", 4, 5, 6, batch=(2, 3), bcast_b=True),
    matmul("mm_f64", 9, 8, 7, dtype="float64", trans_a=True, trans_b=True, alpha=0.5),
    matmul("mm_k0", 3, 4, 0, beta=1.0),
    matmul("mm_row", 1, 6, 5),
]


def _np_matmul(mm, a, b, c0):
    A = np.swapaxes(a, -1, -2) if mm.a.row_stride == 1 and mm.m > 1 and mm.k > 1 else a
    B = np.swapaxes(b, -1, -2) if mm.b.row_stride == 1 and mm.k > 1 and mm.n > 1 else b
    return mm.alpha * (A.astype(np.float64) @ B.astype(np.float64)) + mm.beta * c0


@pytest.fixture(scope="module")
def prog():
    return JitProgram(MATMULS + [chain_kernel()], num_threads=1)


def _inputs(mm, rng):
    dt = np.dtype(mm.dtype)
    a = rng.standard_normal(mm.params[0].shape).astype(dt)
    b = rng.standard_normal(mm.params[1].shape).astype(dt)
    c = rng.standard_normal(mm.params[2].shape).astype(dt)
    return a, b, c


@pytest.mark.parametrize("mm", MATMULS, ids=lambda m: m.name)
def test_blas_matmul_extern_vs_numpy(prog, mm):
    if blas.find() is None:
        pytest.skip("no BLAS found")
    a, b, c = _inputs(mm, np.random.default_rng(0))
    want = _np_matmul(mm, a, b, c.astype(np.float64))
    prog[mm.name](a, b, c)
    tol = 1e-12 if mm.dtype == "float64" else 1e-5
    np.testing.assert_allclose(c, want, rtol=tol, atol=tol)


def test_plain_sgemm_is_bitwise_numpy_matmul(prog):
    if blas.find() is None:
        pytest.skip("no BLAS found")
    a, b, c = _inputs(MATMULS[0], np.random.default_rng(1))
    prog["mm_plain"](a, b, c)
    np.testing.assert_array_equal(c, np.matmul(a, b))


# larger than one (256 x 256) block of the fallback GEMM's tiling, with ragged edges
FALLBACK_TILED = [matmul("mm_tiled", 70, 530, 300, trans_b=True, beta=1.0),
                  matmul("mm_tiled_f64", 40, 260, 513, dtype="float64", trans_a=True)]


def test_generated_fallback_gemm_without_blas(rng=np.random.default_rng(2)):
    pr = JitProgram(MATMULS + FALLBACK_TILED, num_threads=1)
    for slot, addr in zip((abi.SGEMM, abi.DGEMM), native.fallback_gemm()):
        native.set_slot_ptr(pr.lib, slot, addr)     # what bind_slots does without BLAS
    for mm in MATMULS + FALLBACK_TILED:
        a, b, c = _inputs(mm, rng)
        want = _np_matmul(mm, a, b, c.astype(np.float64))
        # sequential summation over k: |error| <= k * eps * (|alpha| |A| @ |B| + |beta C|)
        scale = _np_matmul(mm, np.abs(a), np.abs(b), np.abs(c.astype(np.float64)) * abs(mm.beta))
        bound = (mm.k + 2) * np.finfo(mm.dtype).eps * np.abs(scale) + 1e-30
        pr[mm.name](a, b, c)
        err = np.abs(c - want)
        assert (err <= bound).all(), (mm.name, float((err / bound).max()))


def test_matmul_rejects_views_blas_cannot_take():
    bad = K.Matmul("mm_bad", matmul("x", 4, 4, 4).params, "float32", (), 4, 4, 4,
                   K.MatOperand(0, 0, (), 2, 2), K.MatOperand(1, 0, (), 4, 1),
                   K.MatOperand(2, 0, (), 4, 1))
    with pytest.raises(K.KernelIRError, match="no unit stride"):
        K.verify_matmul(bad)
    oob = K.Matmul("mm_oob", matmul("x", 4, 4, 4).params, "float32", (), 4, 4, 4,
                   K.MatOperand(0, 3, (), 4, 1), K.MatOperand(1, 0, (), 4, 1),
                   K.MatOperand(2, 0, (), 4, 1))
    with pytest.raises(K.KernelIRError, match="reaches elements"):
        K.verify_matmul(oob)


def test_two_threads_call_one_kernel(prog):
    x = np.linspace(-5, 5, 1000).astype(np.float32)
    ref = np.empty_like(x)
    prog["fused_chain"](x, ref)
    errors = []

    def work():
        y = np.empty_like(x)
        for _ in range(200):
            prog["fused_chain"](x, y)
            if not np.array_equal(y, ref):
                errors.append("mismatch")
    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_bind_caches_pointers(prog):
    x = np.linspace(-1, 1, 1000).astype(np.float32)
    y = np.zeros_like(x)
    call = prog["fused_chain"].bind(x, y)
    call()
    y2 = np.empty_like(x)
    prog["fused_chain"](x, y2)
    np.testing.assert_array_equal(y, y2)


# ------------------------------------------------------------------ artifacts

@pytest.fixture(scope="module")
def artifact():
    return compile_artifact([chain_kernel(), MATMULS[1]], key_info={"graph": "test"})


def test_artifact_header_is_self_describing(artifact):
    h = artifact.header
    for field in ("format_version", "ember_version", "target", "options", "code_kind", "abi",
                  "kernels", "code_sha256"):
        assert field in h, field
    assert {"triple", "cpu", "features", "llvmlite", "llvm"} <= set(h["target"])
    assert [k["name"] for k in h["kernels"]] == ["fused_chain", "mm_linear_wt"]
    assert h["kernels"][0]["params"][1] == {"name": "y", "dtype": "float32", "shape": [1000],
                                            "role": "out"}
    assert abi.SGEMM in h["abi"]["slots"]


def test_artifact_roundtrip_in_process_without_llvmlite(artifact, tmp_path):
    if artifact.header["code_kind"] != "elf-shared":
        pytest.skip("no system cc: object artifacts need llvmlite to load")
    path = tmp_path / "prog.emberart"
    artifact.save(path)
    out = _run_py("""
        import json
        art = rt.Artifact.read(sys.argv[2])
        prog = art.load(num_threads=1)
        x = np.linspace(-6, 6, 1000).astype(np.float32); y = np.empty_like(x)
        prog["fused_chain"](x, y)
        xd = x.astype(np.float64)
        ref = np.maximum(xd * 1.5 + .5, 0) / (1 + np.exp(-xd)) - np.tanh(xd) / 2
        rng = np.random.default_rng(0)
        a = rng.standard_normal((32, 24)).astype(np.float32)
        w = rng.standard_normal((10, 24)).astype(np.float32)
        bias = rng.standard_normal(10).astype(np.float32)
        c = np.tile(bias, (32, 1))
        prog["mm_linear_wt"](a, w, c)
        bad = [m for m in ("llvmlite", "ember.frontend", "ember.compiler", "ember.ops")
               if any(k == m or k.startswith(m + ".") for k in sys.modules)]
        print(json.dumps({"chain": float(np.abs(y - ref).max()),
                          "linear": float(np.abs(c - (a @ w.T + bias)).max()), "bad": bad}))
    """, str(path))
    res = json.loads(out.strip().splitlines()[-1])
    assert res["bad"] == []
    assert res["chain"] < 2e-6 and res["linear"] < 1e-5


def test_runtime_import_pulls_in_no_compiler():
    out = _run_py("""
        print(sorted(k for k in sys.modules if k.startswith(("ember", "llvmlite"))))
    """)
    mods = eval(out.strip().splitlines()[-1])
    assert not any(m.startswith(("llvmlite", "ember.frontend", "ember.compiler")) for m in mods)
    assert "ember.runtime" in mods


def test_corrupt_or_truncated_artifacts_are_rejected(artifact):
    data = artifact.to_bytes()
    assert Artifact.from_bytes(data).code == artifact.code
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    with pytest.raises(ArtifactError, match="checksum"):
        Artifact.from_bytes(bytes(flipped))
    with pytest.raises(ArtifactError, match="truncated"):
        Artifact.from_bytes(data[:-100])
    with pytest.raises(ArtifactError, match="truncated"):
        Artifact.from_bytes(data[:10])
    with pytest.raises(ArtifactError, match="magic"):
        Artifact.from_bytes(b"NOTEMBER" + data[8:])


# ------------------------------------------------------------------ cache

def test_cache_hit_miss_and_counters(artifact, tmp_path):
    c = ArtifactCache(str(tmp_path), enabled=True)
    key = cache_key("graph-hash-1", CodegenOptions().as_dict())
    assert c.get(key) is None and c.misses == 1
    compiled = []
    art, hit = c.get_or_compile(key, lambda: compiled.append(1) or artifact)
    assert not hit and compiled == [1]
    art2, hit2 = c.get_or_compile(key, lambda: compiled.append(2) or artifact)
    assert hit2 and compiled == [1] and art2.code == artifact.code
    assert c.stats()["hits"] == 1 and c.writes == 1
    assert c.clear() == 1 and c.get(key) is None


def test_cache_key_covers_options_and_graph():
    o = CodegenOptions().as_dict()
    assert cache_key("g", o) == cache_key("g", dict(o))
    assert cache_key("g", o) != cache_key("h", o)
    assert cache_key("g", o) != cache_key("g", CodegenOptions(sum_block=512).as_dict())


def test_corrupt_cache_entry_is_a_miss_and_removed(artifact, tmp_path):
    c = ArtifactCache(str(tmp_path), enabled=True)
    key = cache_key("graph-hash-2")
    path = c.put(key, artifact)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 7)
    assert c.get(key) is None and c.corrupt == 1 and not os.path.exists(path)
    _, hit = c.get_or_compile(key, lambda: artifact)
    assert not hit and c.get(key) is not None


def test_cache_env_vars(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("EMBER_CACHE", "0")
    c = ArtifactCache()
    assert c.directory == str(tmp_path / "d") and not c.enabled
    assert c.get("ab" * 32) is None and c.put("ab" * 32, None) is None
    monkeypatch.setenv("EMBER_CACHE", "1")
    assert ArtifactCache().enabled


def test_concurrent_writers_leave_complete_entries(artifact, tmp_path):
    c = ArtifactCache(str(tmp_path), enabled=True)
    key = cache_key("graph-hash-3")
    ts = [threading.Thread(target=c.put, args=(key, artifact)) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert c.get(key).code == artifact.code
    leftovers = [f for _, _, fs in os.walk(tmp_path) for f in fs if f.startswith(".tmp-")]
    assert leftovers == []


def test_second_process_hits_without_llvmlite(artifact, tmp_path):
    if artifact.header["code_kind"] != "elf-shared":
        pytest.skip("no system cc")
    key = cache_key("graph-hash-4")
    ArtifactCache(str(tmp_path), enabled=True).put(key, artifact)
    out = _run_py("""
        c = rt.ArtifactCache(sys.argv[3], enabled=True)
        art = c.get(rt.cache_key("graph-hash-4"))
        prog = art.load(num_threads=1)
        x = np.ones(1000, np.float32); y = np.empty_like(x); prog["fused_chain"](x, y)
        print(c.hits, "llvmlite" in sys.modules, float(y[0]))
    """, "unused", str(tmp_path))
    hits, has_llvm, y0 = out.split()
    assert hits == "1" and has_llvm == "False"
    assert abs(float(y0) - (2.0 / (1 + np.exp(-1.0)) - np.tanh(1.0) / 2)) < 1e-6


def test_object_artifact_without_cc_loads_through_llvmlite(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv("PATH", str(tmp_path))
    art = compile_artifact([chain_kernel()])
    assert art.header["code_kind"] == "elf-object"
    prog = Artifact.from_bytes(art.to_bytes()).load(num_threads=1)
    x = np.linspace(-3, 3, 1000).astype(np.float32)
    y = np.empty_like(x)
    prog["fused_chain"](x, y)
    xd = x.astype(np.float64)
    ref = np.maximum(xd * 1.5 + .5, 0) / (1 + np.exp(-xd)) - np.tanh(xd) / 2
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=1e-6)


def test_cache_clear_command(artifact, tmp_path):
    ArtifactCache(str(tmp_path), enabled=True).put(cache_key("graph-hash-5"), artifact)
    env = {**os.environ, "EMBER_CACHE_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "ember.runtime.cache", "clear"], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "removed 1 entries" in r.stdout
    assert ArtifactCache(str(tmp_path), enabled=True).get(cache_key("graph-hash-5")) is None


@pytest.mark.parametrize("shape", [(3, 5), (0,), (1 << 20,)])
def test_aligned_buffers(shape):
    from ember.runtime import buffers
    a = buffers.alloc(shape, np.float32)
    assert a.shape == shape and a.flags.c_contiguous and a.flags.writeable
    assert a.size == 0 or buffers.data_pointer(a) % 64 == 0   # empty arrays point nowhere
    a[...] = 1.5
    assert float(a.sum()) == 1.5 * a.size


def test_kernel_calls_release_the_gil(prog):
    import ctypes
    # CFUNCTYPE (not PYFUNCTYPE): ctypes drops the GIL for the duration of the call
    assert not prog["fused_chain"]._fn._flags_ & ctypes._FUNCFLAG_PYTHONAPI


def _mlp_forward_entry(B=8, D=20, H=16, O=5):
    """Linear-ReLU-Linear as ONE native call: bias pre-fill, sgemm with W.T as a transpose
    flag and beta=1, ReLU in place, again for the second layer."""
    f = "float32"
    bufs = (K.Param("x", f, (B, D)), K.Param("w1", f, (H, D)), K.Param("b1", f, (H,)),
            K.Param("w2", f, (O, H)), K.Param("b2", f, (O,)), K.Param("h", f, (B, H), "inout"),
            K.Param("out", f, (B, O), "out"))

    def fill(name, n, m):
        ps = (K.Param("b", f, (m,)), K.Param("y", f, (n, m), "out"))
        return K.Kernel(name, ps, (n, m), (), (K.Store(K.Access(1, (m, 1)),
                                                       K.Load(K.Access(0, (0, 1)), f)),))

    def linear(name, n, k, m):
        ps = (K.Param("a", f, (n, k)), K.Param("w", f, (m, k)), K.Param("c", f, (n, m), "inout"))
        return K.Matmul(name, ps, f, (), n, m, k, K.MatOperand(0, 0, (), k, 1),
                        K.MatOperand(1, 0, (), 1, k), K.MatOperand(2, 0, (), m, 1), 1.0, 1.0)
    relu_ps = (K.Param("h", f, (B, H), "inout"),)
    relu = K.Kernel("relu_inplace", relu_ps, (B * H,), (), (K.Store(
        K.Access(0, (1,)), K.op("maximum", K.Load(K.Access(0, (1,)), f), 0.0)),))
    kernels = [fill("fill_h", B, H), linear("mm1", B, D, H), relu, fill("fill_out", B, O),
               linear("mm2", B, H, O)]
    entry = K.Entry("mlp_forward", bufs, (("fill_h", (2, 5)), ("mm1", (0, 1, 5)),
                                          ("relu_inplace", (5,)), ("fill_out", (4, 6)),
                                          ("mm2", (5, 3, 6))))
    return kernels + [entry]


def test_whole_forward_as_one_entry_point(rng=np.random.default_rng(5)):
    prog = JitProgram(_mlp_forward_entry(), num_threads=1)
    x, w1, b1 = (rng.standard_normal(s).astype(np.float32) for s in ((8, 20), (16, 20), (16,)))
    w2, b2 = (rng.standard_normal(s).astype(np.float32) for s in ((5, 16), (5,)))
    h, out = np.empty((8, 16), np.float32), np.empty((8, 5), np.float32)
    call = prog["mlp_forward"].bind(x, w1, b1, w2, b2, h, out)
    call()
    want = np.maximum(x.astype(np.float64) @ w1.T + b1, 0) @ w2.T + b2
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_entry_arity_and_dtype_are_checked():
    parts = _mlp_forward_entry()
    bad = K.Entry("e", parts[-1].buffers, (("mm1", (0, 1)),))
    with pytest.raises(K.KernelIRError, match="2 buffers for 3 params"):
        JitProgram(parts[:-1] + [bad])
    ro = parts[-1].buffers[:5] + (K.Param("h", "float32", (8, 16), "in"),) + parts[-1].buffers[6:]
    bad = K.Entry("e", ro, (("relu_inplace", (5,)),))
    with pytest.raises(K.KernelIRError, match="writes input buffer 'h'"):
        JitProgram(parts[:-1] + [bad])
    bad = K.Entry("e", parts[-1].buffers, (("nope", (0,)),))
    with pytest.raises(K.KernelIRError, match="no kernel named 'nope'"):
        JitProgram(parts[:-1] + [bad])
    bad = K.Entry("e", parts[-1].buffers, (("relu_inplace", (5,)),), checks=((1, 5, 1),))
    with pytest.raises(K.KernelIRError, match="not bool"):
        JitProgram(parts[:-1] + [bad])


def test_entry_check_returns_its_code_before_the_next_call():
    import ctypes
    n = 37
    ps = (K.Param("x", "float32", (n,)), K.Param("flag", "bool", (n,), "out"))
    flag = K.Kernel("flag_negatives", ps, (n,), (), (K.Store(K.Access(1, (1,)), K.op(
        "lt", K.Load(K.Access(0, (1,)), "float32"), 0.0)),))
    qs = (K.Param("y", "float32", (n,), "out"),)
    ones = K.Kernel("ones", qs, (n,), (), (K.Store(K.Access(0, (1,)), K.Const(1.0, "float32")),))
    bufs = (K.Param("b0", "float32", (n,)), K.Param("b1", "bool", (n,), "inout"),
            K.Param("b2", "float32", (n,), "inout"))
    entry = K.Entry("checked", bufs, (("flag_negatives", (0, 1)), ("ones", (2,))),
                    checks=((1, 1, 7),))
    prog = JitProgram([flag, ones, entry], num_threads=1)
    run = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)(prog.lib.function("checked"))
    x = np.abs(np.random.default_rng(0).standard_normal(n)).astype(np.float32)
    f, y = np.zeros(n, np.bool_), np.zeros(n, np.float32)
    table = (ctypes.c_void_p * 3)(x.ctypes.data, f.ctypes.data, y.ctypes.data)
    assert run(table) == 0 and (y == 1).all()
    x[n - 1] = -1.0
    y[:] = 0
    assert run(table) == 7 and f[n - 1] and (y == 0).all()   # "ones" never ran


def test_two_loaded_artifacts_stay_distinct():
    # glibc's dlopen returns the library already loaded under the same path: every load
    # must use a fresh path or the second program silently runs the first one's code
    def scale(c):
        ps = (K.Param("x", "float32", (4,)), K.Param("y", "float32", (4,), "out"))
        return K.Kernel("k", ps, (4,), (), (K.Store(K.Access(1, (1,)),
                                                    K.Load(K.Access(0, (1,)), "float32") * c),))
    progs = [compile_artifact([scale(c)]).load(num_threads=1) for c in (2.0, 3.0, 5.0)]
    x = np.ones(4, np.float32)
    outs = []
    for p in progs:
        y = np.empty_like(x)
        p["k"](x, y)
        outs.append(float(y[0]))
    assert outs == [2.0, 3.0, 5.0]


def test_artifact_for_missing_cpu_features_is_refused(artifact, monkeypatch):
    from ember.runtime import artifact as art_mod
    monkeypatch.setattr(art_mod, "cpu_flags", lambda: {"sse2"})
    if "+avx" not in artifact.header["target"]["features"]:
        pytest.skip("host code does not need AVX")
    with pytest.raises(ArtifactError, match="features this machine lacks"):
        Artifact.from_bytes(artifact.to_bytes()).load()


def test_missing_blas_warns_once(monkeypatch):
    monkeypatch.setattr(blas, "find", lambda refresh=False: None)
    monkeypatch.setattr(native, "_WARNED", [])
    with pytest.warns(RuntimeWarning, match="no BLAS library found"):
        pr = JitProgram([MATMULS[0]], num_threads=1)
    a, b, c = _inputs(MATMULS[0], np.random.default_rng(3))
    pr["mm_plain"](a, b, c)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        JitProgram([MATMULS[0]], num_threads=1)     # once per process


def test_no_blas_and_no_compiler_is_a_clear_error(monkeypatch):
    import importlib
    monkeypatch.setattr(native, "_FALLBACK", {"provider": None, "built": None})
    real = importlib.import_module

    def no_compiler(name, *a, **k):
        if name.startswith("ember.compiler"):
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(importlib, "import_module", no_compiler)
    with pytest.raises(native.NativeError, match="no BLAS library found .* no compiler"):
        native.fallback_gemm()
