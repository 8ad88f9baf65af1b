"""``normalize`` and ``cosine_similarity`` (``pairwise_distance`` lives with the losses)."""
from __future__ import annotations

from ._util import check_tensor


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    check_tensor(input, "normalize")
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    norm = input.norm(p, dim, keepdim=True)
    return input / norm.clamp_min(eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)), broadcasting x1 and x2."""
    check_tensor(x1, "cosine_similarity", "x1")
    check_tensor(x2, "cosine_similarity", "x2")
    n1 = (x1 * x1).sum(dim, keepdim=True).sqrt().clamp_min(eps)
    n2 = (x2 * x2).sum(dim, keepdim=True).sqrt().clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)

