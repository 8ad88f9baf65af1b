"""Gradient clipping without host reads: the total norm stays a tensor and the scale is
``min(max_norm / (total + 1e-6), 1)`` applied with in-place tensor ops."""
from __future__ import annotations

from ...frontend.autograd.grad_mode import no_grad
from ...frontend.creation import tensor
from ...frontend.functional.shape import stack
from ...frontend.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _dense(g):
    return g.to_dense() if getattr(g, "is_sparse", False) else g


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    norm_type = float(norm_type)
    tensors = [_dense(t) for t in tensors]
    if not tensors:
        return tensor(0.0)
    with no_grad():
        if norm_type == float("inf"):
            norms = [t.abs().amax() for t in tensors]
            total = stack([n.to(tensors[0].dtype) for n in norms]).amax()
        else:
            norms = [t.norm(norm_type) for t in tensors]
            total = stack([n.to(tensors[0].dtype) for n in norms]).norm(norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        # an explicit opt-in host read, as in PyTorch
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            if getattr(g, "is_sparse", False):
                g._vals = g._vals * coef.to(g._vals.dtype)
            else:
                g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients so that their joint ``norm_type`` norm is at most ``max_norm``;
    returns the total norm (a 0-d tensor) before clipping. Reads nothing back to the host
    unless ``error_if_nonfinite`` is set."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient elementwise to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            if getattr(g, "is_sparse", False):
                g._vals = g._vals.clamp(-clip_value, clip_value)
            else:
                g.clamp_(-clip_value, clip_value)
