"""Convolution modules (``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d``) with PyTorch's
arguments, default initialisation (kaiming_uniform(a=sqrt(5)), bias U(+-1/sqrt(fan_in)))
and reprs. ``padding_mode`` other than 'zeros' pads with ``F.pad`` first."""
from __future__ import annotations

import math

from .. import functional as F
from .. import init
from ..functional._util import ntuple
from ..functional.conv import conv_padding
from .linear import _init_weight_bias
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _nsp = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        n = self._nsp
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = ntuple(stride, n, "stride")
        self.dilation = ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            if self._transposed:
                raise ValueError(f"{name}: string padding is not supported")
            self.padding = padding
        else:
            self.padding = ntuple(padding, n, "padding")
        self.output_padding = ntuple(output_padding, n, "output_padding")
        self.groups, self.padding_mode = groups, padding_mode
        self.transposed = self._transposed
        if self._transposed:
            if padding_mode != "zeros":
                raise ValueError(f"Only 'zeros' padding mode is supported for {name}")
            wshape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            wshape = (out_channels, in_channels // groups) + self.kernel_size
        _init_weight_bias(self, wshape, out_channels, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input):
        n = self._nsp
        if input.dim() not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            raise RuntimeError(f"{self._short()}: expected input of shape (N, "
                               f"{self.in_channels}, {', '.join('*' * n)}) or ("
                               f"{self.in_channels}, {', '.join('*' * n)}) with "
                               f"{self.in_channels} channels, got shape {tuple(input.shape)}")

    def _short(self):
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, " \
               f"kernel_size={self.kernel_size})"

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        n = self._nsp
        if self.padding != (0,) * n:
            s += ", padding={padding}"
        if self.dilation != (1,) * n:
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * n:
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**{k: getattr(self, k) for k in (
            "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
            "output_padding", "groups", "padding_mode")})


class _Conv(_ConvNd):
    _fn = None

    def forward(self, input):
        self._check_input(input)
        fn = type(self)._fn
        if self.padding_mode != "zeros":
            pads = conv_padding(self.padding, self.kernel_size, self.dilation, self.stride,
                                self._nsp, type(self).__name__)
            flat = [v for lo_hi in reversed(pads) for v in lo_hi]
            x = F.pad(input, flat, mode=self.padding_mode)
            return fn(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                  self.groups)


class Conv1d(_Conv):
    _nsp = 1
    _fn = staticmethod(F.conv1d)


class Conv2d(_Conv):
    _nsp = 2
    _fn = staticmethod(F.conv2d)


class Conv3d(_Conv):
    _nsp = 3
    _fn = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._nsp
        output_size = list(output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} or {n + 2} "
                             f"elements, got {output_size}")
        res = []
        for i in range(n):
            base = (input.shape[-n + i] - 1) * self.stride[i] - 2 * self.padding[i] + \
                self.dilation[i] * (self.kernel_size[i] - 1) + 1
            extra = output_size[i] - base
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ValueError(f"{type(self).__name__}: requested an output size of "
                                 f"{output_size}, but valid sizes range from {base} to "
                                 f"{base + max(self.stride[i], self.dilation[i]) - 1} for "
                                 f"input of shape {tuple(input.shape)}")
            res.append(extra)
        return tuple(res)

    def forward(self, input, output_size=None):
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding, op,
                              self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    _nsp = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    _nsp = 2
    _fn = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    _nsp = 3
    _fn = staticmethod(F.conv_transpose3d)
