"""SparseAdam: Adam that only updates the rows a (row-)sparse gradient touches.

Gradient format (what ``nn.Embedding(sparse=True)`` should produce): an object with
``is_sparse == True`` and PyTorch's COO accessors ``_indices()`` (int64, shape ``(1, nnz)``
or ``(nnz,)``: the rows of the parameter) and ``_values()`` (shape ``(nnz, *p.shape[1:])``).
Indices may repeat; repeated rows are summed, as ``coalesce()`` does.

Until ember has sparse tensors, a dense gradient is also accepted (PyTorch rejects it): its
rows holding any nonzero are taken as the sparse rows. A row present in a sparse gradient
with all-zero values is updated (PyTorch), a zero row of a dense gradient is not.

The update is written densely with a row mask (``where``), so it has no data-dependent
shapes and no host reads: rows outside the mask keep their parameter and moments.
"""
from __future__ import annotations

from ..frontend.creation import zeros as _zeros, ones as _ones, zeros_like as _zeros_like
from ..frontend.functional.math import where
from ..ops import dtypes as D
from .optimizer import Optimizer, check_betas, check_lr, check_nonneg

__all__ = ["SparseAdam"]


def _dense_rows(p, grad):
    """(dense gradient, boolean row mask broadcastable to p)."""
    n = p.shape[0]
    bshape = (n,) + (1,) * (p.dim() - 1)
    if getattr(grad, "is_sparse", False):
        idx = grad._indices().reshape(-1).to(D.int64)
        vals = grad._values()
        nnz = idx.shape[0]
        want = (nnz,) + tuple(p.shape[1:])
        if tuple(vals.shape) != want:
            raise RuntimeError(f"SparseAdam: sparse gradient values have shape "
                               f"{tuple(vals.shape)}, expected {want} for a parameter of shape "
                               f"{tuple(p.shape)} and {nnz} indices")
        index = idx.reshape((nnz,) + (1,) * (p.dim() - 1)).expand(*want)
        dense = _zeros_like(p).scatter_add(0, index, vals.to(p.dtype))
        hits = _zeros((n,), dtype=D.int64).scatter_add(0, idx, _ones((nnz,), dtype=D.int64))
        return dense, (hits > 0).reshape(bshape)
    if tuple(grad.shape) != tuple(p.shape):
        raise RuntimeError(f"SparseAdam: gradient shape {tuple(grad.shape)} does not match the "
                           f"parameter shape {tuple(p.shape)}")
    mask = (grad != 0).reshape(n, -1).any(dim=1) if p.numel() else _zeros((n,), dtype=D.bool_)
    return grad, mask.reshape(bshape)


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam``: lazy Adam for sparse gradients. On the gradient's rows::

        m += (1 - beta1)*(g - m);  v += (1 - beta2)*(g*g - v)
        p -= lr * sqrt(1 - beta2**step) / (1 - beta1**step) * m / (sqrt(v) + eps)

    Other rows are untouched. See the module docstring for the gradient format.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        check_lr("SparseAdam", lr, strict=True)
        check_nonneg("SparseAdam", "epsilon", eps, strict=True)
        check_betas("SparseAdam", betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                if p.dim() == 0:
                    raise ValueError(f"SparseAdam: param {pi} of group {gi} is 0-d; SparseAdam "
                                     f"updates rows and needs parameters with >= 1 dimension")

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        beta1, beta2 = self._hyper(group, "betas")
        eps = self._hyper(group, "eps")
        for p in self._params_with_grad(group):
            state = self._lazy_state(p, "exp_avg", "exp_avg_sq")
            step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
            g, rows = _dense_rows(p, p.grad)
            if group["maximize"]:
                g = -g
            step.add_(1)
            m.copy_(where(rows, m + (g - m) * (1 - beta1), m))
            v.copy_(where(rows, v + (g * g - v) * (1 - beta2), v))
            step_size = lr * (1 - beta2 ** step).sqrt() / (1 - beta1 ** step)
            p.sub_(where(rows, step_size * (m / (v.sqrt() + eps)), 0.0))
