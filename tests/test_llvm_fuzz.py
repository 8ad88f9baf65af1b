"""Property test: random elementwise/reduction kernels over random views (permuted,
broadcast, sliced inputs; 0-, 1- and odd-size dims) compiled by the LLVM backend equal a
numpy float64 evaluation of the same expression."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("llvmlite")

from ember.compiler import kernel_ir as K  # noqa: E402
from ember.compiler.codegen.llvm import JitProgram  # noqa: E402

UNARY = {"neg": np.negative, "exp": np.exp, "tanh": np.tanh, "abs": np.abs, "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
         "erf": None, "sin": np.sin}
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum,
          "minimum": np.minimum}


def _erf(a):
    from _helpers import erf64
    return erf64(a)


UNARY["erf"] = _erf


@st.composite
def programs(draw):
    rank = draw(st.integers(1, 3))
    space = tuple(draw(st.sampled_from([0, 1, 2, 3, 5, 7, 17])) for _ in range(rank))
    n_in = draw(st.integers(1, 3))
    views = []
    for _ in range(n_in):
        perm = draw(st.permutations(range(rank)))
        bcast = [draw(st.booleans()) for _ in range(rank)]
        # the stored buffer: the view's shape permuted back, broadcast dims stored as 1,
        # and an extra slice margin on the last stored axis
        vshape = tuple(1 if b else n for b, n in zip(bcast, space))
        stored = [vshape[p] for p in perm]
        pad = draw(st.integers(0, 2))
        stored[-1] += pad
        views.append((tuple(perm), tuple(bcast), tuple(stored), draw(st.integers(0, pad))))
    ops = draw(st.lists(st.tuples(st.sampled_from(list(UNARY) + list(BINARY)),
                                  st.integers(0, 10), st.integers(0, 10)), min_size=1,
                        max_size=4))
    reduce = draw(st.sampled_from([None, "sum", "max"])) if rank >= 2 else None
    return space, views, ops, reduce


def _strides(stored, perm, bcast, offset):
    cs = K.contiguous_strides(stored)
    # iteration axis d walks stored axis inv[d]
    inv = [perm.index(d) for d in range(len(perm))]
    return tuple(0 if bcast[d] else cs[inv[d]] for d in range(len(perm))), offset


@settings(deadline=None)
@given(programs(), st.integers(0, 2 ** 31))
def test_random_kernels_match_numpy(program, seed):
    space, views, ops, reduce = program
    rng = np.random.default_rng(seed)
    params, loads, arrays, refs = [], [], [], []
    for i, (perm, bcast, stored, off) in enumerate(views):
        params.append(K.Param(f"in{i}", "float32", stored))
        a = rng.standard_normal(stored).astype(np.float32)
        arrays.append(a)
        strides, offset = _strides(stored, perm, bcast, off)
        loads.append(K.Load(K.Access(i, strides, offset), "float32"))
        # numpy view of the same thing, in float64
        sl = [slice(None)] * len(stored)
        inv = [perm.index(d) for d in range(len(perm))]
        last_len = 1 if bcast[perm[-1]] else space[perm[-1]]
        sl[-1] = slice(off, off + last_len)
        v = a.astype(np.float64)[tuple(sl)].transpose(inv)
        refs.append(np.broadcast_to(v, space))
    vals, rvals = list(loads), list(refs)
    for name, i, j in ops:
        x, rx = vals[i % len(vals)], rvals[i % len(rvals)]
        if name in UNARY:
            vals.append(K.op(name, x))
            with np.errstate(all="ignore"):
                rvals.append(UNARY[name](rx))
        else:
            y, ry = vals[j % len(vals)], rvals[j % len(rvals)]
            vals.append(K.op(name, x, y))
            rvals.append(BINARY[name](rx, ry))
    expr, ref = vals[-1], rvals[-1]
    n = len(params)
    if reduce is None:
        params.append(K.Param("out", "float32", space, "out"))
        body = (K.Store(K.Access(n, K.contiguous_strides(space)), expr),)
        kern = K.Kernel("fuzz", tuple(params), space, (), body)
        want = ref
    else:
        if reduce == "max" and space[-1] == 0:
            return
        params.append(K.Param("out", "float32", space[:-1], "out"))
        st_out = K.contiguous_strides(space[:-1]) + (0,)
        body = (K.Reduce("r", reduce, expr),
                K.Store(K.Access(n, st_out), K.AccRef("r", "float32")))
        kern = K.Kernel("fuzz", tuple(params), space[:-1], space[-1:], body)
        want = ref.sum(-1) if reduce == "sum" else ref.max(-1)
    out = np.zeros(params[-1].shape, np.float32)
    JitProgram([kern], num_threads=1)["fuzz"](*arrays, out)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(out, want, rtol=2e-5, atol=2e-5 * (1 + np.abs(want).max(
            initial=0) if reduce == "sum" else 1e-5))


test_random_kernels_match_numpy = pytest.mark.filterwarnings("ignore")(
    test_random_kernels_match_numpy)
