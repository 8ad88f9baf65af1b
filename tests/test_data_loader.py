"""Datasets, default_collate and the single-process DataLoader: batching, collation,
shuffling reproducibility and option errors."""
import collections
import math

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                              IterableDataset, SequentialSampler, StackDataset, Subset,
                              TensorDataset, default_collate, default_convert,
                              get_worker_info, random_split)

from _helpers import gen, to_np


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ---------------------------------------------------------------- datasets
def test_tensor_dataset():
    x = ember.arange(12.0).reshape(6, 2)
    y = ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    np.testing.assert_array_equal(to_np(a), [8.0, 9.0])
    assert int(b) == 4
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, ember.arange(5))
    with pytest.raises(TypeError, match="argument 1"):
        TensorDataset(x, [1, 2])


def test_concat_and_add():
    a, b = Squares(3), Squares(4)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 7
    assert [c[i] for i in range(7)] == [0, 1, 4, 0, 1, 4, 9]
    assert c[-1] == 9 and c[-7] == 0
    assert c.cumulative_sizes == [3, 7]
    with pytest.raises(IndexError):
        c[7]
    with pytest.raises(ValueError, match="exceed"):
        c[-8]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([a, Stream(2)])


def test_chain_and_stack():
    ch = Stream(2) + Stream(3)
    assert isinstance(ch, ChainDataset) and list(ch) == [0, 1, 0, 1, 2] and len(ch) == 5
    st = StackDataset(Squares(3), Squares(3))
    assert st[2] == (4, 4)
    assert StackDataset(x=Squares(2), y=Squares(2))[1] == {"x": 1, "y": 1}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(Squares(2), Squares(3))


def test_subset():
    s = Subset(Squares(10), [9, 2, 5])
    assert len(s) == 3 and [s[i] for i in range(3)] == [81, 4, 25]
    assert s.__getitems__([2, 0]) == [25, 81]


def test_random_split_lengths():
    parts = random_split(range(10), [3, 7], generator=gen(0))
    assert [len(p) for p in parts] == [3, 7]
    allidx = sorted(i for p in parts for i in p)
    assert allidx == list(range(10))
    again = random_split(range(10), [3, 7], generator=gen(0))
    assert [list(p) for p in again] == [list(p) for p in parts]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 6])


@pytest.mark.parametrize("n, fracs", [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                      (7, [0.1, 0.2, 0.3, 0.4]), (5, [1 / 3] * 3)])
def test_random_split_fractions_like_pytorch(n, fracs):
    # PyTorch: floor each share, then give the remainder round-robin from the first split
    expect = [math.floor(n * f) for f in fracs]
    for i in range(n - sum(expect)):
        expect[i % len(expect)] += 1
    parts = random_split(range(n), fracs, generator=gen(1))
    assert [len(p) for p in parts] == expect
    assert sorted(i for p in parts for i in p) == list(range(n))
    torch = pytest.importorskip("torch")
    tparts = torch.utils.data.random_split(range(n), fracs)
    assert [len(p) for p in tparts] == expect


def test_random_split_bad_fraction():
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(range(4), [1.5, -0.5])


# ---------------------------------------------------------------- collate
Point = collections.namedtuple("Point", "x y")


def test_collate_numbers_and_strings():
    f = default_collate([1.5, 2.0])
    assert f.dtype is ember.float64 and to_np(f).tolist() == [1.5, 2.0]
    i = default_collate([1, 2, 3])
    assert i.dtype is ember.int64 and to_np(i).tolist() == [1, 2, 3]
    b = default_collate([True, False])
    assert b.dtype is ember.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    s = default_collate([np.float32(1), np.float32(2)])
    assert s.dtype is ember.float32 and s.shape == (2,)


def test_collate_tensors_and_arrays():
    t = default_collate([ember.ones(2, 3), ember.zeros(2, 3)])
    assert t.shape == (2, 2, 3) and t.dtype is ember.float32
    np.testing.assert_array_equal(to_np(t)[0], np.ones((2, 3)))
    a = default_collate([np.arange(3, dtype=np.int32), np.arange(3, 6, dtype=np.int32)])
    assert a.dtype is ember.int32 and to_np(a).tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([ember.ones(2), ember.ones(3)])
    with pytest.raises(TypeError, match="found"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_collate_structures():
    batch = [({"a": 1, "b": [np.ones(2), 2.0]}, Point(1, ember.tensor(2.0))),
             ({"a": 3, "b": [np.zeros(2), 4.0]}, Point(5, ember.tensor(6.0)))]
    out = default_collate(batch)
    assert isinstance(out, list) and len(out) == 2               # tuples become lists
    d, p = out
    assert set(d) == {"a", "b"} and to_np(d["a"]).tolist() == [1, 3]
    assert isinstance(d["b"], list)
    np.testing.assert_array_equal(to_np(d["b"][0]), [[1, 1], [0, 0]])
    assert d["b"][1].dtype is ember.float64
    assert isinstance(p, Point) and to_np(p.x).tolist() == [1, 5]
    assert to_np(p.y).tolist() == [2.0, 6.0]
    od = default_collate([collections.OrderedDict(z=1, a=2)] * 2)
    assert isinstance(od, collections.OrderedDict) and list(od) == ["z", "a"]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def _to_py(x):
    """Structure with tensors replaced by (dtype name, values) for comparison."""
    if hasattr(x, "numpy") and hasattr(x, "dtype"):
        return ("T", str(x.dtype).split(".")[-1], np.asarray(x.detach().numpy()).tolist())
    if isinstance(x, dict):
        return {k: _to_py(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__ if not hasattr(x, "_fields") else "nt",
                [_to_py(v) for v in x])
    return x


def test_collate_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate

    def sample(i, lib):
        return {"img": np.full((2, 2), i, dtype=np.float32), "label": i, "w": 0.5 * i,
                "meta": ("s%d" % i, [i, i + 1]), "flag": bool(i % 2),
                "np": np.int16(i), "t": lib.tensor([i, i], dtype=lib.float32)}
    ours = default_collate([sample(i, ember) for i in range(3)])
    theirs = tcollate([sample(i, torch) for i in range(3)])
    assert _to_py(ours) == _to_py(theirs)


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float64(2.0), "s"), "c": 1})
    assert out["a"].dtype is ember.int64 and to_np(out["a"]).tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and out["b"][0].shape == () and out["b"][1] == "s"
    assert out["c"] == 1


# ---------------------------------------------------------------- loader
def test_loader_batches_and_len():
    x = ember.arange(20.0).reshape(10, 2)
    y = ember.arange(10)
    dl = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(to_np(batches[1][0]), np.arange(8.0, 16.0).reshape(4, 2))
    np.testing.assert_array_equal(to_np(batches[2][1]), [8, 9])
    dl = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[1].shape[0] for b in dl] == [4, 4]


def test_loader_shuffle_reproducible_and_complete():
    ds = Squares(13)
    runs = []
    for _ in range(2):
        dl = DataLoader(ds, batch_size=5, shuffle=True, generator=gen(42))
        runs.append([to_np(b).tolist() for b in dl] + [to_np(b).tolist() for b in dl])
    assert runs[0] == runs[1]
    epoch1 = sum(runs[0][:3], [])
    epoch2 = sum(runs[0][3:], [])
    assert sorted(epoch1) == sorted(epoch2) == [i * i for i in range(13)]
    assert epoch1 != epoch2 and epoch1 != [i * i for i in range(13)]
    other = DataLoader(ds, batch_size=5, shuffle=True, generator=gen(43))
    assert sum((to_np(b).tolist() for b in other), []) != epoch1


def test_loader_no_auto_batching_and_custom_collate():
    dl = DataLoader([np.arange(2), np.arange(2, 4)], batch_size=None)
    out = list(dl)
    assert len(dl) == 2 and out[0].shape == (2,) and to_np(out[1]).tolist() == [2, 3]
    dl = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: sum(b))
    assert list(dl) == [1, 13, 16]


def test_loader_sampler_and_batch_sampler():
    dl = DataLoader(Squares(6), sampler=[5, 0, 3], batch_size=2)
    assert [to_np(b).tolist() for b in dl] == [[25, 0], [9]]
    bs = BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)
    dl = DataLoader(Squares(5), batch_sampler=bs)
    assert [to_np(b).tolist() for b in dl] == [[0, 1], [4, 9]] and len(dl) == 2
    dl = DataLoader(Squares(5), batch_sampler=[[4], [0, 2]])
    assert [to_np(b).tolist() for b in dl] == [[16], [0, 4]]


def test_loader_iterable_dataset():
    dl = DataLoader(Stream(7), batch_size=3)
    assert [to_np(b).tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]] and len(dl) == 3
    dl = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [to_np(b).tolist() for b in dl] == [[0, 1, 2], [3, 4, 5]] and len(dl) == 2
    dl = DataLoader(Stream(3), batch_size=None)
    assert list(dl) == [0, 1, 2]
    assert get_worker_info() is None


def test_loader_dict_samples():
    class D(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": ember.full((3,), float(i)), "y": i}
    b = next(iter(DataLoader(D(), batch_size=4)))
    assert b["x"].shape == (4, 3) and to_np(b["y"]).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("kwargs, match", [
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used"),
    (dict(num_workers=1, multiprocessing_context="nope"), "valid start method"),
    (dict(batch_size=0), "batch_size should be a positive integer"),
])
def test_loader_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(4), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(shuffle=True), "expected unspecified shuffle"),
    (dict(sampler=[0]), "expected unspecified sampler"),
    (dict(batch_sampler=[[0]]), "expected unspecified batch_sampler")])
def test_loader_rejects_bad_options_iterable(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Stream(3), **kwargs)


def test_loader_attributes_locked_and_pin_memory_ignored():
    dl = DataLoader(Squares(4), batch_size=2, pin_memory=True)
    assert [to_np(b).tolist() for b in dl] == [[0, 1], [4, 9]]
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        dl.batch_size = 3
    dl.num_workers = 0      # not locked in PyTorch either
