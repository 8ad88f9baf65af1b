"""Gradients at kinks and ties follow PyTorch's conventions. Expected values are PyTorch's
documented/observed rules written out by hand; where torch is installed the same cases are
also compared with it directly."""
import numpy as np
import pytest

import ember

F64 = ember.float64


def _grad(fn, *values):
    xs = [ember.tensor(v, dtype=F64, requires_grad=True) for v in values]
    out = fn(*xs)
    out = out[0] if isinstance(out, tuple) else out
    gs = ember.autograd.grad(ember.sum(out), xs, allow_unused=True)
    return [np.zeros(np.shape(v)) if g is None else g.numpy() for g, v in zip(gs, values)]


CASES = [
    # name, fn, inputs, expected gradients (PyTorch's rule)
    ("relu at 0", lambda x: ember.relu(x), ([-1.0, 0.0, 2.0],), ([0.0, 0.0, 1.0],)),
    ("abs at 0", lambda x: ember.abs(x), ([-1.0, 0.0, 2.0],), ([-1.0, 0.0, 1.0],)),
    ("sign", lambda x: ember.sign(x), ([-1.0, 0.0, 2.0],), ([0.0, 0.0, 0.0],)),
    ("maximum ties split", lambda a, b: ember.maximum(a, b), ([1.0, 2.0, 3.0], [1.0, 5.0, 0.0]),
     ([0.5, 0.0, 1.0], [0.5, 1.0, 0.0])),
    ("minimum ties split", lambda a, b: ember.minimum(a, b), ([1.0, 2.0, 3.0], [1.0, 5.0, 0.0]),
     ([0.5, 1.0, 0.0], [0.5, 0.0, 1.0])),
    ("fmax ties go to a", lambda a, b: ember.fmax(a, b), ([1.0, 2.0, 3.0], [1.0, 5.0, 0.0]),
     ([1.0, 0.0, 1.0], [0.0, 1.0, 0.0])),
    ("fmin ties go to a", lambda a, b: ember.fmin(a, b), ([1.0, 2.0, 3.0], [1.0, 5.0, 0.0]),
     ([1.0, 1.0, 0.0], [0.0, 0.0, 1.0])),
    ("fmax nan loses", lambda a, b: ember.fmax(a, b), ([float("nan"), 2.0], [1.0, float("nan")]),
     ([0.0, 1.0], [1.0, 0.0])),
    ("amax splits evenly", lambda x: ember.amax(x), ([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]],),
     ([[0, 1 / 3, 1 / 3], [0, 1 / 3, 0]],)),
    ("amax dim splits per row", lambda x: ember.amax(x, 1), ([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],),
     ([[0, 0.5, 0.5], [0.5, 0.5, 0]],)),
    ("max() splits evenly", lambda x: ember.max(x), ([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],),
     ([[0, 0.5, 0.5], [0, 0, 0]],)),
    ("min() splits evenly", lambda x: ember.min(x), ([[0.0, 3.0], [0.0, 0.0]],),
     ([[1 / 3, 0], [1 / 3, 1 / 3]],)),
    ("amin splits evenly", lambda x: ember.amin(x, 0), ([[0.0, 3.0], [0.0, 1.0]],),
     ([[0.5, 0], [0.5, 1]],)),
    ("clamp scalar bounds inclusive", lambda x: ember.clamp(x, 0.0, 1.0),
     ([-1.0, 0.0, 0.5, 1.0, 2.0],), ([0.0, 1.0, 1.0, 1.0, 0.0],)),
    ("clamp_min at bound", lambda x: ember.clamp_min(x, 0.0), ([-1.0, 0.0, 1.0],),
     ([0.0, 1.0, 1.0],)),
    ("clamp_max at bound", lambda x: ember.clamp_max(x, 0.0), ([-1.0, 0.0, 1.0],),
     ([1.0, 1.0, 0.0],)),
    ("clamp tensor bounds", lambda x, lo, hi: ember.clamp(x, lo, hi),
     ([0.0, 1.0, -1.0, 0.5, 2.0], [0.0] * 5, [1.0] * 5),
     ([1.0, 1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0])),
    ("clamp min > max", lambda x: ember.clamp(x, 1.0, 0.0), ([-1.0, 0.5, 2.0],),
     ([0.0, 0.0, 0.0],)),
    ("norm at zero", lambda x: ember.norm(x), ([0.0, 0.0],), ([0.0, 0.0],)),
    ("norm p=1 at zero", lambda x: ember.norm(x, p=1), ([0.0, 1.0],), ([0.0, 1.0],)),
    ("norm inf ties", lambda x: ember.norm(x, p=float("inf")), ([1.0, 1.0, -1.0],),
     ([1 / 3, 1 / 3, -1 / 3],)),
    ("prod with one zero", lambda x: ember.prod(x), ([2.0, 0.0, 3.0],), ([0.0, 6.0, 0.0],)),
    ("prod with two zeros", lambda x: ember.prod(x), ([0.0, 0.0, 3.0],), ([0.0, 0.0, 0.0],)),
    ("pow zero exponent", lambda x: ember.pow(x, 0.0), ([0.0, 2.0],), ([0.0, 0.0],)),
    ("pow tensor exp at base 0", lambda x, e: ember.pow(x, e), ([0.0, 2.0], [2.0, 1.5]),
     ([0.0, 1.5 * 2 ** 0.5], [0.0, 2 ** 1.5 * np.log(2.0)])),
    ("where picks branch", lambda c, a, b: ember.where(ember.gt(c, 0), a, b),
     ([1.0, -1.0], [1.0, 2.0], [3.0, 4.0]), ([0.0, 0.0], [1.0, 0.0], [0.0, 1.0])),
    ("logsumexp ties", lambda x: ember.logsumexp(x, 0), ([1.0, 1.0],), ([0.5, 0.5],)),
    ("floor is flat", lambda x: ember.floor(x), ([1.0, -0.5],), ([0.0, 0.0],)),
]


@pytest.mark.parametrize("name,fn,inputs,expected", CASES, ids=[c[0] for c in CASES])
def test_tie_rule(name, fn, inputs, expected):
    got = _grad(fn, *inputs)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e, dtype=np.float64), rtol=1e-12, atol=1e-15,
                                   err_msg=name)


@pytest.mark.parametrize("name,fn,inputs,expected", CASES, ids=[c[0] for c in CASES])
def test_tie_rule_matches_torch(name, fn, inputs, expected):
    torch = pytest.importorskip("torch")
    import ember as E
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
    # the same lambda, run against torch: swap the module the lambda's globals point at
    import types
    tfn = types.FunctionType(fn.__code__, {**fn.__globals__, "ember": torch},
                             closure=fn.__closure__)
    out = tfn(*xs)
    out = out[0] if isinstance(out, tuple) else out
    gs = torch.autograd.grad(out.sum(), xs, allow_unused=True)
    for g, e in zip(gs, expected):
        g = np.zeros(np.shape(e)) if g is None else g.numpy()
        np.testing.assert_allclose(g, np.asarray(e, dtype=np.float64), rtol=1e-12, atol=1e-15,
                                   err_msg=f"torch disagrees with the rule in {name}")
    assert E is not None


@pytest.mark.parametrize("op,rows", [("max", [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]),
                                     ("min", [[1.0, 0.0, 0.0], [2.0, 2.0, 5.0]])])
def test_dim_gradient_goes_to_returned_index(op, rows):
    x = ember.tensor(rows, dtype=F64, requires_grad=True)
    values, indices = getattr(ember, op)(x, 1)
    ember.sum(values).backward()
    expected = np.zeros((2, 3))
    expected[np.arange(2), indices.numpy()] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert indices.tolist() == [1, 0]  # the first of tied extrema, as numpy and torch CPU
