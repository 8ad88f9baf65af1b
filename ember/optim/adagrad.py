"""Adagrad with learning-rate decay and an initial accumulator value."""
from __future__ import annotations

from ..frontend.creation import full_like
from .optimizer import (Optimizer, check_dense, check_lr, check_nonneg, check_unsupported,
                        grad_direction, new_step)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``torch.optim.Adagrad``::

        step += 1;  g = grad (negated if maximize) + wd*p
        clr = lr / (1 + (step - 1)*lr_decay)
        sum += g*g;  p -= clr * g / (sqrt(sum) + eps)

    Its state (``step`` and ``sum = initial_accumulator_value``) is created eagerly at
    construction, as in PyTorch.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr("Adagrad", lr)
        check_nonneg("Adagrad", "lr_decay", lr_decay)
        check_nonneg("Adagrad", "weight_decay", weight_decay)
        check_nonneg("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        check_nonneg("Adagrad", "epsilon", eps)
        check_unsupported("Adagrad", fused, differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = new_step()
        state["sum"] = full_like(p, group["initial_accumulator_value"])

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        lr_decay = self._hyper(group, "lr_decay")
        eps = self._hyper(group, "eps")
        wd = self._hyper_if_set(group, "weight_decay")
        for p in self._params_with_grad(group):
            check_dense("Adagrad", p)
            state = self.state[p]
            if len(state) == 0:  # a group added after construction
                self._init_state(p, group)
            step, acc = state["step"], state["sum"]
            g = grad_direction(p, group, wd)
            step.add_(1)
            clr = lr / (1 + (step - 1) * lr_decay)
            acc.add_(g * g)
            p.sub_(clr * (g / (acc.sqrt() + eps)))
