"""Multi-process DataLoader: order equal to single-process, per-worker seeding,
IterableDataset sharding, errors from workers. Small and few to stay fast."""
import os
import time

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

from _helpers import gen, to_np

pytestmark = pytest.mark.skipif(os.name != "posix", reason="worker tests use fork")


class Rows(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": ember.full((2,), float(i)), "i": i, "bf": ember.ones(1, dtype=ember.bfloat16)}


class WhoAmI(Dataset):
    """Reports which worker produced a sample and a draw from ember's default generator."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return i, info.id, info.seed, info.num_workers, ember.rand(1), float(np.random.rand())


class Shards(IterableDataset):
    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


class Failing(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError(f"bad sample {i}")
        return i


class Crashing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            os._exit(3)
        return i


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(1.0)
        return i


def flat(batches, key):
    return [v for b in batches for v in to_np(b[key]).tolist()]


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_same_batches_as_single_process(workers):
    kw = dict(batch_size=3, shuffle=True)
    single = list(DataLoader(Rows(10), generator=gen(5), **kw))
    multi = list(DataLoader(Rows(10), generator=gen(5), num_workers=workers, **kw))
    assert len(single) == len(multi) == 4
    for a, b in zip(single, multi):
        np.testing.assert_array_equal(to_np(a["x"]), to_np(b["x"]))
        np.testing.assert_array_equal(to_np(a["i"]), to_np(b["i"]))
        assert b["bf"].dtype is ember.bfloat16 and b["bf"].shape == (len(b["i"]), 1)
    assert sorted(flat(multi, "i")) == list(range(10))


def test_workers_without_batching():
    out = list(DataLoader(Rows(5), batch_size=None, num_workers=2))
    assert [o["i"] for o in out] == list(range(5))


def test_worker_info_and_seeding():
    def run():
        dl = DataLoader(WhoAmI(), batch_size=2, num_workers=2, generator=gen(9),
                        worker_init_fn=lambda wid: np.random.seed(1000 + wid))
        rows = []
        for b in dl:
            idx, wid, seed, nw, r, npr = b
            rows += list(zip(to_np(idx).tolist(), to_np(wid).tolist(), to_np(seed).tolist(),
                             to_np(nw).tolist(), to_np(r)[:, 0].tolist(), to_np(npr).tolist()))
        return rows
    a, b = run(), run()
    assert a == b                                    # reproducible from the generator
    assert [r[0] for r in a] == list(range(8))
    # batches go round-robin: batch k (2 samples) to worker k % 2
    assert [r[1] for r in a] == [0, 0, 1, 1, 0, 0, 1, 1]
    assert {r[3] for r in a} == {2}
    seeds = {r[1]: r[2] for r in a}
    assert seeds[1] == seeds[0] + 1                  # base_seed + worker_id
    # worker_init_fn ran after seeding, in each worker: numpy draws follow its seeds
    for wid in (0, 1):
        rs = np.random.RandomState(1000 + wid)
        assert [r[5] for r in a if r[1] == wid] == [rs.rand() for _ in range(4)]
    # ember's default generator is seeded per worker: workers draw different streams
    r0 = [r[4] for r in a if r[1] == 0]
    r1 = [r[4] for r in a if r[1] == 1]
    assert r0 != r1
    g = ember.Generator().manual_seed(seeds[0])
    expect = [float(ember.rand(1, generator=g)[0]) for _ in range(4)]
    np.testing.assert_allclose(r0, expect)
    other = DataLoader(WhoAmI(), batch_size=2, num_workers=2, generator=gen(10))
    assert int(next(iter(other))[2][0]) != seeds[0]


def test_iterable_sharding_covers_once():
    dl = DataLoader(Shards(11), batch_size=2, num_workers=3)
    vals = [v for b in dl for v in to_np(b).tolist()]
    assert sorted(vals) == list(range(11))
    # batches alternate between workers while all are active (PyTorch's order)
    first = [to_np(b).tolist() for b in DataLoader(Shards(12), batch_size=2, num_workers=2)]
    assert first[:2] == [[0, 2], [1, 3]]


def test_iterable_unsharded_duplicates_like_pytorch():
    vals = [v for b in DataLoader(Shards(4, shard=False), batch_size=2, num_workers=2)
            for v in to_np(b).tolist()]
    assert sorted(vals) == sorted(list(range(4)) * 2)


def test_iterable_drop_last_per_worker():
    # worker 0 has 0,2,4 and worker 1 has 1,3: each drops its own partial batch
    dl = DataLoader(Shards(5), batch_size=2, num_workers=2, drop_last=True)
    assert sorted(to_np(b).tolist() for b in dl) == [[0, 2], [1, 3]]


def test_worker_exception_is_reraised():
    with pytest.raises(ValueError, match=r"(?s)worker process.*bad sample 3"):
        list(DataLoader(Failing(), batch_size=1, num_workers=2))


def test_worker_crash_is_reported():
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Crashing(), batch_size=1, num_workers=1))


def test_timeout():
    with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.2))


def test_partial_epoch_then_new_epoch():
    dl = DataLoader(Rows(9), batch_size=2, num_workers=2)
    it = iter(dl)
    next(it)
    del it
    assert flat(list(dl), "i") == list(range(9))


class SlowFirst(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0:
            time.sleep(0.3)
        return i


def test_out_of_order_delivery():
    dl = DataLoader(SlowFirst(), batch_size=2, num_workers=2, in_order=False)
    got = [to_np(b).tolist() for b in dl]
    assert sorted(got) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert got[0] != [0, 1]                  # the slow batch did not hold the others back
    assert [to_np(b).tolist() for b in DataLoader(SlowFirst(), batch_size=2,
                                                  num_workers=2)][0] == [0, 1]


def test_persistent_workers_reuse_processes_across_epochs():
    class Pid(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return i, os.getpid()
    dl = DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True,
                    shuffle=True, generator=gen(0))
    epochs = []
    for _ in range(3):
        idx, pids = [], set()
        for b in dl:
            idx += to_np(b[0]).tolist()
            pids |= set(to_np(b[1]).tolist())
        epochs.append((idx, pids))
    for idx, _ in epochs:
        assert sorted(idx) == list(range(6))
    assert epochs[0][0] != epochs[1][0]                          # reshuffled per epoch
    assert epochs[0][1] == epochs[1][1] == epochs[2][1] and len(epochs[0][1]) == 2
    assert os.getpid() not in epochs[0][1]
    # an epoch abandoned early leaves no stale batches for the next one
    it = iter(dl)
    next(it)
    assert sorted(v for b in dl for v in to_np(b[0]).tolist()) == list(range(6))
    dl._iterator._shutdown_workers()


def test_persistent_workers_iterable_restart():
    dl = DataLoader(Shards(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in dl for v in to_np(b).tolist()) == list(range(7))
    dl._iterator._shutdown_workers()


def test_spawn_context():
    x = ember.arange(10.0).reshape(5, 2)
    dl = DataLoader(ember.utils.data.TensorDataset(x), batch_size=2, num_workers=1,
                    multiprocessing_context="spawn")
    out = [to_np(b[0]) for b in dl]
    np.testing.assert_array_equal(np.concatenate(out), np.arange(10.0).reshape(5, 2))


def _bad_init(worker_id):
    raise KeyError(f"init failed in {worker_id}")


def test_worker_init_fn_error_is_reraised():
    with pytest.raises(KeyError, match=r"(?s)worker process 0.*init failed in 0"):
        list(DataLoader(Rows(4), batch_size=2, num_workers=1, worker_init_fn=_bad_init))
