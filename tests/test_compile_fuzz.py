"""Property-based: random programs of elementwise, broadcast, movement, reduction and
in-place-on-view ops, captured by ember.compile and run through the pass pipeline, equal
eager execution (within float32 tolerances)."""
import numpy as np
from hypothesis import given, settings, strategies as st

import ember

UNARY = [lambda x: ember.exp(x.clamp(-5, 5)), ember.tanh, ember.sigmoid, ember.relu,
         lambda x: x.abs().sqrt(), lambda x: -x, lambda x: x * 1.5 + 0.25]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
          lambda a, b: ember.maximum(a, b), lambda a, b: ember.where(a > b, a, b)]


def _movement(x, choice):
    if x.ndim == 0:     # unsqueeze(1) / slicing are invalid on a 0-d value (eager raises)
        return x.reshape(1)
    if x.ndim == 2:
        return [x.t(), x.reshape(-1), x[:, ::2], x[1:], x.unsqueeze(0), x.flip(0)][choice % 6]
    return [x.unsqueeze(1), x[::2], x.flip(0), x.reshape(1, -1)][choice % 4]


def _reduce(x, choice):
    return [x.sum(dim=-1, keepdim=True), x.mean(dim=0), x.amax(dim=-1, keepdim=True),
            ember.softmax(x, dim=-1), x.logsumexp(dim=-1, keepdim=True)][choice % 5]


op = st.tuples(st.sampled_from(["unary", "binary", "move", "reduce", "inplace_view"]),
               st.integers(0, 100), st.integers(0, 100))


def program(ops):
    def f(x, y):
        vals = [x, y]
        for kind, a, b in ops:
            u = vals[a % len(vals)]
            if kind == "unary":
                r = UNARY[b % len(UNARY)](u)
            elif kind == "binary":
                v = vals[b % len(vals)]
                try:
                    r = BINARY[a % len(BINARY)](u, v)
                except RuntimeError:        # shapes that do not broadcast: skip the op
                    continue
            elif kind == "move":
                r = _movement(u, b)
            elif kind == "reduce":
                r = _reduce(u, b) if u.ndim else u
            else:  # in-place update through a view of a fresh copy
                r = u.clone()
                view = r[..., ::2] if r.ndim else r
                view.mul_(0.5).add_(1.0)
            vals.append(r)
        return tuple(v.sum() for v in vals[2:]) + (vals[-1],)
    return f


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(op, min_size=1, max_size=8), n=st.sampled_from([1, 3, 4]),
       m=st.sampled_from([1, 2, 5]), seed=st.integers(0, 2 ** 16))
def test_random_programs_compiled_equal_eager(ops, n, m, seed):
    g = ember.Generator().manual_seed(seed)
    x, y = ember.randn(n, m, generator=g), ember.randn(m, generator=g)
    f = program(ops)
    want = f(x, y)
    c = ember.compile(f)
    c.eager_calls = 1      # trace on the first call
    got = c(x, y)
    for a, b in zip(got, want):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=2e-5)
