"""Indexing and index assignment against NumPy, gradients by finite differences."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import ember
from ember.autograd import gradcheck

A = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
I = np.array

CASES = [
    (0,), (-1,), (slice(None),), (slice(1, None),), (slice(None, None, 2),), (slice(-3, None),),
    (slice(5, 1),), (slice(-100, 100),), (0, 1), (0, slice(None), 2), (Ellipsis, 1),
    (Ellipsis,), (None,), (None, 0, None), (0, Ellipsis, None), (slice(None), None, slice(1, 3)),
    ([0, 1],), (I([1, 0, 1]),), ([0, 1], [1, 2]), (slice(None), [0, 2]),
    (slice(None), [0, 2], [1, 3]), ([0, 1], slice(None), [1, 2]), (0, [0, 2]), (1, [0, 2]),
    ([[0, 1], [1, 0]],), (Ellipsis, [0, 1]), (slice(None), 1, [1, 2]), ([1], 1),
    (A[:, 0, 0, 0] > 30,), (A[:, :, 0, 0] > 10,), (A > 50,), (slice(None), A[0, :, 0, 0] > 3),
    (None, [0, 1]), (1, None, [0, 2], slice(None, None, 3)), ([0, 1], None, [0, 1]),
    ([True, False],), ([],), (slice(None), [-1, -3]), (slice(1, 2), [0, 1], slice(None), [2, 3]),
    (slice(None, None, 3), [[0], [1]], [0, 1, 2]), (Ellipsis, None), (I(1),), (np.int64(1),),
    (True,), (False,), (slice(None), True), (slice(None), False, 0), (1, slice(None), -2, [4, 0]),
    (Ellipsis, 1, slice(None, None, 2)), (A[:, :, :, 0] > 20, [0, 3, 4][:1]), (slice(None), A[0, :, :, 0] > 10, [1]),
]


def _is_adv(i):
    return isinstance(i, list) or (isinstance(i, np.ndarray) and i.ndim > 0)


def _torch_rule(idx):
    """NumPy indices that give PyTorch's result: PyTorch applies ints as basic selects
    before the advanced indices (NumPy treats them as advanced when tensors are present),
    so the reference is two NumPy steps: the ints first, then the rest."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    ints = [isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in idx]
    if not any(_is_adv(i) for i in idx) or not any(ints):
        return [idx]
    first = []
    for i, is_int in zip(idx, ints):
        if is_int or i is Ellipsis:
            first.append(i)
        elif i is None:
            continue
        elif isinstance(i, np.ndarray) and i.dtype == bool:
            first += [slice(None)] * i.ndim
        else:
            first.append(slice(None))
    return [tuple(first), tuple(i for i, is_int in zip(idx, ints) if not is_int)]


def ref_get(a, idx):
    for step in _torch_rule(idx):
        a = a[step]
    return a


def ref_set(a, idx, value):
    steps = _torch_rule(idx)
    for step in steps[:-1]:
        a = a[step]          # basic indexing: a NumPy view, so the write lands in a
    a[steps[-1]] = value


def _as_ember(c):
    out = []
    for v in c:
        if isinstance(v, list):
            out.append(ember.tensor(v) if v else ember.tensor([], dtype=ember.int64))
        elif isinstance(v, np.ndarray):
            out.append(ember.from_numpy(v.copy()))
        else:
            out.append(v)
    return tuple(out)


@pytest.mark.parametrize("idx", CASES, ids=[str(i) for i in range(len(CASES))])
def test_getitem_matches_numpy(idx):
    want = ref_get(A, idx)
    for form in (_as_ember(idx), idx):
        got = ember.from_numpy(A.copy())[form]
        assert tuple(got.shape) == want.shape
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("idx", CASES, ids=[str(i) for i in range(len(CASES))])
def test_setitem_matches_numpy(idx):
    want = A.copy()
    ref_set(want, idx, -7)
    x = ember.from_numpy(A.copy())
    x[idx] = -7
    np.testing.assert_array_equal(x.numpy(), want)
    shape = ref_get(A, idx).shape
    val = -np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    want = A.copy()
    ref_set(want, idx, val)
    x = ember.from_numpy(A.copy())
    x[_as_ember(idx)] = ember.from_numpy(val)
    np.testing.assert_array_equal(x.numpy(), want)


def test_setitem_broadcast_value_and_list():
    x = ember.zeros(3, 4)
    x[1:] = ember.tensor([1., 2., 3., 4.])
    x[0] = [9, 8, 7, 6]
    want = np.zeros((3, 4))
    want[1:] = [1, 2, 3, 4]
    want[0] = [9, 8, 7, 6]
    np.testing.assert_array_equal(x.numpy(), want)
    x[:, [0, 2]] = ember.tensor([[5.], [6.], [7.]])
    want[:, [0, 2]] = [[5.], [6.], [7.]]
    np.testing.assert_array_equal(x.numpy(), want)


def test_setitem_casts_value_to_target_dtype():
    x = ember.zeros(3, dtype=ember.int64)
    x[0] = 2.7
    x[1:] = ember.tensor([True, True])
    assert x.dtype is ember.int64
    assert x.tolist() == [2, 1, 1]


def _index_strategy(shape):
    def one(n):
        return st.one_of(
            st.integers(-n, n - 1),
            st.builds(slice, st.one_of(st.none(), st.integers(-n - 1, n + 1)),
                      st.one_of(st.none(), st.integers(-n - 1, n + 1)),
                      st.one_of(st.none(), st.integers(1, 3))),
            st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))
    return st.tuples(*[one(n) for n in shape])


@given(st.data())
def test_hypothesis_get_and_set(data):
    shape = (3, 4, 2)
    idx = data.draw(_index_strategy(shape))
    idx = list(idx[:data.draw(st.integers(0, len(idx)))])
    for _ in range(data.draw(st.integers(0, 2))):       # new axes anywhere
        idx.insert(data.draw(st.integers(0, len(idx))), None)
    if data.draw(st.booleans()):   # an Ellipsis must not shift the per-dim entries
        n_src = sum(i is not None for i in idx)
        pos = data.draw(st.integers(0, len(idx))) if n_src == len(shape) else len(idx)
        idx.insert(pos, Ellipsis)
    idx = tuple(idx)
    a = np.arange(24.0).reshape(shape)
    n_lists = sum(isinstance(i, list) for i in idx)
    if n_lists > 1:  # list indices must broadcast together; use equal lengths
        ln = min(len(i) for i in idx if isinstance(i, list))
        idx = tuple(i[:ln] if isinstance(i, list) else i for i in idx)
    want = ref_get(a, idx)
    got = ember.from_numpy(a.copy())[_as_ember(idx)]
    np.testing.assert_array_equal(got.numpy(), want)
    b = a.copy()
    ref_set(b, idx, -1)
    x = ember.from_numpy(a.copy())
    x[_as_ember(idx)] = -1
    np.testing.assert_array_equal(x.numpy(), b)


GRAD_CASES = [(0,), (slice(1, None, 2),), (Ellipsis, 1), ([0, 1, 1],), (slice(None), [2, 0]),
              ([1, 0], [2, 2]), (None, 1, slice(None, 2)), ("mask",), (1, [0, 3])]


@pytest.mark.parametrize("idx", GRAD_CASES, ids=[str(i) for i in range(len(GRAD_CASES))])
def test_getitem_gradient_finite_differences(idx):
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    ix = (x.detach() > 0,) if idx == ("mask",) else _as_ember(idx)
    assert gradcheck(lambda t: t[ix] * 1.5, (x,))


@pytest.mark.parametrize("idx", GRAD_CASES, ids=[str(i) for i in range(len(GRAD_CASES))])
def test_setitem_gradient_finite_differences(idx):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    ix = (x.detach() > 0,) if idx == ("mask",) else _as_ember(idx)
    if ix[0] is not None and isinstance(ix[0], ember.Tensor) and ix[0].dtype is ember.bool:
        n = int(ix[0].sum())
        vshape = (n,)
    else:
        vshape = tuple(x.detach()[ix].shape)
    if idx == ([0, 1, 1],):  # duplicate targets: the written value is ill-defined
        ix = (ember.tensor([0, 1]),)
        vshape = (2, 4)
    v = ember.tensor(rng.standard_normal(vshape), requires_grad=True)

    def f(x, v):
        y = x * 2
        y[ix] = v * 3
        return y.sin()
    assert gradcheck(f, (x, v))


def test_index_put_accumulate_and_index_helpers():
    x = ember.zeros(4)
    x.index_put_((ember.tensor([0, 0, 2]),), ember.tensor([1., 2., 3.]), accumulate=True)
    assert x.tolist() == [3., 0., 3., 0.]
    a = np.arange(12.).reshape(3, 4)
    t = ember.from_numpy(a.copy())
    np.testing.assert_array_equal(t.index_select(1, ember.tensor([3, 0])).numpy(), a[:, [3, 0]])
    np.testing.assert_array_equal(t.masked_select(t > 4).numpy(), a[a > 4])
    np.testing.assert_array_equal(t.take(ember.tensor([0, 11])).numpy(), a.reshape(-1)[[0, 11]])
    np.testing.assert_array_equal(ember.nonzero(t > 8).numpy(), np.argwhere(a > 8))


@pytest.mark.parametrize("bad", [(3,), (-4,), (0, 4), ([0, 3],), (slice(None), [4])])
def test_out_of_range_raises_index_error(bad):
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        x[_as_ember(bad)]
    with pytest.raises(IndexError):
        x[_as_ember(bad)] = 1.0


def test_bad_indices_raise():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x[ember.tensor([0.5])]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="mask"):
        x[ember.tensor([True, False])]
    with pytest.raises(IndexError, match="only integers"):
        x["a"]


def test_zero_dim_int_tensor_index_is_a_view_like_torch():
    torch = pytest.importorskip("torch")
    x = ember.zeros(2, 3)
    x[ember.tensor(1)][0] = 5.0
    tx = torch.zeros(2, 3)
    tx[torch.tensor(1)][0] = 5.0
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


@pytest.mark.parametrize("idx", [(0, slice(None), [0, 1]), (None, [0, 1], None, 0),
                                 ([0, 1], None, [0, 1]), (slice(None), 0, [1, 0]),
                                 (1, slice(None), [[0], [1]]), ([0], Ellipsis, [1]),
                                 ([0, 1], 0, [1, 0])])
def test_mixed_int_and_tensor_indices_follow_torch(idx):
    torch = pytest.importorskip("torch")
    a = np.arange(24.).reshape(3, 4, 2)
    want = torch.from_numpy(a.copy())[idx].numpy()
    np.testing.assert_array_equal(ember.from_numpy(a.copy())[idx].numpy(), want)
    np.testing.assert_array_equal(ref_get(a, idx), want)
    t = torch.from_numpy(a.copy())
    t[idx] = -1.0
    x = ember.from_numpy(a.copy())
    x[idx] = -1.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())
