"""Rprop: resilient backpropagation."""
from __future__ import annotations

from ..frontend.functional.math import where
from .optimizer import (Optimizer, check_dense, check_lr, check_unsupported, grad_direction,
                        new_step, zeros_state)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """``torch.optim.Rprop``::

        step += 1;  g = grad (negated if maximize);  s = sign(g * prev)
        step_size *= etaplus where s > 0, etaminus where s < 0;  clamp to step_sizes
        g = 0 where s < 0
        p -= sign(g) * step_size;  prev = g

    ``step_size`` starts at the group's lr (a tensor op on the lr input).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr("Rprop", lr)
        if not (isinstance(etas, (tuple, list)) and len(etas) == 2
                and 0.0 < etas[0] < 1.0 < etas[1]):
            raise ValueError(f"Rprop: Invalid eta values: {etas} (need 0 < etaminus < 1 < "
                             f"etaplus)")
        if not (isinstance(step_sizes, (tuple, list)) and len(step_sizes) == 2
                and 0.0 <= step_sizes[0] <= step_sizes[1]):
            raise ValueError(f"Rprop: Invalid step_sizes: {step_sizes} (need 0 <= min <= max)")
        check_unsupported("Rprop", None, differentiable)
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        etaminus, etaplus = self._hyper(group, "etas")
        size_min, size_max = self._hyper(group, "step_sizes")
        for p in self._params_with_grad(group):
            check_dense("Rprop", p)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = new_step()
                state["prev"] = zeros_state(p)
                state["step_size"] = zeros_state(p) + lr
            prev, step_size = state["prev"], state["step_size"]
            g = grad_direction(p, group, None)
            state["step"].add_(1)
            s = g * prev
            grew, flipped = s > 0, s < 0
            factor = where(grew, etaplus.to(p.dtype), where(flipped, etaminus.to(p.dtype), 1.0))
            step_size.copy_((step_size * factor).clamp(size_min, size_max))
            g = where(flipped, 0.0, g)
            p.sub_(g.sign() * step_size)
            prev.copy_(g)
