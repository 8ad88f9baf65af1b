"""Adadelta."""
from __future__ import annotations

from .optimizer import (Optimizer, check_dense, check_lr, check_nonneg, check_unsupported,
                        grad_direction)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """``torch.optim.Adadelta``::

        step += 1;  g = grad (negated if maximize) + wd*p
        v = rho*v + (1 - rho)*g*g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho*u + (1 - rho)*delta*delta
        p -= lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr("Adadelta", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {rho} (must be in [0, 1])")
        check_nonneg("Adadelta", "epsilon", eps)
        check_nonneg("Adadelta", "weight_decay", weight_decay)
        check_unsupported("Adadelta", None, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        rho = self._hyper(group, "rho")
        eps = self._hyper(group, "eps")
        wd = self._hyper_if_set(group, "weight_decay")
        for p in self._params_with_grad(group):
            check_dense("Adadelta", p)
            state = self._lazy_state(p, "square_avg", "acc_delta")
            step, v, u = state["step"], state["square_avg"], state["acc_delta"]
            g = grad_direction(p, group, wd)
            step.add_(1)
            v.mul_(rho).add_(g * g * (1 - rho))
            delta = (u + eps).sqrt() / (v + eps).sqrt() * g
            u.mul_(rho).add_(delta * delta * (1 - rho))
            p.sub_(lr * delta)
