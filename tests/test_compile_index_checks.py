"""Out-of-range indices in compiled code (llvm backend): the lowered gather (the NLL's
target pick) and scatter (its backward's one-hot) flag bad rows, and the runtime raises
IndexError naming the op and the user's line before any later kernel runs, so a training
step with a bad target leaves the parameters and optimizer state untouched."""
import os
import sys

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _helpers import private_cache, training_step  # noqa: E402,F401  (private_cache: autouse)
# compiled(): traces on the first call, so the bad input reaches native code
from _helpers import compiled as _compiled, runner  # noqa: E402

THIS_FILE = os.path.basename(__file__)


def _plan(c, which="forward"):
    return runner(c, which).plan


def _ce_reference(x, t):
    xd = x.astype(np.float64)
    m = xd.max(1, keepdims=True)
    lsm = xd - m - np.log(np.exp(xd - m).sum(1, keepdims=True))
    return -lsm[np.arange(len(t)), t].mean()


@pytest.mark.parametrize("bad", [10, 11, -1, -7])
def test_cross_entropy_target_out_of_range_raises(bad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 10)).astype(np.float32)
    good = rng.integers(0, 10, 64)
    f = _compiled(lambda x, t: F.cross_entropy(x, t))
    got = f(ember.tensor(x), ember.tensor(good))
    np.testing.assert_allclose(got.item(), _ce_reference(x, good), rtol=1e-5)
    assert all(s.kind != "interp" for s in _plan(f).steps)    # the native gather ran
    t = good.copy()
    t[37] = bad
    with pytest.raises(IndexError, match=rf"gather: index out of range for a dim of size 10.*"
                                         rf"{THIS_FILE}"):
        f(ember.tensor(x), ember.tensor(t))
    # the program is still usable afterwards
    got = f(ember.tensor(x), ember.tensor(good))
    np.testing.assert_allclose(got.item(), _ce_reference(x, good), rtol=1e-5)


def test_ignore_index_rows_are_not_flagged():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    t = rng.integers(0, 5, 32)
    t[[3, 9]] = -100
    f = _compiled(lambda x, t: F.cross_entropy(x, t))
    keep = t != -100
    want = _ce_reference(x[keep], t[keep])
    np.testing.assert_allclose(f(ember.tensor(x), ember.tensor(t)).item(), want, rtol=1e-5)


def test_training_step_with_bad_target_changes_nothing():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 10))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = ember.compile(training_step(model, opt), backend="llvm")
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((48, 20)).astype(np.float32))
    y = rng.integers(0, 10, 48)
    step(x, ember.tensor(y))              # runs eagerly: the momentum buffers exist now
    before = [p.detach().numpy().copy() for p in model.parameters()]
    bufs = [opt.state[p]["momentum_buffer"].numpy().copy() for p in model.parameters()]
    y_bad = y.copy()
    y_bad[5] = 10
    with pytest.raises(IndexError, match="index out of range"):
        step(x, ember.tensor(y_bad))      # traced, compiled, run: the check fires
    assert all(s.kind != "interp" for s in _plan(step).steps)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    for p, b in zip(model.parameters(), bufs):
        np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), b)
    step(x, ember.tensor(y))                      # and a good step still trains
    assert any(not np.array_equal(p.detach().numpy(), b)
               for p, b in zip(model.parameters(), before))


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_index_out_of_range_raises(op, dim):
    rng = np.random.default_rng(3)
    shape = (6, 7)
    base = rng.standard_normal(shape).astype(np.float32)
    ishape = (1, 7) if dim == 0 else (6, 1)
    idx = rng.integers(0, shape[dim], ishape)
    src = rng.standard_normal(ishape).astype(np.float32)

    def f(b, i, s):
        return getattr(b * 2, op)(dim, i, s) + 1
    c = _compiled(f)
    got = c(ember.tensor(base), ember.tensor(idx), ember.tensor(src)).numpy()
    want = base * 2
    for r in range(ishape[0]):
        for q in range(ishape[1]):
            pos = (idx[r, q], q) if dim == 0 else (r, idx[r, q])
            want[pos] = want[pos] + src[r, q] if op == "scatter_add" else src[r, q]
    np.testing.assert_allclose(got, want + 1, rtol=1e-6)
    assert all(s.kind != "interp" for s in _plan(c).steps)
    bad = idx.copy()
    bad.flat[-1] = shape[dim]
    with pytest.raises(IndexError, match=rf"{op}: index out of range for a dim of size "
                                         rf"{shape[dim]}"):
        c(ember.tensor(base), ember.tensor(bad), ember.tensor(src))
