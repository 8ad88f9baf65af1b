"""Random numbers: same generator state gives the same values; distributions pass
tolerant sanity bounds (sample sizes chosen so a correct sampler fails < 1e-6)."""
import numpy as np
import pytest

import ember


def test_manual_seed_reproduces_every_sampler():
    draws = []
    for _ in range(2):
        ember.manual_seed(1234)
        draws.append([ember.randn(3, 2).tolist(), ember.rand(4).tolist(),
                      ember.randint(0, 10, (5,)).tolist(), ember.randperm(6).tolist(),
                      ember.normal(1.0, 2.0, (3,)).tolist(),
                      ember.rand(2, dtype=ember.float64).tolist(),
                      ember.empty(3).uniform_(-1, 1).tolist()])
    assert draws[0] == draws[1]
    ember.manual_seed(1235)
    assert ember.randn(3, 2).tolist() != draws[0][0]


def test_generator_objects_are_independent():
    g1 = ember.Generator().manual_seed(5)
    g2 = ember.Generator()
    g2.manual_seed(5)
    a = ember.rand(4, generator=g1)
    ember.manual_seed(99)
    ember.rand(10)          # the default generator does not affect g2
    assert ember.rand(4, generator=g2).tolist() == a.tolist()
    assert ember.rand(4, generator=g1).tolist() != a.tolist()   # the state advanced
    assert g1.initial_seed() == 5
    assert isinstance(ember.manual_seed(3), ember.Generator)
    assert ember.initial_seed() == 3


def test_rng_state_roundtrip():
    ember.manual_seed(0)
    s = ember.get_rng_state()
    u = ember.randn(5)
    ember.set_rng_state(s)
    assert ember.randn(5).tolist() == u.tolist()
    g = ember.Generator().manual_seed(1)
    st = g.get_state()
    v = ember.rand(3, generator=g)
    g.set_state(st)
    assert ember.rand(3, generator=g).tolist() == v.tolist()


def test_shapes_dtypes_and_flags():
    assert ember.randn(2, 3).shape == (2, 3) and ember.randn((2, 3)).dtype is ember.float32
    assert ember.rand((), dtype=ember.float64).shape == ()
    assert ember.randn(2, dtype=ember.float16).dtype is ember.float16
    assert ember.randint(5, (2, 2)).dtype is ember.int64
    assert ember.randint(0, 5, (2,), dtype=ember.int32).dtype is ember.int32
    assert ember.randperm(0).shape == (0,)
    x = ember.randn(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert ember.rand_like(ember.ones(2, 2, dtype=ember.float64)).dtype is ember.float64
    assert ember.randn_like(ember.ones(3)).shape == (3,)
    assert ember.randint_like(ember.ones(3), 4).dtype is ember.float32
    with pytest.raises(RuntimeError, match="from.*to"):
        ember.randint(5, 5, (2,))


def test_uniform_distribution():
    ember.manual_seed(0)
    n = 200_000
    u = ember.rand(n).numpy().astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    hist = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(hist - n / 10) < 6 * np.sqrt(n / 10))
    d = ember.rand(n, dtype=ember.float64).numpy()
    assert len(np.unique(d[:1000])) == 1000          # 53 random bits, not 24
    assert abs(d.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)


def test_normal_distribution():
    ember.manual_seed(1)
    n = 200_000
    z = ember.randn(n).numpy().astype(np.float64)
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.std() - 1) < 0.01
    assert abs(np.mean(z ** 3)) < 0.03 and abs(np.mean(z ** 4) - 3) < 0.1   # skew, kurtosis
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.005
    y = ember.normal(3.0, 2.0, (n,)).numpy()
    assert abs(y.mean() - 3) < 0.05 and abs(y.std() - 2) < 0.02
    t = ember.normal(ember.full((n,), -1.0), ember.full((n,), 0.5)).numpy()
    assert abs(t.mean() + 1) < 0.01 and abs(t.std() - 0.5) < 0.01
    w = ember.empty(n).normal_(1, 2).numpy()
    assert abs(w.mean() - 1) < 0.05 and abs(w.std() - 2) < 0.02


def test_integer_samplers():
    ember.manual_seed(2)
    n = 70_000
    r = ember.randint(-3, 4, (n,)).numpy()
    assert r.min() == -3 and r.max() == 3
    counts = np.bincount(r + 3)
    assert np.all(np.abs(counts - n / 7) < 6 * np.sqrt(n / 7))
    for _ in range(5):
        p = ember.randperm(20).tolist()
        assert sorted(p) == list(range(20))
    firsts = [ember.randperm(4).tolist()[0] for _ in range(400)]
    assert set(firsts) == {0, 1, 2, 3}
    b = ember.bernoulli(ember.full((n,), 0.3)).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01


def test_in_place_samplers():
    ember.manual_seed(3)
    x = ember.empty(10_000).uniform_(2, 5)
    assert x.min().item() >= 2 and x.max().item() < 5
    e = ember.empty(50_000).exponential_(2.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.02
    b = ember.empty(20_000).bernoulli_(0.25).numpy()
    assert abs(b.mean() - 0.25) < 0.02
    k = ember.empty(1000, dtype=ember.int64).random_(0, 4).numpy()
    assert set(np.unique(k)) == {0, 1, 2, 3}
