"""Matrix products: matmul (with PyTorch's 1-D rules), mm, mv, bmm, dot, outer, einsum."""
from __future__ import annotations

from ...ops import PRIMITIVES as P, bind
from ..dispatch import Tensor, cast
from ..promotion import result_type


def _same_dtype(a, b, op):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                           f"{a.dtype.name} and {b.dtype.name}")


def _r(x, shape):
    return bind(P["reshape"], x, shape=tuple(shape))


def matmul(a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors")
    _same_dtype(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got {a.ndim}D "
                           f"and {b.ndim}D")
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa[-1] != (sb[0] if b.ndim == 1 else sb[-2]):
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({'x'.join(map(str, sa if a.ndim > 1 else (1,) + sa))} and "
                           f"{'x'.join(map(str, sb if b.ndim > 1 else sb + (1,)))})")
    if a.ndim == 1 and b.ndim == 1:
        return _r(bind(P["matmul"], _r(a, (1,) + sa), _r(b, sb + (1,))), ())
    if a.ndim == 1:
        out = bind(P["matmul"], _r(a, (1,) + sa), b)
        return _r(out, tuple(out.shape[:-2]) + (out.shape[-1],))
    if b.ndim == 1:
        out = bind(P["matmul"], a, _r(b, sb + (1,)))
        return _r(out, tuple(out.shape[:-1]))
    return bind(P["matmul"], a, b)


def mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return matmul(a, b)


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {a.ndim}-D and {b.ndim}-D")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {a.shape[0]} and {b.shape[0]}")
    return matmul(a, b)


def mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-D matrix and a 1-D vector, got {a.ndim}-D and "
                           f"{v.ndim}-D")
    return matmul(a, v)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements")
    return matmul(a, b)


inner = dot
vdot = dot


def outer(a, b):
    dt = result_type(a, b)
    a, b = cast(a, dt), cast(b, dt)
    return bind(P["matmul"], _r(a, (a.shape[0], 1)), _r(b, (1, b.shape[0])))


ger = outer


def addmm(bias, a, b, *, beta=1, alpha=1):
    from . import math as M
    out = mm(a, b)
    if alpha != 1:
        out = M.mul(out, alpha)
    return M.add(M.mul(bias, beta) if beta != 1 else bias, out)


def einsum(equation, *operands):
    """einsum for the common two-operand and one-operand cases, lowered to permute,
    reshape, broadcasting multiply and sum (exact, differentiable)."""
    from . import math as M
    from . import reduce as R
    from . import shape as S
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum with '...' is not supported yet")
    lhs, _, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError(f"einsum(): {len(ins)} operands in the equation, {len(operands)} given")
    if not _:
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    allv = sorted(set("".join(ins)))
    sizes = {}
    terms = []
    for spec, t in zip(ins, operands):
        if len(spec) != t.ndim:
            raise RuntimeError(f"einsum(): subscripts '{spec}' do not match operand of "
                               f"{t.ndim} dims")
        if len(set(spec)) != len(spec):
            raise NotImplementedError("einsum(): repeated subscripts in one operand (diagonals) "
                                      "are not supported yet")
        for c, n in zip(spec, t.shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise RuntimeError(f"einsum(): size of dimension '{c}' differs: {sizes[c]} vs {n}")
            sizes[c] = max(sizes[c], n)
        perm = [spec.index(c) for c in allv if c in spec]
        tp = S.permute(t, perm)
        shape = [t.shape[spec.index(c)] if c in spec else 1 for c in allv]
        terms.append(S.reshape(tp, shape))
    prod = terms[0]
    for t in terms[1:]:
        prod = M.mul(prod, t)
    red = [i for i, c in enumerate(allv) if c not in out]
    res = R.sum(prod, red) if red else prod
    kept = [c for c in allv if c in out]
    return S.permute(res, [kept.index(c) for c in out]) if kept else res
