"""Module backward hooks (``register_full_backward_hook`` / ``_pre_hook``).

As in PyTorch, the module's tensor inputs and outputs are passed through identity
autograd Functions: the output one sees ``grad_output`` (and runs the pre-hooks, which may
replace it), the input one sees ``grad_input`` and runs the full hooks (which may replace
it). Both are plain ember Functions, so nothing else in autograd changes.
"""
from __future__ import annotations

from ...frontend.autograd.function import Function
from ...frontend.autograd.grad_mode import is_grad_enabled
from ...frontend.tensor import Tensor


class _HookState:
    __slots__ = ("module", "n_args", "input_pos", "grad_output", "has_inputs")

    def __init__(self, module, n_args):
        self.module, self.n_args = module, n_args
        self.input_pos, self.grad_output, self.has_inputs = [], None, False


def _run_full_hooks(state, grad_input):
    m = state.module
    for hook in list(m._backward_hooks.values()):
        res = hook(m, grad_input, state.grad_output)
        if res is not None:
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_input):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(res)}, but expected {len(grad_input)}")
            grad_input = res
    return grad_input


class _IdentityHook(Function):
    """Passes tensors through unchanged; subclasses see their gradients in backward."""

    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors


class _InputHook(_IdentityHook):
    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        grad_input = [None] * st.n_args
        for pos, g in zip(st.input_pos, grads):
            grad_input[pos] = g
        grad_input = _run_full_hooks(st, tuple(grad_input))
        return (None,) + tuple(grad_input[pos] for pos in st.input_pos)


class _OutputHook(_IdentityHook):
    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        m = st.module
        for hook in list(m._backward_pre_hooks.values()):
            res = hook(m, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        st.grad_output = grads
        if not st.has_inputs and m._backward_hooks:
            _run_full_hooks(st, (None,) * st.n_args)
        return (None,) + tuple(grads)


def _through(hook, state, values, pos):
    """``values`` (a tuple) with the tensors at ``pos`` replaced by ``hook``'s outputs."""
    new = hook.apply(state, *(values[i] for i in pos))
    values = list(values)
    for i, t in zip(pos, new):
        values[i] = t
    return tuple(values)


def wrap_inputs(module, args):
    state = _HookState(module, len(args))
    if not is_grad_enabled():
        return args, state
    state.input_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if state.input_pos:
        state.has_inputs = True
        args = _through(_InputHook, state, tuple(args), state.input_pos)
    return args, state


def wrap_outputs(state, result):
    if not is_grad_enabled():
        return result
    single = isinstance(result, Tensor)
    outs = (result,) if single else result
    if not isinstance(outs, tuple):
        return result
    pos = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not pos:
        return result
    outs = _through(_OutputHook, state, outs, pos)
    return outs[0] if single else outs
