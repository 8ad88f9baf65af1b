"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

Both are composites (matmul, softmax, masks as ``where``/additive biases). A query row
whose keys are all masked out yields zeros (PyTorch's CPU SDPA kernels do the same),
rather than the nan a plain softmax of all -inf would give.
"""
from __future__ import annotations

import math
import warnings

from ...frontend import functional as EF
from ...frontend.creation import arange, zeros
from ...frontend.promotion import broadcast_shapes
from ...ops import dtypes as D
from .dropout import dropout as _dropout
from .linear import linear


def _safe_softmax(s):
    """softmax over the last dim that returns 0 for all -inf rows."""
    m = EF.amax(s, -1, True).detach()
    m = EF.where(EF.isinf(m), 0.0, m)
    e = EF.exp(EF.sub(s, m))
    d = e.sum(-1, keepdim=True)
    return EF.div(e, EF.where(EF.eq(d, 0), 1.0, d))


def _attention(q, k, v, bias, dropout_p, scale):
    """softmax(q k^T * scale + bias) v; returns (output, weights). ``bias`` is an additive
    float mask (with -inf) or a boolean keep-mask, or None."""
    s = EF.mul(EF.matmul(q, k.transpose(-2, -1)), scale)
    if bias is not None:
        if bias.dtype is D.bool_:
            s = EF.where(bias, s, float("-inf"))
        else:
            s = EF.add(s, bias)
    w = _safe_softmax(s)
    if dropout_p > 0.0:
        w = _dropout(w, dropout_p, True)
    return EF.matmul(w, v), w


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """PyTorch's SDPA: a boolean ``attn_mask`` says which positions take part (True = keep),
    a float one is added to the scores; ``is_causal`` masks keys after each query."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not hasattr(t, "shape") or t.dim() < 2:
            raise RuntimeError(f"{op}: {name} must be a tensor with at least 2 dims (..., L, E),"
                               f" got {getattr(t, 'shape', type(t).__name__)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: expected query (..., L, E), key (..., S, E) and value "
                           f"(..., S, Ev), got query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)}, value {tuple(value.shape)}")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"{op}: Expected query, key, and value to have the same dtype, but "
                           f"got query.dtype: {query.dtype.name}, key.dtype: {key.dtype.name}, "
                           f"and value.dtype: {value.dtype.name} instead.")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(f"{op}: with enable_gqa the number of query heads ({hq}) must be "
                               f"a multiple of the key/value heads ({hk})")
        key = key.repeat_interleave(hq // hk, -3)
        value = value.repeat_interleave(hq // hk, -3)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{op}: is_causal=True cannot be combined with an explicit "
                               f"attn_mask")
        # top-left aligned lower triangle, as torch.ones(L, S).tril()
        rows = arange(L, device=query.device).reshape(L, 1)
        bias = EF.le(arange(S, device=query.device).reshape(1, S), rows)
    elif attn_mask is not None:
        try:
            broadcast_shapes(tuple(attn_mask.shape), tuple(query.shape[:-2]) + (L, S))
        except Exception:
            raise RuntimeError(f"{op}: attn_mask of shape {tuple(attn_mask.shape)} does not "
                               f"broadcast to the attention scores (..., L={L}, S={S}) for "
                               f"query {tuple(query.shape)}") from None
        bias = attn_mask if attn_mask.dtype is D.bool_ else attn_mask.to(query.dtype)
    return _attention(query, key, value, bias, dropout_p, scale)[0]


# ------------------------------------------------------------------ multi-head attention
def _float_mask(mask, name, dtype):
    """A boolean mask (True = masked out) becomes an additive 0/-inf mask; floats pass."""
    if mask is None:
        return None
    if mask.dtype is D.bool_:
        return EF.where(mask, float("-inf"), zeros((), dtype=dtype, device=mask.device))
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported, got "
                             f"{mask.dtype!r}")
    return mask.to(dtype)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q, b_k, b_v):
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """PyTorch's functional MHA on sequence-first inputs (L, N, E) or unbatched (L, E).
    Boolean masks mark positions to IGNORE (True = masked), unlike SDPA's keep-mask."""
    op = "multi_head_attention_forward"
    batched = query.dim() == 3
    if query.dim() not in (2, 3) or key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"{op}: query, key and value must all be 3-D (L, N, E) or all "
                             f"2-D (L, E) (unbatched), got query {tuple(query.shape)}, key "
                             f"{tuple(key.shape)}, value {tuple(value.shape)}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            if key_padding_mask.dim() != 1:
                raise AssertionError(f"{op}: for unbatched (2-D) query, key_padding_mask must "
                                     f"be 1-D, got shape {tuple(key_padding_mask.shape)}")
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"{op}: was expecting embedding dimension of {embed_dim_to_check},"
                             f" but got {embed_dim} (query shape {tuple(query.shape)})")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if tuple(key.shape[:2]) != tuple(value.shape[:2]) or key.shape[1] != bsz:
        raise AssertionError(f"{op}: key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)} / query batch {bsz}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # PyTorch then trusts the hint and runs causal SDPA, ignoring attn_mask's values
        rows = arange(tgt_len, device=query.device).reshape(tgt_len, 1)
        attn_mask = EF.gt(arange(src_len, device=query.device).reshape(1, src_len), rows)
    if key_padding_mask is not None and attn_mask is not None and \
            (key_padding_mask.dtype is D.bool_) != (attn_mask.dtype is D.bool_):
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", UserWarning, stacklevel=3)
    dtype = query.dtype
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)
    attn_mask = _float_mask(attn_mask, "attn_mask", dtype)

    # input projections
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError(f"{op}: use_separate_proj_weight is False but in_proj_weight "
                                 f"is None")
        if query is key and key is value:  # self-attention: one matmul
            q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q, b_k, b_v = in_proj_bias.chunk(3) if in_proj_bias is not None else (None,) * 3
            q, k, v = _in_projection(query, key, value, w_q, w_k, w_v, b_q, b_k, b_v)
    else:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError(f"{op}: use_separate_proj_weight is True but q/k/v_proj_weight "
                                 f"is None")
        b_q, b_k, b_v = in_proj_bias.chunk(3) if in_proj_bias is not None else (None,) * 3
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, "
                                   f"but should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, "
                                   f"but should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key/value.")
        k = EF.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = EF.cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, bsz * num_heads, head_dim, "static_k")
    v = _heads(v, static_v, bsz * num_heads, head_dim, "static_v")
    if add_zero_attn:
        z = zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype, device=q.device)
        k, v = EF.cat([k, z], 1), EF.cat([v, z], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but "
                                 f"got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else EF.add(attn_mask, kpm)

    if not training:
        dropout_p = 0.0
    out, w = _attention(q, k, v, attn_mask, dropout_p, 1.0 / math.sqrt(head_dim))
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    w = w.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        w = w.mean(1)
    if not batched:
        w = w.squeeze(0)
    return out, w


def _heads(t, static, nh, head_dim, name):
    if static is None:
        return t.reshape(t.shape[0], nh, head_dim).transpose(0, 1)
    if tuple(static.shape[::2]) != (nh, head_dim) or static.dim() != 3:
        raise AssertionError(f"expecting {name} of shape ({nh}, S, {head_dim}), but got "
                             f"{tuple(static.shape)}")
    return static


def _pad_last(mask):
    """Append one unmasked (0) column to an additive mask (for bias_k or add_zero_attn)."""
    if mask is None:
        return None
    return EF.cat([mask, zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype,
                               device=mask.device)], -1)
