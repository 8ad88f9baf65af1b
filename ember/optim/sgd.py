"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
from __future__ import annotations

from .optimizer import Optimizer, check_lr, check_nonneg, check_unsupported

__all__ = ["SGD"]


class SGD(Optimizer):
    """``torch.optim.SGD``::

        g = grad (negated if maximize) + weight_decay * p
        if momentum != 0:
            buf = g                       at the first step (a copy)
            buf = momentum*buf + (1 - dampening)*g   after
            g = g + momentum*buf if nesterov else buf
        p -= lr * g

    The momentum buffer is created at the parameter's first step, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_lr("SGD", lr)
        check_nonneg("SGD", "momentum", momentum)
        check_nonneg("SGD", "weight_decay", weight_decay)
        check_unsupported("SGD", fused, differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={momentum}, dampening={dampening})")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr = self._hyper(group, "lr")
        momentum = self._hyper_if_set(group, "momentum")
        use_momentum = momentum is not None
        if use_momentum:
            one_minus_damp = 1 - self._hyper(group, "dampening")
        wd = self._hyper_if_set(group, "weight_decay")
        for p in self._params_with_grad(group):
            g = p.grad
            if getattr(g, "is_sparse", False):
                raise RuntimeError("SGD: sparse gradients are not supported by ember's SGD")
            if group["maximize"]:
                g = -g
            if wd is not None:
                g = g + wd * p
            if use_momentum:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.clone()
                else:
                    buf.mul_(momentum).add_(g * one_minus_damp)
                g = g + momentum * buf if group["nesterov"] else buf
            p.sub_(lr * g)
