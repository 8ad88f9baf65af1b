"""RMSprop, optionally centered and with momentum."""
from __future__ import annotations

from .optimizer import (Optimizer, check_dense, check_lr, check_nonneg, check_unsupported,
                        grad_direction)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``::

        step += 1;  g = grad (negated if maximize) + wd*p
        v = alpha*v + (1 - alpha)*g*g
        centered: ga = lerp(ga, g, 1 - alpha);  avg = sqrt(v - ga*ga) + eps
        else:     avg = sqrt(v) + eps
        momentum > 0: buf = momentum*buf + g/avg;  p -= lr*buf
        else:         p -= lr * g/avg
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr("RMSprop", lr)
        check_nonneg("RMSprop", "epsilon", eps)
        check_nonneg("RMSprop", "momentum", momentum)
        check_nonneg("RMSprop", "weight_decay", weight_decay)
        check_nonneg("RMSprop", "alpha", alpha)
        check_unsupported("RMSprop", None, differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        alpha = self._hyper(group, "alpha")
        eps = self._hyper(group, "eps")
        wd = self._hyper_if_set(group, "weight_decay")
        momentum = self._hyper_if_set(group, "momentum")  # validated >= 0
        use_momentum = momentum is not None
        centered = group["centered"]
        zero_names = ("square_avg",) + (("momentum_buffer",) if use_momentum else ()) \
            + (("grad_avg",) if centered else ())
        for p in self._params_with_grad(group):
            check_dense("RMSprop", p)
            state = self._lazy_state(p, *zero_names)
            v = state["square_avg"]
            g = grad_direction(p, group, wd)
            state["step"].add_(1)
            v.mul_(alpha).add_(g * g * (1 - alpha))
            if centered:
                ga = state["grad_avg"]
                ga.lerp_(g, 1 - alpha)
                avg = (v - ga * ga).sqrt() + eps
            else:
                avg = v.sqrt() + eps
            if use_momentum:
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(g / avg)
                p.sub_(lr * buf)
            else:
                p.sub_(lr * (g / avg))
