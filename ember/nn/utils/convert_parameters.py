"""``parameters_to_vector`` / ``vector_to_parameters``."""
from __future__ import annotations

from ...frontend.autograd.grad_mode import no_grad
from ...frontend.functional.shape import cat
from ...frontend.tensor import Tensor


def parameters_to_vector(parameters):
    """One flat tensor of all parameters (differentiable, like PyTorch's)."""
    if isinstance(parameters, Tensor):
        raise TypeError(f"expected an iterable of Tensors, but got {type(parameters).__name__}")
    vec = [p.reshape(-1) for p in parameters]
    if not vec:
        raise RuntimeError("parameters_to_vector: got no parameters")
    return cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into each parameter (in place, no grad)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    if vec.dim() != 1:
        raise RuntimeError(f"vector_to_parameters: vec must be 1-D, got shape "
                           f"{tuple(vec.shape)}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if total != vec.numel():
        raise RuntimeError(f"vector_to_parameters: vec has {vec.numel()} elements but the "
                           f"parameters need {total}")
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(tuple(p.shape)))
            offset += n
