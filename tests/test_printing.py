"""repr(tensor) matches PyTorch's character for character (with 'torch.' -> 'ember.')."""
import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

VALUES = [
    [1., 2., 3.], [1.5, 2.25], [[1, 2], [3, 4]], [True, False], 3.0, 3, True, -2.5, 0.0,
    [1e-5, 1.0], [1e10, 1.0], [0.1, 100.], [1e-3, 1.0], [0.0001, 1.], [1e8, 1.], [1e9, 1.],
    [math.nan, 1.0], [math.inf, -1.5], [math.inf, 1.0], [-math.inf, math.nan], [-0.0, 1.0],
    [123456.0, 1.5], [[1.123456, -2.5], [3.0, 4.0]], [-1, 10, 100],
    [[[1., 2.], [3., 4.]], [[5., 6.], [7., 8.]]], list(range(2000)),
    [x * 0.5 for x in range(2000)], [[x * 0.1 for x in range(30)] for _ in range(3)],
    [[i * 7 + j for j in range(40)] for i in range(40)], [], 1e-10, 1e20, [1e-10], [0.],
    [0., 0.], [1e20, 1e-20], [12345678.9], [x * 1.1 for x in range(50)], [math.nan],
    [[True] * 30] * 2, [-5, 3], [2 ** 40, -1], [0.5] * 1001,
]


def _torch_repr(t):
    return repr(t).replace("torch.", "ember.")


@pytest.mark.parametrize("data", VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_repr_matches_torch(data):
    assert repr(ember.tensor(data)) == _torch_repr(torch.tensor(data))
    assert str(ember.tensor(data)) == _torch_repr(torch.tensor(data))


@pytest.mark.parametrize("dt", ["float64", "float16", "bfloat16", "int32", "int16", "int8",
                                "uint8", "int64", "bool", "float32"])
@pytest.mark.parametrize("make", ["vec", "scalar", "empty", "empty2d"])
def test_dtype_suffix(dt, make):
    def build(lib):
        d = getattr(lib, dt)
        if make == "vec":
            return lib.tensor([1, 2, 0], dtype=d)
        if make == "scalar":
            return lib.tensor(2, dtype=d)
        if make == "empty":
            return lib.zeros(0, dtype=d)
        return lib.zeros(2, 0, 3, dtype=d)
    assert repr(build(ember)) == _torch_repr(build(torch))


def test_float_dtypes_nontrivial_values():
    data = [[0.1, -2.75, 3.0], [1e-3, 5.5, 100.25]]
    for dt in ["float64", "float16", "bfloat16"]:
        assert repr(ember.tensor(data, dtype=getattr(ember, dt))) == \
            _torch_repr(torch.tensor(data, dtype=getattr(torch, dt)))


@pytest.mark.parametrize("fn", [
    lambda L, x: x, lambda L, x: x * 2, lambda L, x: x.sum(), lambda L, x: x + 1,
    lambda L, x: x.double(), lambda L, x: x[0], lambda L, x: x.exp(), lambda L, x: x.view(2, 1),
    lambda L, x: x.detach(), lambda L, x: x.t(), lambda L, x: x.unsqueeze(0) @ x.unsqueeze(1),
    lambda L, x: L.cat([x, x]), lambda L, x: x[1:], lambda L, x: x.expand(3, 2),
])
def test_grad_suffixes(fn):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(fn(ember, x)) == _torch_repr(fn(torch, tx))


def test_long_suffix_wraps_like_torch():
    data = [[x * 1.5 for x in range(7)] for _ in range(2)]
    x = ember.tensor(data, dtype=ember.float64, requires_grad=True)
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    assert repr(x * 2) == _torch_repr(tx * 2)
    assert repr(x) == _torch_repr(tx)


@pytest.mark.parametrize("opts", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                  dict(threshold=5), dict(edgeitems=1, threshold=5),
                                  dict(linewidth=30), dict(profile="short")])
def test_printoptions(opts):
    data = [[1.23456, -20.5, 0.001], [4.0, 5.0, 6.5], [7, 8, 9], [1, 2, 3]]
    try:
        ember.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        assert repr(ember.tensor(data)) == _torch_repr(torch.tensor(data))
        assert repr(ember.arange(20)) == _torch_repr(torch.arange(20))
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_random_values_match_torch_format():
    rng = np.random.default_rng(0)
    for scale in [1e-6, 1e-2, 1.0, 1e3, 1e9]:
        a = (rng.standard_normal((4, 5)) * scale).astype(np.float32)
        assert repr(ember.from_numpy(a)) == _torch_repr(torch.from_numpy(a))


def test_size_and_device_reprs():
    assert repr(ember.zeros(2, 3).shape) == "ember.Size([2, 3])"
    assert repr(ember.device("cpu")) == "device(type='cpu')"
    assert str(ember.device("cuda:1")) == "cuda:1"
    assert format(ember.tensor(2.5), ".2f") == "2.50"


@pytest.mark.parametrize("make", [
    lambda L: L.arange(5000).reshape(10, 10, 50), lambda L: L.arange(5000.).reshape(10, 500) / 7,
    lambda L: L.tensor(float("nan")), lambda L: L.tensor(False),
    lambda L: L.tensor([1e-5, 2.], dtype=L.float16), lambda L: L.arange(24.).reshape(2, 3, 4).transpose(0, 2),
    lambda L: L.tensor([[-0.0]]), lambda L: L.ones(2, 1, 3) * -1e-9,
    lambda L: L.tensor([1, 2, 3], dtype=L.uint8)[None], lambda L: L.arange(2000).reshape(2, 1000)[:, ::3],
    lambda L: L.tensor([123456789.0]), lambda L: L.tensor([0.1, float("inf")]) * 1e-6,
])
def test_repr_structured_cases(make):
    assert repr(make(ember)) == _torch_repr(make(torch))
