"""``python -m bench.llvm_kernels [--threshold]``: hand-written kernel-IR kernels on the LLVM
backend against ``np.copyto`` bandwidth and numpy (not part of ``python -m bench`` yet: the
compiled-graph benchmarks arrive with the lowering).

* the elementwise chain ``relu(x*1.5+0.5)*sigmoid(x)-tanh(x)/2`` on 16M float32 with 1 and 2
  threads, numpy with preallocated ``out=`` buffers, and the copy;
* softmax and layer norm rows (4096, 1024), one row-local kernel each, vs numpy;
* ``--threshold``: 1 vs 2 threads by size, the measurement behind
  ``CodegenOptions.parallel_min_elements``.
"""
from __future__ import annotations

import sys

import numpy as np

from ember.compiler import kernel_ir as K
from ember.compiler.codegen.llvm import CodegenOptions, JitProgram

from .harness import measure, reexec_without_openblas_overrides, table

F = "float32"


def chain_kernel(n):
    ps = (K.Param("x", F, (n,)), K.Param("y", F, (n,), "out"))
    x = K.Load(K.Access(0, (1,)), F)
    v = K.op("maximum", x * 1.5 + 0.5, 0.0) * K.op("sigmoid", x) - K.op("tanh", x) / 2
    return K.Kernel(f"fused_chain_{n}", ps, (n,), (), (K.Store(K.Access(1, (1,)), v),))


def softmax_kernel(r, c):
    ps = (K.Param("x", F, (r, c)), K.Param("y", F, (r, c), "out"))
    x = K.Load(K.Access(0, (c, 1)), F)
    m, s = K.AccRef("m", F), K.AccRef("s", F)
    return K.Kernel("fused_softmax", ps, (r,), (c,), (
        K.Reduce("m", "max", x), K.Reduce("s", "sum", K.op("exp", x - m)),
        K.Store(K.Access(1, (c, 1)), K.op("exp", x - m) / s)))


def layernorm_kernel(r, c, eps=1e-5):
    ps = (K.Param("x", F, (r, c)), K.Param("w", F, (c,)), K.Param("b", F, (c,)),
          K.Param("y", F, (r, c), "out"))
    x = K.Load(K.Access(0, (c, 1)), F)
    mean = K.AccRef("s", F) / float(c)
    d = x - mean
    var = K.AccRef("v", F) / float(c)
    w, b = K.Load(K.Access(1, (0, 1)), F), K.Load(K.Access(2, (0, 1)), F)
    return K.Kernel("fused_layer_norm", ps, (r,), (c,), (
        K.Reduce("s", "sum", x), K.Reduce("v", "sum", d * d),
        K.Store(K.Access(3, (c, 1)), d * K.op("rsqrt", var + eps) * w + b)))


def numpy_chain(x, out, t1, t2):
    np.multiply(x, 1.5, out=t1)
    np.add(t1, 0.5, out=t1)
    np.maximum(t1, 0, out=t1)
    np.negative(x, out=t2)
    np.exp(t2, out=t2)
    np.add(t2, 1, out=t2)
    np.divide(t1, t2, out=t1)
    np.tanh(x, out=t2)
    np.multiply(t2, 0.5, out=t2)
    np.subtract(t1, t2, out=out)


def main(argv):
    if "--threshold" in argv:
        return threshold()
    n = 1 << 24
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    y, t1, t2, z = (np.empty_like(x) for _ in range(4))
    prog = JitProgram([chain_kernel(n)], num_threads=1)
    k = prog[f"fused_chain_{n}"]
    call = k.bind(x, y)
    prog2 = JitProgram([chain_kernel(n)], num_threads=2)
    call2 = prog2[f"fused_chain_{n}"].bind(x, y)
    rows = {"chain 16M f32": measure({
        "copyto": lambda: np.copyto(z, x), "ember 1 thread": call, "ember 2 threads": call2,
        "numpy out=": lambda: numpy_chain(x, y, t1, t2)}, rounds=7, warmup=2)}
    table("LLVM kernels: elementwise chain (ratios vs np.copyto)", rows, "ms", 1e3, "copyto")

    r, c = 4096, 1024
    xs = rng.standard_normal((r, c)).astype(np.float32)
    w, b = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    ys = np.empty_like(xs)
    p = JitProgram([softmax_kernel(r, c), layernorm_kernel(r, c)], num_threads=2)
    sm, ln = p["fused_softmax"].bind(xs, ys), p["fused_layer_norm"].bind(xs, w, b, ys)

    def np_softmax():
        e = np.exp(xs - xs.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def np_layernorm():
        mu = xs.mean(1, keepdims=True)
        return (xs - mu) / np.sqrt(xs.var(1, keepdims=True) + 1e-5) * w + b
    rows = {"softmax (4096,1024)": measure({"numpy": np_softmax, "ember 2 threads": sm}),
            "layer_norm (4096,1024)": measure({"numpy": np_layernorm, "ember 2 threads": ln})}
    table("LLVM kernels: row-local (ratios vs numpy)", rows, "ms", 1e3, "numpy")


def threshold():
    rng = np.random.default_rng(0)
    rows = {}
    for n in (1 << 12, 1 << 14, 1 << 15, 1 << 16, 1 << 18, 1 << 20):
        kern = chain_kernel(n)
        p1 = JitProgram([kern], CodegenOptions(parallel_min_elements=1), num_threads=1)
        p2 = JitProgram([kern], CodegenOptions(parallel_min_elements=1), num_threads=2)
        x = rng.standard_normal(n).astype(np.float32)
        y = np.empty_like(x)
        c1, c2 = p1[kern.name].bind(x, y), p2[kern.name].bind(x, y)
        rows[f"chain {n}"] = measure({"1 thread": c1, "2 threads": c2}, rounds=15, inner=5)
    table("parallel threshold (chain kernel)", rows, "us", 1e6, "1 thread")


if __name__ == "__main__":
    reexec_without_openblas_overrides("bench.llvm_kernels")
    main(sys.argv[1:])
