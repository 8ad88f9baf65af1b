"""``Embedding`` and the row-sparse gradient it produces with ``sparse=True``."""
from __future__ import annotations

from ...frontend.autograd.function import Function
from ...frontend.creation import empty
from ...frontend.tensor import Tensor
from ...frontend.functional.shape import cat
from .. import functional as F
from .. import init
from ..functional.sparse import check_embedding_args
from ..parameter import Parameter
from .module import Module


class RowSparseGrad:
    """A row-sparse gradient in PyTorch's COO layout, as ``Embedding(sparse=True)`` leaves
    in ``weight.grad``.

    Format (what ``optim.SparseAdam`` reads): ``is_sparse`` is True; ``_indices()`` is an
    int64 tensor of shape ``(1, nnz)`` holding parameter rows (they may repeat: repeated
    rows sum, as ``coalesce()`` would); ``_values()`` has shape ``(nnz, embedding_dim)``.
    ``to_dense()`` gives the ordinary gradient. Accumulating another backward concatenates
    the entries; adding a dense tensor gives a dense tensor.
    """

    is_sparse = True
    layout = "sparse_coo"
    requires_grad = False
    grad_fn = None

    def __init__(self, indices, values, shape):
        self._idx = indices.reshape(1, -1)
        self._vals = values
        self.shape = tuple(shape)
        self.dtype = values.dtype
        self.device = values.device

    def _indices(self):
        return self._idx

    def _values(self):
        return self._vals

    indices, values = _indices, _values

    def _nnz(self):
        return self._idx.shape[1]

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return len(self.shape)

    def to_dense(self):
        from ...frontend.creation import zeros
        rest = self.shape[1:]
        idx = self._idx.reshape(-1, *([1] * len(rest))).expand(self._nnz(), *rest)
        return zeros(self.shape, dtype=self.dtype).scatter_add(0, idx, self._vals)

    def coalesce(self):
        return self

    def detach(self):
        return self

    def __add__(self, other):
        if isinstance(other, RowSparseGrad):
            return RowSparseGrad(cat([self._idx, other._idx], 1),
                                 cat([self._vals, other._vals], 0), self.shape)
        return self.to_dense() + other

    __radd__ = __add__

    def __repr__(self):
        return (f"RowSparseGrad(indices={self._idx.reshape(-1).tolist()}, size={self.shape}, "
                f"nnz={self._nnz()})")


class _SparseLookup(Function):
    """Rows of ``weight``; backward deposits a RowSparseGrad into ``weight.grad`` itself and
    returns None, so the autograd engine never sees a non-dense gradient."""

    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        ctx.weight, ctx.idx, ctx.padding_idx = weight, idx, padding_idx
        return weight.gather(0, idx.unsqueeze(1).expand(idx.shape[0], weight.shape[1]))

    @staticmethod
    def backward(ctx, grad):
        w, idx, grad = ctx.weight, ctx.idx, grad.detach()
        if ctx.padding_idx is not None:
            # PyTorch drops padding entries from the sparse gradient (eager: data-dependent)
            sel = (idx != ctx.padding_idx).nonzero().reshape(-1)
            idx, grad = idx.index_select(0, sel), grad.index_select(0, sel)
        g = RowSparseGrad(idx, grad, w.shape)
        w.grad = g if w.grad is None else (w.grad + g)
        return None, None, None


class Embedding(Module):
    """A lookup table: ``weight[input]``; weight ~ N(0, 1) and the ``padding_idx`` row is
    zero and receives no gradient.

    With ``sparse=True`` the gradient of ``weight`` is a :class:`RowSparseGrad` (PyTorch's
    COO layout: ``is_sparse``, ``_indices()`` of shape (1, nnz), ``_values()`` of shape
    (nnz, embedding_dim); see that class), which ``optim.SparseAdam`` consumes. It is written
    straight into ``weight.grad`` by the lookup's backward, so ``autograd.grad`` with
    respect to a sparse embedding's weight and double backward through it are not
    supported (eager-only; dense mode has no such limits).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        padding_idx = check_embedding_args(padding_idx, num_embeddings, scale_grad_by_freq,
                                           "Embedding")
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight shape {tuple(_weight.shape)} does not "
                                 f"match ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            from ...frontend.autograd.grad_mode import no_grad
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input):
        if not isinstance(input, Tensor) or input.dtype.is_floating_point:
            raise RuntimeError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): "
                               f"expected an integer index tensor, got "
                               f"{getattr(input, 'dtype', type(input).__name__)}")
        if not self.sparse:
            try:
                return F.embedding(input, self.weight, self.padding_idx, self.max_norm,
                                   self.norm_type)
            except IndexError as e:
                raise IndexError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): "
                                 f"{e}") from None
        idx = input.long().reshape(-1)
        if self.max_norm is not None:
            from ..functional.sparse import _renorm_rows
            _renorm_rows(self.weight, idx, self.max_norm, self.norm_type)
        rows = _SparseLookup.apply(self.weight, idx, self.padding_idx)
        return rows.reshape(tuple(input.shape) + (self.embedding_dim,))

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        if embeddings.dim() != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = tuple(embeddings.shape)
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s
