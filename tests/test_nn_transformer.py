"""TransformerEncoderLayer / TransformerEncoder: structure, PyTorch parity of outputs and
gradients with copied weights, dropout behaviour, bad input."""
import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn.modules.transformer import generate_square_subsequent_mask

from _helpers import (assert_param_grads_match, backward_same_cotangent, copy_from_torch,
                      to_np)


def test_structure():
    layer = enn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    enc = enn.TransformerEncoder(layer, 2, norm=enn.LayerNorm(8))
    names = [n for n, _ in enc.named_parameters()]
    assert names[:4] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                         "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias"]
    assert "layers.1.norm2.bias" in names and names[-2:] == ["norm.weight", "norm.bias"]
    # the layers are independent copies
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(to_np(enc.layers[0].linear1.weight),
                                  to_np(enc.layers[1].linear1.weight))
    assert layer.dropout.p == 0.1 and layer.linear1.out_features == 16
    m = generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(to_np(m), np.triu(np.full((3, 3), -np.inf), 1))


def test_bad_input():
    layer = enn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    with pytest.raises(RuntimeError, match=r"d_model=8.*got \(3, 2, 6\)"):
        layer(ember.zeros(3, 2, 6))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        enn.TransformerEncoderLayer(8, 2, activation="swish")
    with pytest.raises(AssertionError, match="divisible"):
        enn.TransformerEncoderLayer(8, 3)


def test_dropout_only_in_training(rng):
    layer = enn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.5,
                                        dtype=ember.float64)
    x = ember.tensor(rng.standard_normal((3, 2, 4)))
    layer.eval()
    a = to_np(layer(x))
    np.testing.assert_array_equal(a, to_np(layer(x)))
    layer.train()
    assert not np.allclose(a, to_np(layer(x)))


CASES = [
    dict(),
    dict(activation="gelu", norm_first=True),
    dict(batch_first=True, bias=False),
    dict(batch_first=True, norm_first=True, layer_norm_eps=1e-3),
]


@pytest.mark.parametrize("kw", CASES)
@pytest.mark.parametrize("masks", [(None, None), ("causal", None), ("bool", "bool"),
                                   (None, "float")])
def test_layer_vs_torch(kw, masks, rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    S, N, E = 4, 2, 8
    tm = torch.nn.TransformerEncoderLayer(E, 2, dim_feedforward=12, dropout=0.0, **kw).double()
    em = enn.TransformerEncoderLayer(E, 2, dim_feedforward=12, dropout=0.0, **kw,
                                     dtype=ember.float64)
    copy_from_torch(tm, em)
    x = rng.standard_normal((N, S, E) if kw.get("batch_first") else (S, N, E))
    ekw, tkw = {}, {}
    amask, kpm = masks
    if amask == "causal":
        m = np.triu(np.full((S, S), -np.inf), 1)
        ekw["src_mask"], tkw["src_mask"] = ember.tensor(m), torch.tensor(m)
        ekw["is_causal"] = tkw["is_causal"] = True
    elif amask == "bool":
        m = rng.random((S, S)) < 0.3
        m[:, 0] = False
        ekw["src_mask"], tkw["src_mask"] = ember.tensor(m), torch.tensor(m)
    if kpm is not None:
        p = rng.random((N, S)) < 0.3
        p[:, 0] = False
        if kpm == "float":
            p = np.where(p, -np.inf, 0.0)
        ekw["src_key_padding_mask"] = ember.tensor(p)
        tkw["src_key_padding_mask"] = torch.tensor(p)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = em(ex, **ekw), tm(tx, **tkw)
    np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-9, atol=1e-11)
    backward_same_cotangent(torch, rng, eo, to)
    np.testing.assert_allclose(to_np(ex.grad), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert_param_grads_match(em, tm, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("batched", [True, False])
def test_encoder_vs_torch(batched, rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    E = 6
    tl = torch.nn.TransformerEncoderLayer(E, 3, dim_feedforward=10, dropout=0.0,
                                          batch_first=True)
    tm = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(E),
                                     enable_nested_tensor=False).double()
    el = enn.TransformerEncoderLayer(E, 3, dim_feedforward=10, dropout=0.0, batch_first=True,
                                     dtype=ember.float64)
    em = enn.TransformerEncoder(el, 2, norm=enn.LayerNorm(E, dtype=ember.float64))
    copy_from_torch(tm, em)
    x = rng.standard_normal((2, 5, E) if batched else (5, E))
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo = em(ex, mask=ember.tensor(mask), is_causal=True)
    to = tm(tx, mask=torch.tensor(mask), is_causal=True)
    np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-9, atol=1e-11)
    backward_same_cotangent(torch, rng, eo, to)
    np.testing.assert_allclose(to_np(ex.grad), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert_param_grads_match(em, tm, rtol=1e-8, atol=1e-10)


def test_encoder_trains(rng):
    """A tiny encoder + linear head fits a fixed batch: the loss falls by a wide margin."""
    ember.manual_seed(0)
    enc = enn.TransformerEncoder(enn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                             batch_first=True), 1)
    head = enn.Linear(8, 3)
    x = ember.tensor(rng.standard_normal((4, 5, 8)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 3, (4, 5)))
    params = list(enc.parameters()) + list(head.parameters())
    losses = []
    for _ in range(60):
        loss = enn.functional.cross_entropy(head(enc(x)).transpose(1, 2), y)
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= 0.2 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, norm_first=True,
                                             activation="gelu")])
def test_decoder_layer_vs_torch(kw, rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    T, S, N, E = 3, 4, 2, 6
    tm = torch.nn.TransformerDecoderLayer(E, 2, 10, dropout=0.0, **kw).double()
    em = enn.TransformerDecoderLayer(E, 2, 10, dropout=0.0, **kw, dtype=ember.float64)
    copy_from_torch(tm, em)
    bf = kw.get("batch_first", False)
    tgt = rng.standard_normal((N, T, E) if bf else (T, N, E))
    mem = rng.standard_normal((N, S, E) if bf else (S, N, E))
    causal = np.triu(np.full((T, T), -np.inf), 1)
    mkpm = np.zeros((N, S), bool)
    mkpm[1, 2:] = True
    es = [ember.tensor(a, requires_grad=True) for a in (tgt, mem)]
    ts = [torch.tensor(a, requires_grad=True) for a in (tgt, mem)]
    eo = em(*es, tgt_mask=ember.tensor(causal), tgt_is_causal=True,
            memory_key_padding_mask=ember.tensor(mkpm))
    to = tm(*ts, tgt_mask=torch.tensor(causal), tgt_is_causal=True,
            memory_key_padding_mask=torch.tensor(mkpm))
    np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-9, atol=1e-11)
    backward_same_cotangent(torch, rng, eo, to)
    for e, t in zip(es, ts):
        np.testing.assert_allclose(to_np(e.grad), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert_param_grads_match(em, tm, rtol=1e-8, atol=1e-10)


def test_transformer_vs_torch(rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = dict(d_model=6, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=8, dropout=0.0, batch_first=True)
    tm = torch.nn.Transformer(**kw).double()
    em = enn.Transformer(**kw, dtype=ember.float64)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_from_torch(tm, em)
    src, tgt = rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 3, 6))
    mask = enn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    np.testing.assert_array_equal(
        to_np(mask), torch.nn.Transformer.generate_square_subsequent_mask(3).numpy())
    es = [ember.tensor(a, requires_grad=True) for a in (src, tgt)]
    ts = [torch.tensor(a, requires_grad=True) for a in (src, tgt)]
    eo = em(*es, tgt_mask=mask)
    to = tm(*ts, tgt_mask=torch.tensor(to_np(mask)))
    np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-9, atol=1e-11)
    backward_same_cotangent(torch, rng, eo, to)
    for e, t in zip(es, ts):
        np.testing.assert_allclose(to_np(e.grad), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        em(ember.zeros(2, 5, 6, dtype=ember.float64), ember.zeros(3, 3, 6, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="feature number"):
        em(ember.zeros(2, 5, 6, dtype=ember.float64), ember.zeros(2, 3, 4, dtype=ember.float64))


def test_transformer_init_is_xavier():
    m = enn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                        dim_feedforward=16)
    w = to_np(m.encoder.layers[0].linear1.weight)
    bound = np.sqrt(6 / (8 + 16))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
