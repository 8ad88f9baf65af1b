"""Adamax: Adam with the infinity norm."""
from __future__ import annotations

from .optimizer import (Optimizer, check_betas, check_dense, check_lr, check_nonneg,
                        check_unsupported, grad_direction)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``::

        step += 1;  g = grad (negated if maximize) + wd*p
        m = lerp(m, g, 1 - beta1);  u = max(beta2*u, |g| + eps)
        p -= lr / (1 - beta1**step) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_lr("Adamax", lr)
        check_nonneg("Adamax", "epsilon", eps)
        check_betas("Adamax", betas)
        check_nonneg("Adamax", "weight_decay", weight_decay)
        check_unsupported("Adamax", None, differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        beta1, beta2 = self._hyper(group, "betas")
        eps = self._hyper(group, "eps")
        wd = self._hyper_if_set(group, "weight_decay")
        for p in self._params_with_grad(group):
            check_dense("Adamax", p)
            state = self._lazy_state(p, "exp_avg", "exp_inf")
            step, m, u = state["step"], state["exp_avg"], state["exp_inf"]
            g = grad_direction(p, group, wd)
            step.add_(1)
            m.lerp_(g, 1 - beta1)
            u.copy_((u * beta2).maximum(g.abs() + eps))
            p.sub_((lr / (1 - beta1 ** step)) * (m / u))
