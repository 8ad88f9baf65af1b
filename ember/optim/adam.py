"""Adam and AdamW (Adam with decoupled weight decay), with amsgrad and maximize."""
from __future__ import annotations

from .optimizer import (Optimizer, check_betas, check_dense, check_lr, check_nonneg,
                        check_unsupported, grad_direction)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """``torch.optim.Adam``::

        step += 1
        g = grad (negated if maximize)
        if weight_decay: g += wd*p  (or, decoupled: p *= 1 - lr*wd)
        m = lerp(m, g, 1 - beta1);  v = beta2*v + (1 - beta2)*g*g
        vmax = max(vmax, v) if amsgrad
        p -= lr / (1 - beta1**step) * m / (sqrt(v or vmax) / sqrt(1 - beta2**step) + eps)

    The bias corrections are tensor ops on the 0-d ``step`` state, not Python floats.
    """

    _name = "Adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        name = self._name
        check_lr(name, lr)
        check_nonneg(name, "epsilon", eps)
        check_betas(name, betas)
        check_nonneg(name, "weight_decay", weight_decay)
        check_unsupported(name, fused, differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        beta1, beta2 = self._hyper(group, "betas")
        eps = self._hyper(group, "eps")
        wd = self._hyper_if_set(group, "weight_decay")
        amsgrad = group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        zero_names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        for p in self._params_with_grad(group):
            check_dense(self._name, p)
            state = self._lazy_state(p, *zero_names)
            step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
            g = grad_direction(p, group, None if decoupled else wd)
            step.add_(1)
            if decoupled and wd is not None:
                p.mul_(1 - lr * wd)
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).add_(g * g * (1 - beta2))
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step).sqrt()
            if amsgrad:
                vmax = state["max_exp_avg_sq"]
                vmax.copy_(vmax.maximum(v))
                v = vmax
            denom = v.sqrt() / bias_correction2_sqrt + eps
            p.sub_((lr / bias_correction1) * (m / denom))


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay ``p *= 1 - lr*wd``
    (default ``weight_decay=1e-2``)."""

    _name = "AdamW"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
