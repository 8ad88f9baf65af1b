"""scaled_dot_product_attention and MultiheadAttention: numpy references, finite-difference
gradients, PyTorch parity with copied weights (outputs, weights, gradients), bad input."""
import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as F
from ember.autograd import gradcheck

from _helpers import (assert_param_grads_match, backward_same_cotangent, copy_from_torch,
                      to_np)


def _sdpa_np(q, k, v, keep=None, bias=None, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (scale or 1 / np.sqrt(q.shape[-1]))
    if bias is not None:
        s = s + bias
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True)
    m = np.where(np.isinf(m), 0, m)
    e = np.exp(s - m)
    d = e.sum(-1, keepdims=True)
    return (e / np.where(d == 0, 1, d)) @ v


def test_sdpa_numpy(rng):
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))
    E = ember.tensor
    np.testing.assert_allclose(to_np(F.scaled_dot_product_attention(E(q), E(k), E(v))),
                               _sdpa_np(q, k, v), rtol=1e-12)
    keep = rng.random((3, 5)) > 0.4
    keep[2] = False  # a fully masked row gives zeros
    out = to_np(F.scaled_dot_product_attention(E(q), E(k), E(v), attn_mask=E(keep), scale=0.7))
    np.testing.assert_allclose(out, _sdpa_np(q, k, v, keep=keep, scale=0.7), rtol=1e-12)
    assert np.all(out[:, 2] == 0)
    bias = rng.standard_normal((2, 3, 5))
    np.testing.assert_allclose(
        to_np(F.scaled_dot_product_attention(E(q), E(k), E(v), attn_mask=E(bias))),
        _sdpa_np(q, k, v, bias=bias), rtol=1e-12)
    causal = np.tril(np.ones((3, 5), bool))
    np.testing.assert_allclose(
        to_np(F.scaled_dot_product_attention(E(q), E(k), E(v), is_causal=True)),
        _sdpa_np(q, k, v, keep=causal), rtol=1e-12)


def test_sdpa_gradcheck(rng):
    q, k, v = (ember.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((1, 3, 2), (1, 4, 2), (1, 4, 3)))
    keep = ember.tensor(rng.random((3, 4)) > 0.3)
    keep[0, 0] = True
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=keep),
                     (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                     (q, k, v))


def test_sdpa_dropout(rng):
    q, k, v = (ember.tensor(rng.standard_normal((2, 4, 3))) for _ in range(3))
    assert np.all(to_np(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)) == 0)
    ember.manual_seed(0)
    a = to_np(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    assert not np.allclose(a, to_np(F.scaled_dot_product_attention(q, k, v)))


def test_sdpa_bad_input(rng):
    q = ember.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="query .* key .* value"):
        F.scaled_dot_product_attention(q, ember.zeros(2, 5, 3), ember.zeros(2, 5, 4))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q, q.double())
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(3, 3), is_causal=True)


def test_mha_structure_and_errors():
    m = enn.MultiheadAttention(8, 2)
    assert [n for n, _ in m.named_parameters()] == ["in_proj_weight", "in_proj_bias",
                                                    "out_proj.weight", "out_proj.bias"]
    assert m.in_proj_weight.shape == (24, 8)
    assert np.all(to_np(m.in_proj_bias) == 0) and np.all(to_np(m.out_proj.bias) == 0)
    bound = np.sqrt(6 / (24 + 8))  # xavier_uniform on (3E, E)
    assert np.abs(to_np(m.in_proj_weight)).max() <= bound
    m2 = enn.MultiheadAttention(8, 4, kdim=3, vdim=5, bias=False, add_bias_kv=True)
    assert m2.in_proj_weight is None and m2.k_proj_weight.shape == (8, 3)
    assert m2.bias_k.shape == (1, 1, 8) and m2.out_proj.bias is None
    with pytest.raises(AssertionError, match="divisible"):
        enn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match=r"expected key of shape \(\.\.\., 8\)"):
        m(ember.zeros(3, 2, 8), ember.zeros(3, 2, 7), ember.zeros(3, 2, 8))
    x = ember.zeros(3, 2, 8)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=ember.zeros(3, 4))
    with pytest.raises(AssertionError, match="key_padding_mask shape"):
        m(x, x, x, key_padding_mask=ember.zeros(3, 3, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)


# ------------------------------------------------------------------ PyTorch parity
MHA_CASES = [
    dict(),
    dict(batch_first=True),
    dict(bias=False),
    dict(kdim=3, vdim=5),
    dict(add_bias_kv=True),
    dict(add_zero_attn=True, batch_first=True),
    dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5),
]


# self-attention (query is key is value) needs kdim == vdim == embed_dim
@pytest.mark.parametrize("kw,self_attn", [(kw, sa) for kw in MHA_CASES for sa in (True, False)
                                          if not (sa and "kdim" in kw)])
@pytest.mark.parametrize("mask", [None, "bool", "float", "bool3d"])
def test_mha_vs_torch(kw, mask, self_attn, rng):
    torch = pytest.importorskip("torch")
    E, H, L, S, N = 8, 2, 3, 4, 2
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, **kw).double()
    em = enn.MultiheadAttention(E, H, **kw, dtype=ember.float64)
    copy_from_torch(tm, em)
    bf = kw.get("batch_first", False)

    def shape(n, d):
        return (N, n, d) if bf else (n, N, d)
    q = rng.standard_normal(shape(L, E))
    if self_attn:
        S = L
        arrays = [q]
    else:
        arrays = [q, rng.standard_normal(shape(S, kw.get("kdim", E))),
                  rng.standard_normal(shape(S, kw.get("vdim", E)))]
    et = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    eargs = et * 3 if self_attn else et
    targs = tt * 3 if self_attn else tt
    ekw, tkw = {}, {}
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False  # keep one key per row so no row is fully masked
    ekw["key_padding_mask"], tkw["key_padding_mask"] = ember.tensor(kpm), torch.tensor(kpm)
    if mask == "bool":
        m = rng.random((L, S)) < 0.3
        m[:, 0] = False
        ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
    elif mask == "float":
        m = rng.standard_normal((L, S))
        kp = np.where(kpm, -np.inf, 0.0)
        ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
        ekw["key_padding_mask"], tkw["key_padding_mask"] = ember.tensor(kp), torch.tensor(kp)
    elif mask == "bool3d":
        m = rng.random((N * H, L, S)) < 0.3
        m[..., 0] = False
        ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
    for avg in (True, False):
        eo, ew = em(*eargs, average_attn_weights=avg, **ekw)
        to, tw = tm(*targs, average_attn_weights=avg, **tkw)
        np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_np(ew), tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    eo2, none = em(*eargs, need_weights=False, **ekw)
    assert none is None
    np.testing.assert_allclose(to_np(eo2), to_np(eo), rtol=1e-12)
    cot = rng.standard_normal(tuple(to.shape))
    cw = rng.standard_normal(tuple(tw.shape))
    ((eo * ember.tensor(cot)).sum() + (ew * ember.tensor(cw)).sum()).backward()
    ((to * torch.tensor(cot)).sum() + (tw * torch.tensor(cw)).sum()).backward()
    for e, t in zip(et, tt):
        np.testing.assert_allclose(to_np(e.grad), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert_param_grads_match(em, tm, rtol=1e-9, atol=1e-12)


def test_mha_unbatched_vs_torch(rng):
    torch = pytest.importorskip("torch")
    tm = torch.nn.MultiheadAttention(6, 3).double()
    em = enn.MultiheadAttention(6, 3, dtype=ember.float64)
    copy_from_torch(tm, em)
    q, k = rng.standard_normal((4, 6)), rng.standard_normal((5, 6))
    kpm = np.array([False, True, False, False, True])
    eo, ew = em(ember.tensor(q), ember.tensor(k), ember.tensor(k),
                key_padding_mask=ember.tensor(kpm))
    to, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k),
                key_padding_mask=torch.tensor(kpm))
    assert eo.shape == (4, 6) and ew.shape == (4, 5)
    np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_np(ew), tw.detach().numpy(), rtol=1e-10)


def test_mha_dropout_train_vs_eval(rng):
    m = enn.MultiheadAttention(4, 2, dropout=0.5, dtype=ember.float64)
    x = ember.tensor(rng.standard_normal((3, 2, 4)))
    m.eval()
    a = to_np(m(x, x, x)[0])
    np.testing.assert_array_equal(a, to_np(m(x, x, x)[0]))
    m.train()
    ember.manual_seed(1)
    assert not np.allclose(a, to_np(m(x, x, x)[0]))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 5)])
def test_sdpa_vs_torch_grads(shape, rng):
    torch = pytest.importorskip("torch")
    q = rng.standard_normal(shape)
    k = rng.standard_normal(shape[:-2] + (6, shape[-1]))
    v = rng.standard_normal(shape[:-2] + (6, 2))
    for kw in ({}, {"is_causal": True}, {"attn_mask": "bool"}, {"attn_mask": "float"},
               {"scale": 0.3}):
        ekw, tkw = dict(kw), dict(kw)
        if kw.get("attn_mask") == "bool":
            m = rng.random((shape[-2], 6)) > 0.3
            m[:, 0] = True
            ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
        elif kw.get("attn_mask") == "float":
            m = rng.standard_normal((shape[-2], 6))
            ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
        es = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
        ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        eo = F.scaled_dot_product_attention(*es, **ekw)
        to = torch.nn.functional.scaled_dot_product_attention(*ts, **tkw)
        np.testing.assert_allclose(to_np(eo), to.detach().numpy(), rtol=1e-10, atol=1e-12)
        backward_same_cotangent(torch, rng, eo, to)
        for e, t in zip(es, ts):
            np.testing.assert_allclose(to_np(e.grad), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sdpa_gqa_vs_torch(rng):
    torch = pytest.importorskip("torch")
    q = rng.standard_normal((1, 4, 3, 2))
    k, v = rng.standard_normal((1, 2, 5, 2)), rng.standard_normal((1, 2, 5, 2))
    eo = F.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)), enable_gqa=True)
    to = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)),
                                                          enable_gqa=True)
    np.testing.assert_allclose(to_np(eo), to.numpy(), rtol=1e-10)


def test_mha_is_causal_hint_vs_torch(rng):
    """With is_causal=True, no key_padding_mask and need_weights=False PyTorch trusts the hint
    and applies the causal mask whatever attn_mask holds; ember follows it."""
    torch = pytest.importorskip("torch")
    tm = torch.nn.MultiheadAttention(4, 2).double()
    em = enn.MultiheadAttention(4, 2, dtype=ember.float64)
    copy_from_torch(tm, em)
    x = rng.standard_normal((3, 2, 4))
    m = np.zeros((3, 3))
    a = tm(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(m), is_causal=True,
           need_weights=False)[0]
    b = em(*[ember.tensor(x)] * 3, attn_mask=ember.tensor(m), is_causal=True,
           need_weights=False)[0]
    np.testing.assert_allclose(to_np(b), a.detach().numpy(), rtol=1e-10)
    c = em(*[ember.tensor(x)] * 3, attn_mask=ember.tensor(m), need_weights=False)[0]
    assert not np.allclose(to_np(c), to_np(b))
