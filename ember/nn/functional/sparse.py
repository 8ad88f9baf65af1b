"""``embedding`` (an index_select of weight rows) and ``one_hot``."""
from __future__ import annotations

from ...frontend.autograd.grad_mode import no_grad
from ...frontend.creation import arange
from ...frontend.functional.math import where
from ...ops import dtypes as D
from ._util import check_tensor


def _check_indices(input, num, name):
    check_tensor(input, name)
    if input.dtype.is_floating_point or input.dtype is D.bool_:
        raise RuntimeError(f"{name}: expected an integer index tensor (Long or Int), got "
                           f"{input.dtype!r}")


def check_embedding_args(padding_idx, num_embeddings, scale_grad_by_freq, who):
    """``padding_idx`` made non-negative (None stays None); rejects what ember lacks."""
    n = num_embeddings
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{who}: padding_idx {padding_idx} must be within "
                             f"num_embeddings {n}")
        padding_idx %= n
    if scale_grad_by_freq:
        raise NotImplementedError(f"{who}: scale_grad_by_freq=True is not supported")
    return padding_idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``input``: shape ``input.shape + (embedding_dim,)``.

    ``padding_idx`` rows get no gradient (the forward value is unchanged). ``sparse=True``
    is handled by ``nn.Embedding`` (see its docstring); here it only computes the dense
    result. ``max_norm`` renormalises the looked-up rows of ``weight`` in place (eager).
    """
    _check_indices(input, weight.shape[0], "embedding")
    if weight.dim() != 2:
        raise RuntimeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                           f"got shape {tuple(weight.shape)}")
    n = weight.shape[0]
    padding_idx = check_embedding_args(padding_idx, n, scale_grad_by_freq, "embedding")
    idx = input.long().reshape(-1)
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    # gather (not index_select): no frontend host reads, and the kernel rejects indices
    # outside [0, n) as PyTorch does (negative indices do not wrap)
    d = weight.shape[1]
    try:
        rows = weight.gather(0, idx.unsqueeze(1).expand(idx.shape[0], d))
    except IndexError as e:
        raise IndexError(f"embedding: index out of range for num_embeddings={n} ({e})") \
            from None
    if padding_idx is not None:
        keep = (idx != padding_idx).unsqueeze(-1)
        rows = where(keep, rows, rows.detach())
    return rows.reshape(tuple(input.shape) + (weight.shape[1],))


def _renorm_rows(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: scale looked-up rows whose norm exceeds max_norm."""
    with no_grad():
        rows = weight.index_select(0, idx)
        norms = rows.abs().pow(norm_type).sum(-1, keepdim=True).pow(1.0 / norm_type)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[idx] = rows * scale


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding; ``num_classes=-1`` infers max + 1 (a host read, eager-only)."""
    _check_indices(tensor, None, "one_hot")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0
    if tensor.numel():
        lo, hi = int(tensor.min().item()), int(tensor.max().item())
        if lo < 0 or hi >= num_classes:
            raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got "
                               f"values in [{lo}, {hi}]")
    classes = arange(num_classes, dtype=D.int64)
    return (tensor.long().unsqueeze(-1) == classes).long()
