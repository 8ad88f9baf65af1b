"""``linear`` and ``bilinear`` as composites over matmul."""
from __future__ import annotations

from ._util import check_tensor


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``; input is ``(*, in_features)``, weight ``(out, in)``."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    if weight.dim() not in (1, 2):
        raise RuntimeError(f"linear: weight must be 1-D or 2-D, got shape {tuple(weight.shape)}")
    if input.dim() == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} does not match weight "
                           f"of shape {tuple(weight.shape)} (expected input[..., "
                           f"{weight.shape[-1]}])")
    out = input.matmul(weight.t() if weight.dim() == 2 else weight)
    if bias is not None:
        out = out + bias
    return out


def bilinear(input1, input2, weight, bias=None):
    """``y[..., k] = x1 @ weight[k] @ x2 + bias[k]`` with weight ``(out, in1, in2)``."""
    check_tensor(input1, "bilinear", "input1")
    check_tensor(input2, "bilinear", "input2")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear: weight must be 3-D (out, in1, in2), got shape "
                           f"{tuple(weight.shape)}")
    out_f, in1, in2 = tuple(weight.shape)
    if input1.dim() == 0 or input1.shape[-1] != in1 or input2.dim() == 0 or \
            input2.shape[-1] != in2 or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear: inputs of shapes {tuple(input1.shape)} and "
                           f"{tuple(input2.shape)} do not match weight {tuple(weight.shape)} "
                           f"(expected input1[..., {in1}] and input2[..., {in2}] with the same "
                           f"leading dims)")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    t = x1.matmul(w).reshape(-1, out_f, in2)              # (B, out, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_f,))
