"""The workloads of the compiled-speed benchmark (issue 5), written once for any
PyTorch-like library (``ember`` or ``torch``) plus a hand-written numpy version.

A workload turns numpy inputs into a zero-argument callable per system. ``wrap`` is how a
system compiles: the identity for eager, ``ember.compile`` or ``torch.compile``. The
callable returns the result (an output tensor, an input gradient or a loss), so the
benchmark can check that every system computes the same thing before timing it, and the
smoke test can check ember compiled against ember eager at tiny sizes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import compiled_numpy as cnp
from .train_eager import NumpyMLP, cnn_def, copy_weights, make_step, mlp_def

M16 = 1 << 24


@dataclass
class Workload:
    name: str                       # what --only matches
    group: str                      # one table per group
    sizes: dict                     # {"full": ..., "quick": ..., "tiny": ...}
    label: Callable                 # size -> row label
    inputs: Callable                # (size, rng) -> {name: numpy array or list}
    build: Callable                 # (lib, inputs, wrap) -> callable, or None (not run)
    numpy: Callable | None = None   # inputs -> callable
    train: bool = False             # the callable mutates state (a training step)
    reference: bool = False         # a physical reference row: no compiled systems
    extra_numpy: dict = field(default_factory=dict)  # more numpy systems: name -> inputs -> callable


class Runner:
    """A system's callable plus what a smoke test compares after it ran (the parameters
    of a training step)."""

    def __init__(self, fn, params=()):
        self.fn, self.params = fn, list(params)

    def __call__(self):
        return self.fn()


def _no_grad(lib, f, *args):
    def run():
        with lib.no_grad():
            return f(*args)
    return Runner(run)


def f32(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- elementwise and rows
def chain_fn(lib):
    def chain(x):
        return lib.relu(x * 1.5 + 0.5) * lib.sigmoid(x) - lib.tanh(x) / 2
    return chain


def gelu_fn(lib):
    def gelu(x):
        return lib.nn.functional.gelu(x, approximate="tanh")
    return gelu


def build_unary(fn_of_lib):
    def build(lib, inp, wrap):
        return _no_grad(lib, wrap(fn_of_lib(lib)), lib.tensor(inp["x"]))
    return build


def build_gelu_backward(lib, inp, wrap):
    f = wrap(gelu_fn(lib))
    x = lib.tensor(inp["x"], requires_grad=True)
    g = lib.tensor(inp["g"])

    def run():
        return lib.autograd.grad(f(x), x, g)[0]
    return Runner(run)


def build_softmax(lib, inp, wrap):
    return _no_grad(lib, wrap(lambda x: lib.softmax(x, dim=-1)), lib.tensor(inp["x"]))


def build_layer_norm(lib, inp, wrap):
    w, b = lib.tensor(inp["w"]), lib.tensor(inp["b"])
    n = inp["x"].shape[-1]

    def layer_norm(x):
        return lib.nn.functional.layer_norm(x, (n,), w, b)
    return _no_grad(lib, wrap(layer_norm), lib.tensor(inp["x"]))


def build_linear_relu(lib, inp, wrap):
    w, b = lib.tensor(inp["w"]), lib.tensor(inp["b"])

    def linear_relu(x):
        return lib.relu(lib.nn.functional.linear(x, w, b))
    return _no_grad(lib, wrap(linear_relu), lib.tensor(inp["x"]))


def build_copy(lib, inp, wrap):
    if lib.__name__ != "torch":      # the physical reference: numpy's and PyTorch's copy
        return None
    src = lib.tensor(inp["x"])
    dst = lib.empty_like(src)
    return Runner(lambda: dst.copy_(src))


def numpy_copy(inp):
    dst = np.empty_like(inp["x"])

    def run():
        np.copyto(dst, inp["x"])
        return dst
    return run


def _flat(size, rng):
    return {"x": f32(rng, (size,))}


def _rows(size, rng):
    return {"x": f32(rng, size), "w": 1 + 0.1 * f32(rng, size[-1:]), "b": f32(rng, size[-1:])}


def _gelu_bwd_inputs(size, rng):
    return {"x": f32(rng, (size,)), "g": f32(rng, (size,))}


def _linear_inputs(n, rng):
    s = np.float32(1 / np.sqrt(n))
    return {"x": f32(rng, (n, n)), "w": f32(rng, (n, n)) * s, "b": f32(rng, (n,))}


# ---------------------------------------------------------------- models
def init_params(model_def):
    """PyTorch-default initial weights (ember's init, seeded), as numpy arrays shared by
    every system so they all start from the same point."""
    import ember
    ember.manual_seed(0)
    return [p.detach().numpy().copy() for p in model_def(ember.nn).parameters()]


def build_train(model_def):
    def build(lib, inp, wrap):
        model = model_def(lib.nn)
        copy_weights(lib, model, inp["params"])
        f = wrap(make_step(lib, model))
        x, y = lib.tensor(inp["x"]), lib.tensor(inp["y"])
        return Runner(lambda: f(x, y), model.parameters())
    return build


def build_cnn_inference(lib, inp, wrap):
    model = cnn_def(lib.nn)
    copy_weights(lib, model, inp["params"])
    model.eval()
    return _no_grad(lib, wrap(model), lib.tensor(inp["x"]))


def _classify_inputs(shape_of_batch, model_def):
    def inputs(batch, rng):
        return {"x": f32(rng, shape_of_batch(batch)), "y": rng.integers(0, 10, batch),
                "params": init_params(model_def)}
    return inputs


def numpy_mlp(inp):
    ref = NumpyMLP(inp["params"], len(inp["y"]))
    x, y = inp["x"], inp["y"]
    return lambda: np.float32(ref.step(x, y))


def _obj(cls, *keys):
    def make(inp):
        return cls(*(inp[k] for k in keys)).step
    return make


def _sz(n):
    return f"{n >> 20}M" if n >= 1 << 20 and n % (1 << 20) == 0 else str(n)


def _mlp(batch):
    return Workload(
        f"mlp_b{batch}", "train", {"full": batch, "quick": min(batch, 512), "tiny": 4},
        lambda b: f"MLP 784-256-10 step, batch {b}",
        _classify_inputs(lambda b: (b, 784), mlp_def), build_train(mlp_def), numpy_mlp,
        train=True)


WORKLOADS = [
    Workload("copy", "elementwise", {"full": M16, "quick": 1 << 20, "tiny": 1000},
             lambda n: f"copy (physical reference), {_sz(n)} f32", _flat, build_copy, numpy_copy,
             reference=True),
    Workload("chain", "elementwise", {"full": M16, "quick": 1 << 20, "tiny": 1000},
             lambda n: f"relu(x*1.5+0.5)*sigmoid(x)-tanh(x)/2, {_sz(n)} f32", _flat,
             build_unary(chain_fn), _obj(cnp.Chain, "x")),
    Workload("gelu", "elementwise", {"full": M16, "quick": 1 << 20, "tiny": 1000},
             lambda n: f"GELU(tanh) forward, {_sz(n)} f32", _flat,
             build_unary(gelu_fn), _obj(cnp.Gelu, "x")),
    Workload("gelu_bwd", "elementwise", {"full": M16, "quick": 1 << 20, "tiny": 1000},
             lambda n: f"GELU(tanh) forward+backward, {_sz(n)} f32", _gelu_bwd_inputs,
             build_gelu_backward, _obj(cnp.GeluBackward, "x", "g")),
    Workload("softmax", "rows", {"full": (4096, 1024), "quick": (512, 1024), "tiny": (4, 8)},
             lambda s: f"softmax dim -1, {s}", _rows, build_softmax, _obj(cnp.Softmax, "x")),
    Workload("layer_norm", "rows", {"full": (4096, 1024), "quick": (512, 1024), "tiny": (4, 8)},
             lambda s: f"layer_norm (affine), {s}", _rows, build_layer_norm,
             _obj(cnp.LayerNorm, "x", "w", "b")),
    _mlp(32), _mlp(128), _mlp(2048),
    Workload("cnn_train", "train", {"full": 64, "quick": 16, "tiny": 2},
             lambda b: f"small CNN step, batch {b}",
             _classify_inputs(lambda b: (b, 1, 28, 28), cnn_def), build_train(cnn_def),
             lambda inp: cnp.CNNTrain(inp["x"], inp["y"], inp["params"]).step, train=True),
    Workload("cnn_infer", "inference", {"full": 64, "quick": 16, "tiny": 2},
             lambda b: f"small CNN inference, batch {b}",
             _classify_inputs(lambda b: (b, 1, 28, 28), cnn_def), build_cnn_inference,
             lambda inp: cnp.CNNInference(inp["x"], inp["params"]).step),
    Workload("linear_relu", "inference", {"full": 1024, "quick": 256, "tiny": 8},
             lambda n: f"relu(linear(x, W, b)), {n}^3", _linear_inputs, build_linear_relu,
             _obj(cnp.LinearRelu, "x", "w", "b"),
             extra_numpy={"numpy np.maximum(x @ W.T + b, 0)":
                          lambda inp: cnp.linear_relu_expression(inp["x"], inp["w"], inp["b"])}),
]

BY_NAME = {w.name: w for w in WORKLOADS}
GROUPS = {
    "elementwise": "elementwise, 1-D float32 (time per call)",
    "rows": "row-wise reductions (time per call)",
    "train": "training step: zero_grad + forward + cross-entropy + backward + SGD momentum",
    "inference": "inference and matmul",
}


def select(only):
    """Workloads whose name or group matches one of the comma-separated ``only`` names
    (a prefix is enough: ``mlp`` selects every batch size)."""
    if not only:
        return list(WORKLOADS)
    keys = [k.strip() for k in only.split(",") if k.strip()]
    picked = [w for w in WORKLOADS
              if any(w.name.startswith(k) or w.group == k for k in keys)]
    if not picked:
        raise SystemExit(f"--only {only!r} matches no workload; choose from "
                         f"{', '.join(BY_NAME)} or a group ({', '.join(GROUPS)})")
    return picked


def ember_compile_wrap(backend=None):
    import ember

    def wrap(f):
        c = ember.compile(f, backend=backend)
        wrap.made.append(c)
        return c
    wrap.made = []  # the compiled callables, for their backend and compile timings
    return wrap


def compiled_fn(c):
    """The ``CompiledFunction`` behind ``ember.compile(f)`` or ``ember.compile(module)``."""
    return getattr(c, "_compiled_forward", c)


def backend_of(c):
    """The backend an ember compiled callable resolved to (the default when none given)."""
    return getattr(compiled_fn(c), "backend", None) or "default"


def to_numpy(r):
    if hasattr(r, "detach"):
        r = r.detach()
    return np.asarray(r.numpy() if hasattr(r, "numpy") else r, dtype=np.float64)
