"""Helpers shared by several test files (``from _helpers import ...``; tests/ is on the
import path, as for ``_nn_parity``)."""
import numpy as np
import pytest

import ember


def to_np(t):
    """A tensor's values as a numpy array (detached from autograd)."""
    return t.detach().numpy()


def gen(seed):
    """A fresh ember Generator seeded with ``seed``."""
    return ember.Generator().manual_seed(seed)


def copy_from_torch(tm, em):
    """Load the PyTorch module ``tm``'s state_dict into the ember module ``em``."""
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def assert_param_grads_match(em, tm, rtol, atol=0):
    """Every parameter gradient of ember module ``em`` equals that of the parameter with
    the same name in PyTorch module ``tm``."""
    tp = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        np.testing.assert_allclose(to_np(p.grad), tp[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def backward_same_cotangent(torch, rng, eo, to):
    """Backpropagate one random cotangent (from ``rng``) through the ember output ``eo``
    and the PyTorch output ``to``."""
    cot = rng.standard_normal(tuple(to.shape))
    (eo * ember.tensor(cot)).sum().backward()
    (to * torch.tensor(cot)).sum().backward()


def erf64(x):
    """float64 erf reference from the C library (math.erf), elementwise; no scipy."""
    import math
    x = np.asarray(x, dtype=np.float64)
    return np.frompyfunc(math.erf, 1, 1)(x).astype(np.float64) if x.size else x.copy()


def expit64(x):
    """float64 logistic sigmoid, computed as scipy.special.expit does (no overflow)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory):
    """Give a test module its own EMBER_CACHE_DIR (import it into the module: autouse)."""
    import os
    old = os.environ.get("EMBER_CACHE_DIR")
    os.environ["EMBER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    from ember.runtime import cache
    cache._DEFAULT.clear()
    yield
    cache._DEFAULT.clear()
    if old is None:
        os.environ.pop("EMBER_CACHE_DIR", None)
    else:
        os.environ["EMBER_CACHE_DIR"] = old


def training_step(model, opt):
    """The standard step: zero_grad, forward, cross-entropy, backward, optimizer step."""
    import ember.nn.functional as F

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def compiled(fn, backend="llvm"):
    """``ember.compile(fn)`` that traces on its first call (no eager warm-up call)."""
    c = ember.compile(fn, backend=backend)
    c.eager_calls = 1
    return c


def runner(c, which="forward"):
    """The backend runner of the last compiled signature of ``c`` (forward or backward)."""
    exe = list(c._cache.values())[-1].executable
    return exe._runners[id(exe.graph if which == "forward" else exe.backward_graph)]
