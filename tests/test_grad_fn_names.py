"""grad_fn names of composites match PyTorch's (the node is the composite's last
primitive, renamed; its VJP is unchanged)."""
import numpy as np
import pytest

import ember

CASES = [
    ("relu", lambda m, x: m.relu(x)), ("sigmoid", lambda m, x: m.sigmoid(x)),
    ("mean", lambda m, x: x.mean()), ("mean_dim", lambda m, x: x.mean(0)),
    ("softmax", lambda m, x: m.softmax(x, 1)), ("log_softmax", lambda m, x: m.log_softmax(x, 1)),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1)), ("var", lambda m, x: x.var()),
    ("std", lambda m, x: x.std()), ("rsqrt", lambda m, x: (x * x + 1).rsqrt()),
    ("clamp", lambda m, x: x.clamp(0, 1)), ("add", lambda m, x: x + x),
    ("mm", lambda m, x: x @ x.t()), ("sum", lambda m, x: x.sum()),
    ("exp", lambda m, x: x.exp()), ("view", lambda m, x: x.view(-1)),
]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_grad_fn_name_matches_torch(name, fn):
    torch = pytest.importorskip("torch")
    a = fn(ember, ember.randn(2, 3, requires_grad=True))
    b = fn(torch, torch.randn(2, 3, requires_grad=True))
    assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__


def test_renamed_nodes_keep_their_gradients():
    x = ember.tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    ember.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 1.0]])
