"""Samplers: partitions, reproducibility, distributions (chi-square with tolerant bounds)
and bad-argument errors."""
import math

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, DistributedSampler, RandomSampler,
                              SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)

from _helpers import gen


def chi2_ok(counts, expected):
    """Pearson's statistic below df + 6 sd (p << 1e-4 for a correct sampler)."""
    counts, expected = np.asarray(counts, float), np.asarray(expected, float)
    stat = ((counts - expected) ** 2 / expected).sum()
    df = len(counts) - 1
    return stat < df + 6 * math.sqrt(2 * df), stat


def test_sequential():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(7))) == 7


def test_random_without_replacement_is_permutation_and_seeded():
    s = RandomSampler(range(20), generator=gen(3))
    a, b = list(s), list(s)
    assert sorted(a) == list(range(20)) and sorted(b) == list(range(20))
    assert a != b                                  # the generator advances per epoch
    assert list(RandomSampler(range(20), generator=gen(3))) == a
    assert list(RandomSampler(range(20), generator=gen(4))) != a


def test_random_num_samples_longer_and_shorter():
    s = list(RandomSampler(range(5), num_samples=12, generator=gen(0)))
    assert len(s) == 12
    assert sorted(s[:5]) == list(range(5)) and sorted(s[5:10]) == list(range(5))
    assert len(set(s[10:])) == 2
    short = list(RandomSampler(range(10), num_samples=4, generator=gen(0)))
    assert len(short) == 4 and len(set(short)) == 4
    assert len(RandomSampler(range(10), num_samples=4)) == 4


def test_random_default_generator_follows_manual_seed():
    ember.manual_seed(11)
    a = list(RandomSampler(range(30)))
    ember.manual_seed(11)
    assert list(RandomSampler(range(30))) == a
    assert sorted(a) == list(range(30))


def test_random_first_position_uniform():
    n, epochs = 8, 800
    s = RandomSampler(range(n), generator=gen(1))
    counts = np.bincount([next(iter(s)) for _ in range(epochs)], minlength=n)
    ok, stat = chi2_ok(counts, [epochs / n] * n)
    assert ok, stat


def test_random_with_replacement_uniform_counts():
    n, k = 10, 3000
    s = list(RandomSampler(range(n), replacement=True, num_samples=k, generator=gen(2)))
    assert len(s) == k and min(s) >= 0 and max(s) < n
    ok, stat = chi2_ok(np.bincount(s, minlength=n), [k / n] * n)
    assert ok, stat
    # with replacement repeats must occur (a permutation-based bug would never repeat)
    assert len(set(s[:n + 1])) <= n


@pytest.mark.parametrize("kwargs, exc", [
    (dict(replacement=1), TypeError), (dict(num_samples=0), ValueError),
    (dict(num_samples=-3), ValueError), (dict(num_samples=2.0), ValueError)])
def test_random_bad_args(kwargs, exc):
    with pytest.raises(exc, match="RandomSampler"):
        RandomSampler(range(4), **kwargs)


def test_subset_random():
    idx = [3, 9, 4, 17, 21]
    s = SubsetRandomSampler(idx, generator=gen(0))
    out = list(s)
    assert sorted(out) == sorted(idx) and len(s) == 5
    assert list(SubsetRandomSampler(idx, generator=gen(0))) == out


def test_weighted_with_replacement_matches_weights():
    w = [1.0, 2.0, 0.0, 5.0, 2.0]
    k = 4000
    s = list(WeightedRandomSampler(w, k, generator=gen(5)))
    counts = np.bincount(s, minlength=5)
    assert counts[2] == 0
    p = np.array(w) / sum(w)
    nz = p > 0
    ok, stat = chi2_ok(counts[nz], k * p[nz])
    assert ok, stat


def test_weighted_without_replacement():
    w = [0.1, 0.0, 3.0, 1.0, 0.5, 2.0]
    s = list(WeightedRandomSampler(w, 5, replacement=False, generator=gen(0)))
    assert len(set(s)) == 5 and 1 not in s
    # heavy items come first more often than light ones
    firsts = [next(iter(WeightedRandomSampler(w, 1, replacement=False, generator=gen(i))))
              for i in range(300)]
    c = np.bincount(firsts, minlength=6)
    ok, stat = chi2_ok(c[[0, 2, 3, 4, 5]], 300 * np.array([0.1, 3, 1, 0.5, 2]) / 6.6)
    assert ok, stat


@pytest.mark.parametrize("args, match", [
    (([1.0, 2.0], 0), "num_samples"), (([[1.0, 2.0]], 2), "1d sequence"),
    (([1.0, -1.0], 2), "non-negative"), (([1.0, 0.0], 2, False), "without replacement")])
def test_weighted_bad_args(args, match):
    with pytest.raises(ValueError, match=match):
        WeightedRandomSampler(*args)


def test_batch_sampler():
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(bs) == 3
    assert len(BatchSampler(range(9), 3, False)) == 3
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, 1)


def _shards(n, r, **kw):
    return [list(DistributedSampler(range(n), num_replicas=r, rank=k, **kw)) for k in range(r)]


@pytest.mark.parametrize("n, r", [(10, 3), (12, 4), (7, 2), (3, 5), (1, 1)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_distributed_disjoint_and_cover(n, r, shuffle):
    shards = _shards(n, r, shuffle=shuffle, seed=7)
    per = math.ceil(n / r)
    assert all(len(s) == per for s in shards)
    flat = [i for s in shards for i in s]
    assert set(flat) == set(range(n))                # covers
    assert len(flat) == r * per
    # interleaving the shards rebuilds PyTorch's list: a permutation of range(n), then
    # padding that repeats the list from its head (cyclically if needed)
    full = [shards[j % r][j // r] for j in range(r * per)]
    assert sorted(full[:n]) == list(range(n))
    assert full[n:] == [full[i % n] for i in range(r * per - n)]
    if n % r == 0:
        assert len(set(flat)) == len(flat)           # disjoint


@pytest.mark.parametrize("n, r", [(10, 3), (12, 4), (7, 2), (11, 5)])
def test_distributed_drop_last_disjoint(n, r):
    shards = _shards(n, r, shuffle=True, drop_last=True)
    flat = [i for s in shards for i in s]
    assert len(flat) == len(set(flat)) == (n // r) * r
    assert all(len(s) == n // r for s in shards)


@pytest.mark.parametrize("n, r, drop_last", [(10, 3, False), (10, 3, True), (3, 5, False),
                                             (11, 4, True), (8, 4, False)])
def test_distributed_unshuffled_matches_pytorch(n, r, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TDS
    for k in range(r):
        ours = list(DistributedSampler(range(n), num_replicas=r, rank=k, shuffle=False,
                                       drop_last=drop_last))
        theirs = list(TDS(range(n), num_replicas=r, rank=k, shuffle=False, drop_last=drop_last))
        assert ours == theirs
    del torch


def test_distributed_epochs_and_seed():
    s0 = DistributedSampler(range(16), num_replicas=2, rank=0, seed=1)
    s1 = DistributedSampler(range(16), num_replicas=2, rank=1, seed=1)
    e0 = list(s0)
    assert list(s0) == e0                               # same epoch -> same order
    s0.set_epoch(1), s1.set_epoch(1)
    e1 = list(s0)
    assert e1 != e0
    assert sorted(e1 + list(s1)) == list(range(16))     # replicas agree on the permutation
    other = DistributedSampler(range(16), num_replicas=2, rank=0, seed=2)
    assert list(other) != e0


def test_distributed_bad_args():
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=3, rank=-1)
    with pytest.raises(RuntimeError, match="num_replicas"):
        DistributedSampler(range(4))
