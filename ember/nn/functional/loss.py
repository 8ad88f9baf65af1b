"""Loss functions (``torch.nn.functional``'s ``*_loss``), all composites over ember ops.

Class-index losses pick the target class with ``gather``; only ``binary_cross_entropy``
has a hand-written backward (an ``autograd.Function`` in ember ops), because the composite
``log(x).clamp(-100)`` turns a saturated probability (x == 0 or 1) into a 0 * inf = nan
gradient where PyTorch's formula gives a large finite one.

Data-dependent argument checks (class indices in range, probabilities in [0, 1]) read the
tensors on the host; they all go through :func:`host_checks_enabled`, which is False
whenever ops are not being run eagerly (e.g. while a graph is traced).
"""
from __future__ import annotations

import math
import warnings

from ... import ops
from ...frontend import functional as EF
from ...frontend.autograd.function import Function
from ...frontend.autograd.grad_mode import no_grad
from ...frontend.promotion import broadcast_shapes
from ...frontend.tensor import Tensor
from ...ops import dtypes as D

_REDUCTIONS = ("none", "mean", "sum")
_HOST_CHECKS = [True]


# ------------------------------------------------------------------ helpers
def host_checks_enabled():
    """True when data-dependent checks may read tensors on the host: eager mode only."""
    from ...frontend.dispatch import EAGER
    return _HOST_CHECKS[0] and ops.current_interpreter() is EAGER


def set_host_checks(enabled):
    """Turn the data-dependent loss checks on or off globally; returns the old setting."""
    old = _HOST_CHECKS[0]
    _HOST_CHECKS[0] = bool(enabled)
    return old


def legacy_get_string(size_average, reduce, emit_warning=True):
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` pair to a reduction."""
    if emit_warning:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='mean' (or 'sum'/'none') instead.", UserWarning, stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduction(size_average, reduce, reduction, allowed=_REDUCTIONS):
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_tensors(op, **tensors):
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")


def _float(x, op, name="input"):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating-point {name}, got {x.dtype!r}")


def _same_size(input, target, op, strict=False):
    """PyTorch broadcasts mismatched pointwise-loss operands with a warning (or refuses)."""
    if tuple(input.shape) == tuple(target.shape):
        return
    msg = (f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input "
           f"size ({tuple(input.shape)})")
    if strict:
        raise ValueError(msg + " is deprecated. Please ensure they have the same size.")
    try:
        broadcast_shapes(input.shape, target.shape)
    except Exception:
        raise RuntimeError(msg + ": the shapes cannot be broadcast together.") from None
    warnings.warn(msg + ". This will likely lead to incorrect results due to broadcasting. "
                  "Please ensure they have the same size.", UserWarning, stacklevel=3)


def _softplus(z):
    """log(1 + exp(z)) without overflow: m + log(exp(-m) + exp(z - m)) with m = max(z, 0).
    The expression does not depend on m, so m is cut from the graph; the gradient is the
    exact sigmoid(z) everywhere, including z == 0."""
    m = EF.clamp_min(z, 0.0).detach()
    return EF.add(m, EF.log(EF.add(EF.exp(EF.neg(m)), EF.exp(EF.sub(z, m)))))


def _xlogy_self(t):
    """t * log(t) with 0 at t == 0 (and a finite gradient there)."""
    zero = EF.eq(t, 0)
    safe = EF.where(zero, 1.0, t)
    return EF.where(zero, 0.0, EF.mul(t, EF.log(safe)))


# ------------------------------------------------------------------ class-index losses
def check_class_targets(target, num_classes, ignore_index, op):
    """Raise if a class index is outside [0, C) and is not ``ignore_index`` (host read)."""
    if not host_checks_enabled() or target.numel() == 0:
        return
    t = target.detach().numpy()
    bad = (t < 0) | (t >= num_classes)
    if ignore_index is not None:
        bad &= t != ignore_index
    if bad.any():
        raise IndexError(f"{op}: Target {int(t[bad].flat[0])} is out of bounds: class indices "
                         f"must be in [0, {num_classes}) or equal ignore_index={ignore_index}")


def _index_target(input, target, op):
    """Validate (input, class-index target) and return them batched: (N, C, ...) / (N, ...)."""
    if input.ndim < 1:
        raise ValueError(f"{op}: Expected 1 or more dimensions (got {input.ndim})")
    if target.dtype not in (D.int64, D.uint8):
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte (class indices), "
                           f"but got {target.dtype!r}")
    if input.ndim == 1:
        if target.ndim > 1 or target.numel() != 1:
            raise ValueError(f"{op}: for an unbatched input of shape {tuple(input.shape)} the "
                             f"target must be a single class index, got shape "
                             f"{tuple(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), True
    n = input.shape[0]
    if target.ndim == 0 or target.shape[0] != n:
        got = target.shape[0] if target.ndim else "none (0-d target)"
        raise ValueError(f"{op}: Expected input batch_size ({n}) to match target batch_size "
                         f"({got}).")
    want = (n,) + tuple(input.shape[2:])
    if tuple(target.shape) != want:
        raise RuntimeError(f"{op}: Expected target size {list(want)}, got "
                           f"{list(target.shape)} (input shape {tuple(input.shape)})")
    return input, target, False


def _class_weight(weight, num_classes, input, op):
    if weight is None:
        return None
    _check_tensors(op, weight=weight)
    if weight.ndim != 1 or weight.shape[0] != num_classes:
        raise RuntimeError(f"{op}: weight tensor should be defined either for all "
                           f"{num_classes} classes or no classes but got weight tensor of "
                           f"shape: {list(weight.shape)}")
    return weight if weight.dtype is input.dtype else weight.to(input.dtype)


def _nll_parts(logp, target, weight, ignore_index, op):
    """Per-element losses -w[y] * logp[y] (0 where ignored), the per-element weights
    (0 where ignored), the keep-mask and whether the input was unbatched."""
    logp, target, unbatched = _index_target(logp, target, op)
    c = logp.shape[1]
    weight = _class_weight(weight, c, logp, op)
    check_class_targets(target, c, ignore_index, op)
    target = target.to(D.int64)
    keep = EF.ne(target, ignore_index)
    safe = EF.where(keep, target, 0)
    picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    if weight is None:
        w = keep.to(logp.dtype)
    else:
        w = EF.where(keep, weight.gather(0, safe.reshape(-1)).reshape(tuple(safe.shape)), 0.0)
    loss = EF.where(keep, EF.mul(EF.neg(picked), w), 0.0)
    return loss, w, keep, unbatched


def _reduce_nll(loss, w, reduction, unbatched):
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return EF.div(loss.sum(), w.sum())
    return loss.squeeze(0) if unbatched else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of class indices; 'mean' divides by the summed weights of the
    non-ignored targets (PyTorch's weighted mean)."""
    _check_tensors("nll_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    loss, w, _, unbatched = _nll_parts(input, target, weight, ignore_index, "nll_loss")
    return _reduce_nll(loss, w, reduction, unbatched)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim (dim 1, or 0 for unbatched input) followed by NLL on
    class indices, or by -sum(p * log q) for class-probability targets (same shape)."""
    op = "cross_entropy"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input.ndim < 1:
        raise ValueError(f"{op}: Expected 1 or more dimensions (got {input.ndim})")
    _float(input, op)
    cdim = 0 if input.ndim == 1 else 1
    c = input.shape[cdim]
    logp = EF.log_softmax(input, cdim)
    if target.dtype.is_floating_point:
        return _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, cdim, c)
    loss, w, keep, unbatched = _nll_parts(logp, target, weight, ignore_index, op)
    out = _reduce_nll(loss, w, reduction, unbatched)
    if label_smoothing == 0.0:
        return out
    lp = logp.unsqueeze(0) if unbatched else logp
    if weight is not None:
        bshape = (1, c) + (1,) * (lp.ndim - 2)
        lp = EF.mul(lp, _class_weight(weight, c, lp, op).reshape(bshape))
    smooth = EF.where(keep, EF.neg(lp.sum(1)), 0.0)
    if reduction == "mean":
        smooth = EF.div(smooth.sum(), w.sum())
    elif reduction == "sum":
        smooth = smooth.sum()
    elif unbatched:
        smooth = smooth.squeeze(0)
    return EF.add(EF.mul(out, 1.0 - label_smoothing), EF.mul(smooth, label_smoothing / c))


def _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, cdim, c):
    op = "cross_entropy"
    if tuple(target.shape) != tuple(logp.shape):
        raise RuntimeError(f"{op}: class-probability targets must have the input's shape "
                           f"{tuple(logp.shape)}, got {tuple(target.shape)} (for class "
                           f"indices use an int64 target)")
    if label_smoothing > 0.0:
        target = EF.add(EF.mul(target, 1.0 - label_smoothing), label_smoothing / c)
    prod = EF.mul(logp, target)
    if weight is not None:
        w = _class_weight(weight, c, logp, op)
        prod = EF.mul(prod, w.reshape((c,) + (1,) * (logp.ndim - cdim - 1)))
    loss = EF.neg(prod.sum(cdim))
    if reduction == "mean":
        return EF.div(loss.sum(), logp.numel() // c if c else 0)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ binary losses
class _BinaryCrossEntropy(Function):
    """Elementwise -(y log x + (1 - y) log(1 - x)), logs clamped at -100 (PyTorch). The
    backward is PyTorch's (x - y) / max(x (1 - x), 1e-12): finite at saturated x."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        logx = EF.clamp_min(EF.log(x), -100.0)
        log1mx = EF.clamp_min(EF.log(EF.rsub(x, 1.0)), -100.0)
        return EF.neg(EF.add(EF.mul(y, logx), EF.mul(EF.rsub(y, 1.0), log1mx)))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            denom = EF.clamp_min(EF.mul(x, EF.rsub(x, 1.0)), 1e-12)
            gx = EF.mul(g, EF.div(EF.sub(x, y), denom))
        if ctx.needs_input_grad[1]:
            logx = EF.clamp_min(EF.log(x), -100.0)
            log1mx = EF.clamp_min(EF.log(EF.rsub(x, 1.0)), -100.0)
            gy = EF.mul(g, EF.sub(log1mx, logx))
        return gx, gy


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    op = "binary_cross_entropy"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _float(input, op)
    _same_size(input, target, op, strict=True)
    if host_checks_enabled() and input.numel():
        v = input.detach().numpy()
        if not ((v >= 0) & (v <= 1)).all():
            raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (use "
                               f"binary_cross_entropy_with_logits for logits)")
    if target.dtype is not input.dtype:
        target = target.to(input.dtype)
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = EF.mul(loss, weight)
        if tuple(loss.shape) != tuple(input.shape):
            raise RuntimeError(f"{op}: weight of shape {tuple(weight.shape)} does not broadcast "
                               f"to the input shape {tuple(input.shape)}")
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """(1 - y) x + (1 + (pw - 1) y) softplus(-x), weighted: stable for any logit."""
    op = "binary_cross_entropy_with_logits"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _float(input, op)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: Target size ({tuple(target.shape)}) must be the same as input "
                         f"size ({tuple(input.shape)})")
    sp = _softplus(EF.neg(input))
    if pos_weight is not None:
        lw = EF.add(EF.mul(EF.sub(pos_weight, 1.0), target), 1.0)
        sp = EF.mul(lw, sp)
    loss = EF.add(EF.mul(EF.rsub(target, 1.0), input), sp)
    if weight is not None:
        loss = EF.mul(loss, weight)
    if tuple(loss.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: weight/pos_weight do not broadcast to the input shape "
                           f"{tuple(input.shape)}")
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ regression losses
def _pointwise(op, input, target, size_average, reduce, reduction):
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _same_size(input, target, op)
    return EF.sub(input, target), reduction


def _weighted(loss, weight, reduction, input, op, weight_mean):
    """PyTorch's optional elementwise ``weight`` (same size as the input); for L1/MSE the
    weighted 'mean' is sum(w * loss) / sum(w), for Huber it is a plain mean."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: Weights and input must have the same size (weight "
                         f"{tuple(weight.shape)}, input {tuple(input.shape)}).")
    loss = EF.mul(loss, weight)
    if reduction == "mean" and weight_mean:
        return EF.div(loss.sum(), weight.sum())
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    d, reduction = _pointwise("l1_loss", input, target, size_average, reduce, reduction)
    return _weighted(EF.abs(d), weight, reduction, input, "l1_loss", True)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    d, reduction = _pointwise("mse_loss", input, target, size_average, reduce, reduction)
    return _weighted(EF.mul(d, d), weight, reduction, input, "mse_loss", True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    d, reduction = _pointwise("smooth_l1_loss", input, target, size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta "
                           f"(got {beta})")
    a = EF.abs(d)
    if beta == 0.0:
        return _reduce(a, reduction)
    loss = EF.where(EF.lt(a, beta), EF.div(EF.mul(EF.mul(d, d), 0.5), beta), EF.sub(a, 0.5 * beta))
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    d, reduction = _pointwise("huber_loss", input, target, None, None, reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta "
                           f"(got {delta})")
    a = EF.abs(d)
    loss = EF.where(EF.lt(a, delta), EF.mul(EF.mul(d, d), 0.5),
                    EF.mul(EF.sub(a, 0.5 * delta), delta))
    return _weighted(loss, weight, reduction, input, "huber_loss", False)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    _check_tensors("soft_margin_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _same_size(input, target, "soft_margin_loss")
    return _reduce(_softplus(EF.neg(EF.mul(input, target))), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    op = "multilabel_soft_margin_loss"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if input.ndim < 1:
        raise ValueError(f"{op}: expected an input of shape (C,) or (N, C), got a 0-d tensor")
    _same_size(input, target, op, strict=True)
    # -(y log sigmoid(x) + (1 - y) log sigmoid(-x)) = y softplus(-x) + (1 - y) softplus(x)
    loss = EF.add(EF.mul(target, _softplus(EF.neg(input))),
                  EF.mul(EF.rsub(target, 1.0), _softplus(input)))
    if weight is not None:
        loss = EF.mul(loss, weight)
    loss = EF.div(loss.sum(-1), input.shape[-1])
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    op = "cosine_embedding_loss"
    _check_tensors(op, input1=input1, input2=input2, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(f"{op}: expected input1 and input2 of one shape (N, D) or (D,), got "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    if target.ndim != input1.ndim - 1 or (target.ndim and target.shape[0] != input1.shape[0]):
        raise RuntimeError(f"{op}: expected a target of shape {tuple(input1.shape[:-1])} for "
                           f"inputs of shape {tuple(input1.shape)}, got {tuple(target.shape)}")
    eps = 1e-12  # PyTorch's EPSILON
    prod = EF.mul(input1, input2).sum(-1)
    m1 = EF.add(EF.mul(input1, input1).sum(-1), eps)
    m2 = EF.add(EF.mul(input2, input2).sum(-1), eps)
    cos = EF.div(prod, EF.sqrt(EF.mul(m1, m2)))
    pos = EF.where(EF.eq(target, 1), EF.rsub(cos, 1.0), 0.0)
    neg = EF.where(EF.eq(target, -1), EF.clamp_min(EF.sub(cos, margin), 0.0), 0.0)
    return _reduce(EF.add(pos, neg), reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise; 'batchmean' divides the sum by the batch size."""
    op = "kl_div"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction, _REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = EF.mul(EF.exp(target), EF.sub(target, input))
    else:
        loss = EF.sub(_xlogy_self(target), EF.mul(target, input))
    if reduction == "batchmean":
        return EF.div(loss.sum(), input.shape[0]) if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    op = "margin_ranking_loss"
    _check_tensors(op, input1=input1, input2=input2, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"{op}: All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                           f"target: {tuple(target.shape)} ")
    loss = EF.clamp_min(EF.add(EF.mul(EF.neg(target), EF.sub(input1, input2)), margin), 0.0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    op = "hinge_embedding_loss"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _same_size(input, target, op)
    margin_part = EF.where(EF.ne(target, 1), EF.clamp_min(EF.rsub(input, margin), 0.0), 0.0)
    self_part = EF.where(EF.ne(target, -1), input, 0.0)
    return _reduce(EF.add(margin_part, self_part), reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (PyTorch adds eps before the norm)."""
    d = EF.add(EF.sub(x1, x2), eps)
    dim = -1 if d.ndim else None
    if p == 2:
        return EF.sqrt(EF.mul(d, d).sum(dim, keepdim))
    if p == 1:
        return EF.abs(d).sum(dim, keepdim)
    if p == math.inf:
        return EF.amax(EF.abs(d), dim, keepdim)
    return EF.pow(EF.pow(EF.abs(d), p).sum(dim, keepdim), 1.0 / p)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    op = "triplet_margin_loss"
    _check_tensors(op, anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction(size_average, reduce, reduction)
    a, po, ne = anchor.ndim, positive.ndim, negative.ndim
    if not (a == po == ne):
        raise RuntimeError(f"{op}: The anchor, positive, and negative tensors are expected to "
                           f"have the same number of dimensions, but got: anchor {a}D, "
                           f"positive {po}D, and negative {ne}D inputs")
    if a not in (1, 2):
        raise RuntimeError(f"{op}: expected 1D (D) or 2D (N, D) inputs, got {a}D")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = EF.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    loss = EF.clamp_min(EF.add(EF.sub(d_pos, d_neg), margin), 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    op = "gaussian_nll_loss"
    _check_tensors(op, input=input, target=target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries")
        var = EF.add(EF.mul(input.detach(), 0.0), float(var))
    else:
        _check_tensors(op, var=var)
        if host_checks_enabled() and bool((var.detach().numpy() < 0).any()):
            raise ValueError(f"{op}: var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and
                  sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"{op}: var is of incorrect size {tuple(var.shape)} for input of "
                             f"shape {tuple(input.shape)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    # Clamp the value for stability but let the gradient through unchanged (PyTorch clamps
    # a clone in place under no_grad).
    with no_grad():
        bump = EF.sub(EF.clamp_min(var, eps), var)
    var = EF.add(var, bump)
    d = EF.sub(input, target)
    loss = EF.mul(EF.add(EF.log(var), EF.div(EF.mul(d, d), var)), 0.5)
    if full:
        loss = EF.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    op = "poisson_nll_loss"
    _check_tensors(op, input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = EF.sub(EF.exp(input), EF.mul(target, input))
    else:
        loss = EF.sub(input, EF.mul(target, EF.log(EF.add(input, eps))))
    if full:
        big = EF.gt(target, 1)
        safe = EF.where(big, target, 1.0)
        stirling = EF.add(EF.sub(EF.mul(safe, EF.log(safe)), safe),
                          EF.mul(EF.log(EF.mul(safe, 2 * math.pi)), 0.5))
        loss = EF.add(loss, EF.where(big, stirling, 0.0))
    return _reduce(loss, reduction)
