"""ASGD: averaged stochastic gradient descent."""
from __future__ import annotations

from ..frontend.creation import ones as _ones
from ..frontend.functional.math import where
from .optimizer import (Optimizer, check_dense, check_lr, check_nonneg, check_unsupported,
                        grad_direction, new_step, scalar_dtype, zeros_state)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """``torch.optim.ASGD``::

        step += 1;  g = grad (negated if maximize) + wd*p
        p *= 1 - lambd*eta;  p -= eta*g
        ax = p if mu == 1 else ax + mu*(p - ax)
        eta = lr / (1 + lambd*lr*step)**alpha;  mu = 1 / max(1, step - t0)

    ``eta`` and ``mu`` are 0-d state tensors of the scalar dtype (float32 by default),
    as in PyTorch; ``eta`` starts at the group's lr. ``mu == 1`` is chosen with a
    tensor ``where``, not a host read.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr("ASGD", lr)
        check_nonneg("ASGD", "weight_decay", weight_decay)
        check_unsupported("ASGD", None, differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        lambd = self._hyper(group, "lambd")
        alpha = self._hyper(group, "alpha")
        t0 = self._hyper(group, "t0")
        wd = self._hyper_if_set(group, "weight_decay")
        for p in self._params_with_grad(group):
            check_dense("ASGD", p)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = new_step()
                state["eta"] = new_step().add_(lr)
                state["mu"] = _ones((), dtype=scalar_dtype())
                state["ax"] = zeros_state(p)
            step, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
            g = grad_direction(p, group, wd)
            step.add_(1)
            p.mul_(1 - lambd * eta)
            p.sub_(g * eta)
            ax.copy_(where(mu == 1, p, ax + (p - ax) * mu))
            eta.copy_(lr / (1 + lambd * lr * step) ** alpha)
            mu.copy_(1 / (step - t0).clamp_min(1))
