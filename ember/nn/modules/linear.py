"""``Identity``, ``Linear``, ``Bilinear`` with PyTorch's default initialisation."""
from __future__ import annotations

import math

from ...frontend.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _init_weight_bias(module, weight_shape, out_features, bias, dtype, device):
    """Register an uninitialised ``weight`` and an ``out_features`` ``bias`` (or None);
    the caller's ``reset_parameters`` fills them (Linear, Bilinear, the conv layers)."""
    module.weight = Parameter(empty(weight_shape, dtype=dtype, device=device))
    if bias:
        module.bias = Parameter(empty(out_features, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ W.T + b``. W ~ kaiming_uniform(a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        _init_weight_bias(self, (out_features, in_features), out_features, bias, dtype,
                          device)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.dim() == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(f"Linear(in_features={self.in_features}): expected input[..., "
                               f"{self.in_features}], got shape {tuple(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1 @ W[k] @ x2 + b[k]``; W, b ~ U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _init_weight_bias(self, (out_features, in1_features, in2_features), out_features, bias,
                          dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        if input1.dim() == 0 or input1.shape[-1] != self.in1_features or input2.dim() == 0 \
                or input2.shape[-1] != self.in2_features:
            raise RuntimeError(f"Bilinear(in1_features={self.in1_features}, in2_features="
                               f"{self.in2_features}): expected input1[..., "
                               f"{self.in1_features}] and input2[..., {self.in2_features}], "
                               f"got shapes {tuple(input1.shape)} and {tuple(input2.shape)}")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
