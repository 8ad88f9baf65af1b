"""``Tensor.backward`` and ``ember.autograd.grad``."""
from __future__ import annotations

from ...ops import dtypes as D
from .engine import run_backward


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _root_grads(outputs, grad_outputs, who):
    from ..creation import ones_like
    from ..tensor import Tensor
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(f"{who}: grad can be implicitly created only for scalar "
                                   f"outputs; output {i} has shape {tuple(out.shape)}, so pass "
                                   f"gradient= (a tensor of that shape)")
            if out.dtype.category != D.FLOAT:
                raise RuntimeError(f"{who}: grad can be implicitly created only for real "
                                   f"scalar outputs but got {out.dtype!r}")
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            raise TypeError(f"{who}: gradient must be a Tensor, got {type(g).__name__}")
        elif tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(f"{who}: Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{tuple(g.shape)} and output[{i}] has a shape of "
                               f"{tuple(out.shape)}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    from ..dispatch import edge
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    for t in tensors:
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
    grads = _root_grads(tensors, grad_tensors, "backward")
    roots = [edge(t) for t in tensors]
    if inputs is not None:
        inputs = _as_tuple(inputs)
        capture = {edge(t): i for i, t in enumerate(inputs)}
        res = run_backward(roots, grads, retain_graph, create_graph, capture, accumulate=False)
        from .engine import _accumulate_into
        for i, t in enumerate(inputs):
            if i in res:
                _accumulate_into(t, res[i], create_graph)
        return
    run_backward(roots, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    from ..dispatch import edge
    from ..creation import zeros_like
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported yet")
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    for t in outputs:
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
    grads = _root_grads(outputs, grad_outputs, "autograd.grad")
    capture = {}
    for i, t in enumerate(inputs):
        capture.setdefault(edge(t), i)
    res = run_backward([edge(t) for t in outputs], grads, retain_graph, create_graph, capture,
                       accumulate=False)
    out = []
    for i, t in enumerate(inputs):
        e = edge(t)
        g = res.get(capture[e])
        if g is None:
            if materialize_grads:
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not "
                                   f"have been used in the graph. Set allow_unused=True if this "
                                   f"is the desired behavior.")
        elif tuple(g.shape) != tuple(t.shape):
            g = g.expand(t.shape)
        if g is not None and not create_graph:
            g = g.detach()
        out.append(g)
    return tuple(out)
