"""Type promotion vs PyTorch: ``result_type`` and the result dtype (and values) of binary
ops over all dtype pairs, with dim tensors, 0-d tensors and Python scalars."""
import itertools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_parity

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]
SCALARS = [True, 3, -2, 2.5, 0.0]


def _pair(name, shape):
    """The same small tensor in ember and torch (values representable in every dtype)."""
    n = int(np.prod(shape, dtype=int))
    vals = np.array([1, 0, 1, 1, 0, 1] if name == "bool" else [1, 2, 3, 1, 2, 3])[:n].reshape(shape)
    t = torch.tensor(vals.tolist(), dtype=getattr(torch, name))
    e = ember.tensor(vals.tolist(), dtype=getattr(ember, name))
    return e, t


def _name(dt):
    return str(dt).replace("torch.", "").replace("ember.", "")


SHAPES = [((2, 3), (2, 3)), ((2, 3), ()), ((), (2, 3)), ((), ())]


@pytest.mark.parametrize("sa,sb", SHAPES, ids=["dim-dim", "dim-0d", "0d-dim", "0d-0d"])
def test_result_type_tensor_pairs(sa, sb):
    bad = []
    for a, b in itertools.product(NAMES, NAMES):
        ea, ta = _pair(a, sa)
        eb, tb = _pair(b, sb)
        want = _name(torch.result_type(ta, tb))
        got = _name(ember.result_type(ea, eb))
        if got != want:
            bad.append(f"{a}{list(sa)} with {b}{list(sb)}: ember {got}, torch {want}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("shape", [(2, 3), ()], ids=["dim", "0d"])
def test_result_type_tensor_scalar(shape):
    bad = []
    for a, s in itertools.product(NAMES, SCALARS):
        ea, ta = _pair(a, shape)
        for order in ("ts", "st"):
            args_t, args_e = ((ta, s), (ea, s)) if order == "ts" else ((s, ta), (s, ea))
            want = _name(torch.result_type(*args_t))
            got = _name(ember.result_type(*args_e))
            if got != want:
                bad.append(f"{order} {a}{list(shape)} with {s!r}: ember {got}, torch {want}")
    assert not bad, "\n".join(bad)


OPS = {
    "add": lambda m, a, b: m.add(a, b),
    "mul": lambda m, a, b: m.mul(a, b),
    "div": lambda m, a, b: m.div(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "eq": lambda m, a, b: m.eq(a, b),
    "lt": lambda m, a, b: m.lt(a, b),
    "where": lambda m, a, b: m.where(m.ones((2, 3), dtype=m.bool), a, b),
    "floor_divide": lambda m, a, b: m.floor_divide(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b),
    "pow": lambda m, a, b: m.pow(a, b),
    "operator+": lambda m, a, b: a + b,
    "operator*": lambda m, a, b: a * b,
    "operator/": lambda m, a, b: a / b,
}


def _run(fn, m, a, b):
    try:
        return fn(m, a, b), None
    except Exception as e:  # noqa: BLE001 - which one raises is part of the comparison
        return None, e


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("sa,sb", SHAPES[:3], ids=["dim-dim", "dim-0d", "0d-dim"])
def test_binary_op_dtypes_and_values(op, sa, sb):
    fn = OPS[op]
    bad = []
    for a, b in itertools.product(NAMES, NAMES):
        if op in ("floor_divide", "remainder", "pow") and "bool" in (a, b):
            continue  # torch rejects some bool combinations for these; not a promotion rule
        ea, ta = _pair(a, sa)
        eb, tb = _pair(b, sb)
        want, terr = _run(fn, torch, ta, tb)
        got, eerr = _run(fn, ember, ea, eb)
        if terr is not None:
            continue  # torch refuses; ember may extend
        if eerr is not None:
            bad.append(f"{op} {a} {b}: ember raised {eerr!r}")
            continue
        if _name(got.dtype) != _name(want.dtype):
            bad.append(f"{op} {a}{list(sa)} {b}{list(sb)}: ember {_name(got.dtype)}, torch "
                       f"{_name(want.dtype)}")
            continue
        gv = got.float().numpy() if got.dtype is ember.bfloat16 else got.numpy()
        wv = want.float().numpy()
        if not np.allclose(gv.astype(np.float64), wv.astype(np.float64), rtol=1e-2, equal_nan=True):
            bad.append(f"{op} {a} {b}: values {gv.ravel()[:3]} vs {wv.ravel()[:3]}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("op", ["add", "mul", "div", "maximum", "eq", "where", "pow"])
def test_binary_op_with_scalars(op):
    fn = OPS[op]
    bad = []
    for a, s in itertools.product(NAMES, SCALARS):
        if op == "pow" and (a == "bool" or isinstance(s, bool)):
            continue
        for shape in ((2, 3), ()):
            ea, ta = _pair(a, shape)
            want, terr = _run(fn, torch, ta, s)
            got, eerr = _run(fn, ember, ea, s)
            if terr is not None:
                continue
            if eerr is not None:
                bad.append(f"{op} {a} {s!r}: ember raised {eerr!r}")
            elif _name(got.dtype) != _name(want.dtype):
                bad.append(f"{op} {a}{list(shape)} {s!r}: ember {_name(got.dtype)}, torch "
                           f"{_name(want.dtype)}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("default", ["float64", "float16"])
def test_default_dtype_governs_scalar_promotion(default):
    torch_default, ember_default = torch.get_default_dtype(), ember.get_default_dtype()
    try:
        torch.set_default_dtype(getattr(torch, default))
        ember.set_default_dtype(getattr(ember, default))
        bad = []
        for a in NAMES:
            ea, ta = _pair(a, (2,))
            for s in (2.5, 1):
                if _name(ember.result_type(ea, s)) != _name(torch.result_type(ta, s)):
                    bad.append(f"{a} with {s!r}")
            if _name(ember.exp(ea).dtype) != _name(torch.exp(ta).dtype):
                bad.append(f"exp({a})")
        assert not bad, bad
    finally:
        torch.set_default_dtype(torch_default)
        ember.set_default_dtype(ember_default)


def test_unary_float_functions_of_integers():
    for a in NAMES:
        ea, ta = _pair(a, (3,))
        for f in ("exp", "sqrt", "sigmoid", "tanh", "log1p"):
            want, terr = _run(lambda m, x, _: getattr(m, f)(x), torch, ta, None)
            if terr is not None:
                continue
            got = getattr(ember, f)(ea)
            assert _name(got.dtype) == _name(want.dtype), (f, a)


def test_reduction_dtypes():
    for a in NAMES:
        ea, ta = _pair(a, (2, 3))
        for f in ("sum", "prod", "cumsum", "amax", "argmax", "mean", "all"):
            call = (lambda m, x, _: getattr(m, f)(x, 0)) if f in ("cumsum",) else \
                (lambda m, x, _: getattr(m, f)(x))
            want, terr = _run(call, torch, ta, None)
            if terr is not None:
                continue
            got, eerr = _run(call, ember, ea, None)
            assert eerr is None, (f, a, eerr)
            assert _name(got.dtype) == _name(want.dtype), (f, a, got.dtype, want.dtype)
