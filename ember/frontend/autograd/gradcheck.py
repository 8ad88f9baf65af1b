"""``gradcheck``: compare analytic gradients with float64 central finite differences."""
from __future__ import annotations

import numpy as np


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _numerical_jacobian(fn, inputs, out_index, eps):
    from ..dispatch import Tensor
    from .grad_mode import no_grad
    cols = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            cols.append(None)
            continue
        data = x._data
        jac = []
        for k in range(data.size):
            pos = np.unravel_index(k, data.shape)   # works for non-contiguous storage too
            orig = data[pos]
            with no_grad():
                data[pos] = orig + eps
                plus = np.array(_outputs(fn, inputs)[out_index]._data, dtype=np.float64)
                data[pos] = orig - eps
                minus = np.array(_outputs(fn, inputs)[out_index]._data, dtype=np.float64)
            data[pos] = orig
            jac.append(((plus - minus) / (2 * eps)).reshape(-1))
        cols.append(np.stack(jac, axis=1) if jac else np.zeros((0, 0)))
    return cols


def _analytic_jacobian(fn, inputs, out_index):
    from ..creation import zeros_like
    from .api import grad
    out = _outputs(fn, inputs)[out_index]
    diff = [x for x in inputs if getattr(x, "requires_grad", False)]
    rows = []
    n = out.numel()
    for k in range(n):
        g = zeros_like(out)
        g._data.reshape(-1)[k] = 1
        gs = grad(out, diff, g, retain_graph=True, allow_unused=True)
        rows.append([np.zeros(x.numel()) if gi is None else
                     np.asarray(gi._data, np.float64).reshape(-1) for x, gi in zip(diff, gs)])
    return [np.stack([r[i] for r in rows], axis=0) if rows else np.zeros((0, diff[i].numel()))
            for i in range(len(diff))]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              **unused):
    """True when analytic and numerical Jacobians agree (inputs should be float64)."""
    from ..dispatch import Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for x in diff:
        if x.dtype.name != "float64":
            import warnings
            warnings.warn(f"gradcheck: input of dtype {x.dtype.name} is not float64; the check "
                          f"will likely fail from rounding error", stacklevel=2)
    n_out = len(_outputs(func, inputs))
    for oi in range(n_out):
        if not getattr(_outputs(func, inputs)[oi], "requires_grad", False):
            continue
        num = [c for c in _numerical_jacobian(func, inputs, oi, eps) if c is not None]
        ana = _analytic_jacobian(func, inputs, oi)
        for i, (a, n) in enumerate(zip(ana, num)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                err = np.max(np.abs(a - n))
                msg = (f"Jacobian mismatch for output {oi} with respect to input {i}: max abs "
                       f"difference {err:.3g}\nnumerical:\n{n}\nanalytical:\n{a}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **unused):
    """Check second derivatives: gradcheck of the function's vector-Jacobian product."""
    from ..creation import ones_like
    from .api import grad
    from ..dispatch import Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    from .grad_mode import enable_grad

    @enable_grad()  # the numerical pass runs under no_grad; this inner grad needs a graph
    def vjp(*xs):
        out = _outputs(func, xs)[0]
        g = ones_like(out) if grad_outputs is None else grad_outputs[0]
        return grad(out, [xs[i] for i in diff_idx], g, create_graph=True, allow_unused=True)
    return gradcheck(vjp, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
