"""``OpSpec``: one op's test description (like PyTorch's OpInfo), plus constructors for
the common shapes of entry (unary, binary, reduction). The entries live in the
``_specs_*`` modules; ``opspecs.OP_SPECS`` is the assembled list."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .sampling import BINARY_SHAPES, UNARY_SHAPES, Sample, arr

FLOATS = ("float32", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
INTS = ("uint8",) + SIGNED
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",)

# (rtol, atol) per *result* dtype; integer and bool results are compared exactly
DEFAULT_TOL = {"float32": (2e-5, 2e-6), "float64": (1e-11, 1e-13), "float16": (2e-3, 2e-3)}


@dataclass
class OpSpec:
    """How to call, check and differentiate one primitive or composite.

    ``op(m, *tensors, **kwargs)`` runs the op with module ``m`` (``ember``; ``torch`` in the
    parity tests when ``torch_ok``); ``fn`` is ``op`` bound to ember, the callable the
    compile tests run compiled. ``ref(*arrays, **kwargs)`` computes the result with numpy
    in float64 (float arguments are upcast before the call). ``samples(rng, dtype)``
    returns ``Sample`` objects whose float arrays have ``dtype``. ``grad`` lists the
    argument positions that are differentiable (empty: not differentiable).
    ``out_dtype`` is a rule per output: "same" (the input dtype), "float" (same for floats,
    else float32), "bool", "int64", "sum" (floats keep, ints and bools -> int64), a dtype
    name, or None (not checked)."""
    name: str
    op: Callable
    ref: Callable
    samples: Callable
    dtypes: tuple = FLOATS
    grad: tuple = (0,)
    out_dtype: object = "same"
    tol: dict = field(default_factory=dict)
    kind: str = "composite"
    torch_ok: bool = True
    torch_op: Callable | None = None
    grad2: bool = True
    fd_eps: float = 1e-6
    grad_tol: tuple = (1e-5, 1e-7)
    grad_outputs: tuple | None = None   # output positions the VJP check uses (None: floats)
    torch_grad_tol: tuple = (1e-10, 1e-12)  # parity of float64 gradients with torch
    lowp: bool = True                   # also value-test in float16/bfloat16
    grad_filter: Callable | None = None  # which float64 samples the VJP checks use
    notes: str = ""
    prim: str | None = None             # the primitive an entry tests directly

    def fn(self, *args, **kwargs):
        import ember
        return self.op(ember, *args, **kwargs)

    def torch_fn(self, torch, *args, **kwargs):
        return (self.torch_op or self.op)(torch, *args, **kwargs)

    def tolerance(self, result_dtype_name):
        return self.tol.get(result_dtype_name, DEFAULT_TOL.get(result_dtype_name, (0, 0)))

    @property
    def differentiable(self):
        return bool(self.grad)

    def __repr__(self):
        return f"OpSpec({self.name})"


# ------------------------------------------------------------ sample generators

def unary_samples(low=-2.0, high=2.0, avoid=(), shapes=UNARY_SHAPES, extra=()):
    def gen(rng, dtype):
        out = [Sample((arr(rng, s, dtype, low, high, avoid),)) for s in shapes]
        for values in extra:  # hand-picked points (edge cases), where representable
            a = np.asarray(values)
            integral = np.all(np.isfinite(a)) and np.all(np.mod(a, 1) == 0)
            if is_float_dtype(dtype) or integral:
                out.append(Sample((a.astype(dtype),), desc="edge"))
        return out
    return gen


def binary_samples(low=-2.0, high=2.0, low_b=None, high_b=None, avoid_b=(), shapes=BINARY_SHAPES,
                   ties=False, special=True):
    low_b = low if low_b is None else low_b
    high_b = high if high_b is None else high_b

    def gen(rng, dtype):
        out = []
        for sa, sb in shapes:
            a = arr(rng, sa, dtype, low, high)
            b = arr(rng, sb, dtype, low_b, high_b, avoid_b)
            out.append(Sample((a, b)))
        if ties:  # equal operands: tie-breaking in the values (gradients are tested apart)
            a = arr(rng, (2, 3), dtype, low, high)
            out.append(Sample((a, a.copy()), desc="ties"))
        if special and is_float_dtype(dtype):  # every pair of special values
            sp = np.array(SPECIAL_PAIR_VALUES)
            a, b = np.repeat(sp, sp.size).astype(dtype), np.tile(sp, sp.size).astype(dtype)
            out.append(Sample((a, b), desc="edge"))
        return out
    return gen


SPECIAL_PAIR_VALUES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e30, 1e-30]


def is_float_dtype(dtype):
    return np.dtype(dtype).kind == "f" or np.dtype(dtype).name == "bfloat16"


def scalar_samples(values, low=-2.0, high=2.0, avoid=(), shapes=((2, 3), (), (4,))):
    """The tensor is argument 0; the Python scalar goes in kwargs['s']."""
    def gen(rng, dtype):
        return [Sample((arr(rng, s, dtype, low, high, avoid),), {"s": v}) for s in shapes
                for v in values]
    return gen


def reduce_samples(dims=(None, 0, -1, (0, 2)), keepdims=(False, True), low=-2.0, high=2.0,
                   shapes=((2, 3, 4),), extra_shapes=((), (3,), (0, 3)), extra_dims=(None, 0),
                   distinct=False, dim_name="dim", with_keepdim=True, special=True):
    from .sampling import distinct as _distinct

    def make(rng, s, dtype):
        return _distinct(rng, s, dtype, low, high) if distinct else arr(rng, s, dtype, low, high)

    def gen(rng, dtype):
        out = []
        for s in shapes:
            for d in dims:
                # torch has no keepdim without a dim for most reductions
                for k in (keepdims if with_keepdim and d is not None else (None,)):
                    kw = {} if d is None else {dim_name: d}
                    if k is not None:
                        kw["keepdim"] = k
                    out.append(Sample((make(rng, s, dtype),), kw))
        if special and is_float_dtype(dtype):  # nan, infinities and signed zeros
            e = np.array([[1.0, np.nan, 3.0, 0.5], [np.inf, -np.inf, 2.0, 1.0],
                          [0.0, -0.0, 5.0, -1.0]], dtype)
            for d in [d for d in (None, 1) if d in dims] or [dims[0]]:
                out.append(Sample((e,), {} if d is None else {dim_name: d}, "edge"))
        for s in extra_shapes:
            for d in extra_dims:
                if d is not None and (len(s) == 0 and d not in (0, -1)):
                    continue
                kw = {} if d is None else {dim_name: d}
                out.append(Sample((make(rng, s, dtype),), kw))
        return out
    return gen


# ------------------------------------------------------------ constructors

def unary(name, op, ref, *, low=-2.0, high=2.0, avoid=(), dtypes=FLOATS, out_dtype="float",
          grad=(0,), extra=(), **kw):
    return OpSpec(name, op, ref, unary_samples(low, high, avoid, extra=extra), dtypes=dtypes,
                  out_dtype=out_dtype, grad=grad, **kw)


def binary(name, op, ref, *, low=-2.0, high=2.0, low_b=None, high_b=None, avoid_b=(),
           dtypes=FLOATS, out_dtype="same", grad=(0, 1), ties=False, **kw):
    return OpSpec(name, op, ref, binary_samples(low, high, low_b, high_b, avoid_b, ties=ties),
                  dtypes=dtypes, out_dtype=out_dtype, grad=grad, **kw)


def reduction(name, op, ref, *, dtypes=FLOATS, out_dtype="same", grad=(0,), **sample_kw):
    tol = sample_kw.pop("tol", {})
    extra = {k: sample_kw.pop(k) for k in list(sample_kw) if k in OpSpec.__dataclass_fields__}
    return OpSpec(name, op, ref, reduce_samples(**sample_kw), dtypes=dtypes, out_dtype=out_dtype,
                  grad=grad, tol=tol, **extra)
