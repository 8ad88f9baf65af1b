"""Creation functions: dtype, shape, values and requires_grad against PyTorch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

CASES = {
    "int_list": lambda L: L.tensor([1, 2]), "mixed": lambda L: L.tensor([1, 2.]),
    "bool_int": lambda L: L.tensor([True, 1]), "np_int32": lambda L: L.tensor(np.array([1, 2], dtype=np.int32)),
    "dtype": lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.float64), "scalar": lambda L: L.tensor(3.5),
    "empty_list": lambda L: L.tensor([]), "tensor_list": lambda L: L.tensor([L.tensor(1.), L.tensor(2.)]),
    "np_scalar": lambda L: L.tensor(np.float32(2.5)), "np_0d": lambda L: L.tensor(np.array(2)),
    "Tensor_list": lambda L: L.Tensor([1, 2]), "Tensor_sizes": lambda L: L.Tensor(2, 3).zero_(),
    "Tensor_np": lambda L: L.Tensor(np.array([1, 2])), "Tensor_nested": lambda L: L.Tensor([[1, 2]]),
    "Tensor_empty": lambda L: L.Tensor(), "FloatTensor": lambda L: L.FloatTensor([1, 2]),
    "Tensor_Size": lambda L: L.Tensor(L.ones(2, 3).shape).zero_(),
    "LongTensor": lambda L: L.LongTensor([1.7, 2]), "FloatTensor_sizes": lambda L: L.FloatTensor(2, 2).zero_(),
    "LongTensor_size": lambda L: L.LongTensor(3).zero_(), "DoubleTensor": lambda L: L.DoubleTensor([1]),
    "zeros": lambda L: L.zeros(2, 3), "zeros_tuple": lambda L: L.zeros((2, 3)),
    "zeros_list_dtype": lambda L: L.zeros([2, 3], dtype=L.int32),
    "ones_grad": lambda L: L.ones(3, requires_grad=True), "ones_0d": lambda L: L.ones(()),
    "full_int": lambda L: L.full((2,), 3), "full_float": lambda L: L.full((2,), 3.),
    "full_bool": lambda L: L.full((2,), True), "full_dtype": lambda L: L.full([2, 2], 1.5, dtype=L.float64),
    "empty": lambda L: L.empty(2, 3).zero_(), "zeros_like": lambda L: L.zeros_like(L.ones(2, dtype=L.int32)),
    "ones_like": lambda L: L.ones_like(L.ones(2, 3), dtype=L.float64),
    "full_like": lambda L: L.full_like(L.ones(2), 7), "empty_like": lambda L: L.empty_like(L.ones(2)).fill_(1),
    "rand_like": lambda L: L.rand_like(L.ones(2, dtype=L.float64)).mul(0),
    "randn_like": lambda L: L.randn_like(L.ones(2)).mul(0),
    "zeros_like_grad": lambda L: L.zeros_like(L.ones(2), requires_grad=True),
    "arange": lambda L: L.arange(5), "arange2": lambda L: L.arange(1, 4),
    "arange_frac": lambda L: L.arange(0, 1, 0.25), "arange_float": lambda L: L.arange(5.),
    "arange_neg": lambda L: L.arange(10, 0, -3), "arange_dtype": lambda L: L.arange(0, 5, dtype=L.float64),
    "arange_neg_float": lambda L: L.arange(-1.5, 1.5, 0.5), "arange_round": lambda L: L.arange(0.1, 0.35, 0.1),
    "arange_empty": lambda L: L.arange(0), "linspace": lambda L: L.linspace(0, 1, 5),
    "linspace1": lambda L: L.linspace(-2, 2, 1), "linspace_dtype": lambda L: L.linspace(0, 10, 4, dtype=L.float64),
    "logspace": lambda L: L.logspace(0, 2, 3), "eye": lambda L: L.eye(3),
    "eye_rect": lambda L: L.eye(2, 3, dtype=L.int64), "from_numpy": lambda L: L.from_numpy(np.arange(3.)),
    "as_tensor": lambda L: L.as_tensor([1, 2]), "zeros_empty": lambda L: L.zeros(0, 3),
    "new_zeros": lambda L: L.tensor([[1., 2.]]).new_zeros(2),
    "new_ones": lambda L: L.tensor([1], dtype=L.int32).new_ones((2, 2)),
    "new_tensor": lambda L: L.tensor([1.]).new_tensor([1, 2]),
    "new_full": lambda L: L.tensor([1.]).new_full((2,), 3),
    "new_empty": lambda L: L.tensor([1.]).new_empty(2).fill_(0),
    "bool_zeros": lambda L: L.zeros(2, dtype=L.bool), "tril": lambda L: L.tril(L.ones(3, 3)),
    "triu": lambda L: L.triu(L.ones(3, 4), 1), "uint8": lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.uint8),
    "device_str": lambda L: L.ones(2, 2, device="cpu"), "device_obj": lambda L: L.zeros(2, device=L.device("cpu")),
    "int8": lambda L: L.tensor([-1, 2], dtype=L.int8), "int16": lambda L: L.tensor([1, 2], dtype=L.int16),
    "float16": lambda L: L.tensor([1.5, 2], dtype=L.float16), "half_method": lambda L: L.ones(2).half(),
}


def _summary(t):
    return (str(t.dtype).replace("torch.", "ember."), tuple(t.shape),
            np.asarray(t.detach().numpy(), dtype=np.float64).tolist(), t.requires_grad, t.is_leaf)


@pytest.mark.parametrize("name", list(CASES))
def test_creation_matches_torch(name):
    f = CASES[name]
    assert _summary(f(ember)) == _summary(f(torch))


def test_tensor_copies_but_from_numpy_shares():
    a = np.arange(3.0)
    t, f, s = ember.tensor(a), ember.from_numpy(a), ember.as_tensor(a)
    a[0] = 9
    assert t.tolist()[0] == 0 and f.tolist()[0] == 9 and s.tolist()[0] == 9


def test_creation_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(2, -1)
    with pytest.raises((ValueError, TypeError)):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="from_numpy"):
        ember.from_numpy([1, 2])
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        ember.arange(0, 3, 0)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.zeros(2, dtype=ember.int64, requires_grad=True)


def test_typed_tensor_isinstance():
    assert isinstance(ember.ones(2), ember.FloatTensor)
    assert not isinstance(ember.ones(2, dtype=ember.int64), ember.FloatTensor)
    assert isinstance(ember.ones(2, dtype=ember.int64), ember.LongTensor)
    assert ember.ones(2).type() == "ember.FloatTensor"
    assert ember.ones(2).type(ember.float64).dtype is ember.float64
