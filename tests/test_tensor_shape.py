"""Shape and movement composites against PyTorch, including argument forms and errors."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

A = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)


def _L(t):
    return ember if isinstance(t, ember.Tensor) else torch


CASES = {
    "view_tuple": lambda x: x.view((4, 6)), "view_-1": lambda x: x.view(-1),
    "view_-1b": lambda x: x.view(2, -1, 2), "reshape_list": lambda x: x.reshape([3, 8]),
    "reshape_0d": lambda x: x[0, 0, :1].reshape(()), "expand_lead": lambda x: x[:, :1].expand(5, 2, 3, 4),
    "expand_-1": lambda x: x[:, :1].expand(-1, 3, -1), "expand_tuple": lambda x: x[:1].expand((2, 3, 4)),
    "squeeze_multi": lambda x: x[:1, :, :1].squeeze((0, 2)), "squeeze_noop": lambda x: x.squeeze(1),
    "squeeze_neg": lambda x: x[..., :1].squeeze(-1), "unsqueeze_neg": lambda x: x.unsqueeze(-1),
    "unsqueeze_mid": lambda x: x.unsqueeze(2), "unflatten_-1": lambda x: x.unflatten(-1, (2, -1)),
    "flatten_range": lambda x: x.flatten(1), "flatten_0_1": lambda x: x.flatten(0, 1),
    "flatten_0d": lambda x: x[0, 0, 0].flatten(), "chunk_uneven": lambda x: _L(x).cat(x.chunk(3, -1), 0),
    "chunk_more": lambda x: _L(x).stack([c.sum() for c in x.chunk(5, 1)]),
    "split_int": lambda x: _L(x).stack([c.sum() for c in x.split(3, 2)]),
    "split_sizes": lambda x: x.split([1, 2], dim=1)[1], "narrow_neg": lambda x: x.narrow(-1, -3, 2),
    "movedim_list": lambda x: x.movedim([0, 1], [2, 0]), "permute_neg": lambda x: x.permute(-1, 0, 1),
    "permute_tuple": lambda x: x.permute((2, 1, 0)), "transpose_neg": lambda x: x.transpose(-1, -3),
    "tensor_split_idx": lambda x: x.tensor_split([1, 3], dim=2)[1],
    "tensor_split_n": lambda x: x.tensor_split(3, dim=2)[2], "unbind_neg": lambda x: x.unbind(-1)[3],
    "select_neg": lambda x: x.select(-2, -1), "flip_multi": lambda x: x.flip([0, 2]),
    "roll": lambda x: x.roll(1, 2), "roll_multi": lambda x: x.roll((1, -1), (0, 2)),
    "roll_flat": lambda x: x.roll(5), "repeat_lead": lambda x: x.repeat(2, 1, 1, 2),
    "tile": lambda x: x.tile((2,)), "repeat_interleave": lambda x: x.repeat_interleave(2, dim=1),
    "repeat_interleave_flat": lambda x: x.repeat_interleave(2), "stack_neg": lambda x: _L(x).stack([x, x], -1),
    "cat_neg": lambda x: _L(x).cat([x, x[:, :1]], -2), "hstack": lambda x: _L(x).hstack([x, x]),
    "vstack": lambda x: _L(x).vstack([x[0], x[1]]), "t_1d": lambda x: x[0, 0].t(),
    "T_3d": lambda x: x.permute(2, 1, 0), "view_as": lambda x: x.flatten().view_as(x),
    "reshape_as": lambda x: x.transpose(0, 2).reshape_as(x),
    "broadcast_to": lambda x: x[:, :1].broadcast_to(2, 3, 4), "ravel": lambda x: x.transpose(0, 1).ravel(),
    "swapdims": lambda x: x.swapdims(0, 2), "movedim": lambda x: x.movedim(0, -1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_shape_op_matches_torch(name):
    f = CASES[name]
    x = ember.tensor(A, requires_grad=True)
    tx = torch.tensor(A, requires_grad=True)
    out, tout = f(x), f(tx)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    w = np.random.default_rng(0).standard_normal(tuple(tout.shape))
    (out * ember.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_shape_op_gradcheck(name):
    f = CASES[name]
    x = ember.tensor(A[:, :3, :4] * 0.1, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: f(t) * 1.0, (x,))


BAD = {
    "view_two_-1": lambda L, x: x.view(-1, -1), "view_bad": lambda L, x: x.view(5, 5),
    "permute_short": lambda L, x: x.permute(0, 1), "expand_bad": lambda L, x: x.expand(3, 3, 4),
    "squeeze_range": lambda L, x: x.squeeze(5), "unsqueeze_range": lambda L, x: x.unsqueeze(5),
    "narrow_range": lambda L, x: x.narrow(0, 1, 5), "select_range": lambda L, x: x.select(0, 2),
    "split_bad": lambda L, x: x.split([1, 1], 1), "chunk_zero": lambda L, x: x.chunk(0),
    "cat_rank": lambda L, x: L.cat([x, x[0]]), "cat_size": lambda L, x: L.cat([x, x[:, :2]], 2),
    "stack_size": lambda L, x: L.stack([x, x[:1]]), "flatten_order": lambda L, x: x.flatten(2, 1),
    "t_3d": lambda L, x: x.t(), "repeat_short": lambda L, x: x.repeat(2),
    "unflatten_bad": lambda L, x: x.unflatten(1, (2, 2)), "cat_empty": lambda L, x: L.cat([]),
}


@pytest.mark.parametrize("name", list(BAD))
def test_shape_errors_like_torch(name):
    f = BAD[name]
    with pytest.raises((RuntimeError, IndexError, ValueError)) as te:
        f(torch, torch.tensor(A))
    with pytest.raises(type(te.value)):
        f(ember, ember.tensor(A))


def test_argument_forms_like_torch():
    for L in (ember, torch):
        x = L.tensor(A)
        forms = [x.flip(0, 2), x.flip([0, 2]), x.flip(dims=(0, 2)), L.flip(x, (0, 2)),
                 L.flip(x, dims=[0, 2])]
        assert all(f.tolist() == forms[0].tolist() for f in forms)
        perms = [x.permute(2, 0, 1), x.permute((2, 0, 1)), x.permute(dims=[2, 0, 1]),
                 L.permute(x, (2, 0, 1))]
        assert all(p.tolist() == perms[0].tolist() for p in perms)
        assert x.view(4, 6).tolist() == x.view((4, 6)).tolist() == x.view([4, 6]).tolist()
        assert x.repeat(1, 2, 1).shape == x.repeat((1, 2, 1)).shape == (2, 6, 4)
        assert x.expand(2, 2, 3, 4).shape == x.expand((2, 2, 3, 4)).shape
