"""RNN, LSTM, GRU and their cells, with PyTorch's parameter names, layouts and gate order.

The input projection of a whole sequence is one matmul per layer and direction; the
recurrence is a Python loop over time steps of ember ops (so autograd, and later tracing,
see ordinary ops). Gate order: LSTM (i, f, g, o); GRU (r, z, n) with PyTorch's
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""
from __future__ import annotations

import math
import numbers
import warnings

from ...frontend import functional as EF
from ...frontend.creation import empty, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ------------------------------------------------------------------ one time step
def _step(mode, gi, h, c, w_hh, b_hh, w_hr=None):
    """One recurrence step given the precomputed input projection ``gi`` (with b_ih).
    Returns (h', c') (c' is None except for LSTM)."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "RNN_TANH":
        return EF.tanh(EF.add(gi, gh)), None
    if mode == "RNN_RELU":
        return EF.relu(EF.add(gi, gh)), None
    if mode == "LSTM":
        i, f, g, o = EF.add(gi, gh).chunk(4, -1)
        c = EF.add(EF.mul(EF.sigmoid(f), c), EF.mul(EF.sigmoid(i), EF.tanh(g)))
        h = EF.mul(EF.sigmoid(o), EF.tanh(c))
        if w_hr is not None:
            h = F.linear(h, w_hr)
        return h, c
    ir, iz, in_ = gi.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = EF.sigmoid(EF.add(ir, hr))
    z = EF.sigmoid(EF.add(iz, hz))
    n = EF.tanh(EF.add(in_, EF.mul(r, hn)))
    return EF.add(EF.mul(EF.rsub(z, 1.0), n), EF.mul(z, h)), None


def _direction(mode, x, h, c, weights, reverse):
    """Run one layer in one direction over x (L, N, in); returns (outputs (L, N, H), h, c)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    gi_all = F.linear(x, w_ih, b_ih)
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outs = [None] * x.shape[0]
    for t in steps:
        h, c = _step(mode, gi_all[t], h, c, w_hh, b_hh, w_hr)
        outs[t] = h
    return EF.stack(outs, 0), h, c


def _check_dtype(name, input, weight):
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"{name}: input must have the type {weight.dtype.name}, got type "
                           f"{input.dtype.name} (convert the input, or the module with "
                           f".to(dtype))")


# ------------------------------------------------------------------ multi-layer modules
class RNNBase(Module):
    """The shared multi-layer, optionally bidirectional recurrence (PyTorch's RNNBase)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] "
                             f"representing the probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for arg, v in (("hidden_size", hidden_size), ("num_layers", num_layers),
                       ("input_size", input_size)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError(f"{name}: {arg} should be of type int, got: "
                                f"{type(v).__name__}")
            if v <= 0 and arg != "input_size":
                raise ValueError(f"{name}: {arg} must be greater than zero, got {v}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to "
                             f"disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias = num_layers, bias
        self.batch_first, self.dropout = batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for d in range(dirs):
                layer_in = input_size if layer == 0 else real_hidden * dirs
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                shapes = [("weight_ih", (gate, layer_in)), ("weight_hh", (gate, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for base, shape in shapes:
                    setattr(self, base + sfx,
                            Parameter(empty(shape, dtype=dtype, device=device)))
                    names.append(base + sfx)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op kept for API compatibility (there is no cuDNN weight buffer)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        g = lambda n: getattr(self, n + sfx, None)  # noqa: E731
        return (g("weight_ih"), g("weight_hh"), g("bias_ih") if self.bias else None,
                g("bias_hh") if self.bias else None, g("weight_hr") if self.proj_size else None)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -------------------------------------------------------------- forward
    def _check_input(self, input):
        name = type(self).__name__
        if not hasattr(input, "shape") or type(input).__name__ == "PackedSequence":
            raise NotImplementedError(f"{name}: PackedSequence inputs are not supported; "
                                      f"pass a padded (L, N, H_in) tensor")
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"tensor instead (shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]} (input shape "
                               f"{tuple(input.shape)})")
        _check_dtype(name, input, self.weight_ih_l0)

    def _check_hidden(self, h, expected, what, batched):
        name = type(self).__name__
        if batched and h.dim() != 3:
            raise RuntimeError(f"{name}: For batched 3-D input, {what} should also be 3-D but "
                               f"got {h.dim()}-D tensor")
        if not batched and h.dim() != 2:
            raise RuntimeError(f"{name}: For unbatched 2-D input, {what} should also be 2-D but "
                               f"got {h.dim()}-D tensor")
        if tuple(h.shape) != expected:
            raise RuntimeError(f"{name}: Expected {what} size {expected}, got "
                               f"{tuple(h.shape)}")

    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.dim() == 3
        dirs = 2 if self.bidirectional else 1
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        n = x.shape[1]
        out_h = self.proj_size or self.hidden_size
        h_shape = (self.num_layers * dirs, n, out_h) if batched else (self.num_layers * dirs,
                                                                      out_h)
        c_shape = h_shape[:-1] + (self.hidden_size,)
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = zeros((self.num_layers * dirs, n, out_h), dtype=x.dtype, device=x.device)
            c0 = zeros((self.num_layers * dirs, n, self.hidden_size), dtype=x.dtype,
                       device=x.device) if lstm else None
        else:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
                h0, c0 = hx
                self._check_hidden(h0, h_shape, "hidden[0]", batched)
                self._check_hidden(c0, c_shape, "hidden[1]", batched)
            else:
                h0, c0 = hx, None
                self._check_hidden(h0, h_shape, "hidden", batched)
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if lstm else None
        hs, cs = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, h, c = _direction(self.mode, layer_in, h0[k], c0[k] if lstm else None,
                                       self._weights(layer, d), reverse=d == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            layer_in = outs[0] if dirs == 1 else EF.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        output = layer_in
        h_n = EF.stack(hs, 0)
        c_n = EF.stack(cs, 0) if lstm else None
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:  # positional (input_size, hidden_size, num_layers, nonlinearity, ...)
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; returns output, (h_n, c_n). proj_size adds weight_hr."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (r, z, n gates, PyTorch's placement of r on W_hn h + b_hn)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ------------------------------------------------------------------ cells
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((g, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(empty((g, hidden_size), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(g, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(g, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead (shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]} expected {self.input_size}")
        _check_dtype(name, input, self.weight_ih)
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            z = zeros((x.shape[0], self.hidden_size), dtype=x.dtype, device=x.device)
            return x, [z] * n_states, batched
        states = list(hx) if n_states == 2 else [hx]
        want = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for i, s in enumerate(states):
            if s.dim() != input.dim():
                raise RuntimeError(f"{name}: Expected hidden state {i} to be "
                                   f"{input.dim()}D like the input, got {s.dim()}D")
            if tuple(s.shape) != want:
                raise RuntimeError(f"{name}: hidden state {i} has inconsistent size: got "
                                   f"{tuple(s.shape)}, expected {want}")
        return x, [s if batched else s.unsqueeze(0) for s in states], batched


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h, _ = _step(mode, F.linear(x, self.weight_ih, self.bias_ih), h, None,
                     self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _step("LSTM", F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh,
                     self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        h, _ = _step("GRU", F.linear(x, self.weight_ih, self.bias_ih), h, None, self.weight_hh,
                     self.bias_hh)
        return h if batched else h.squeeze(0)
