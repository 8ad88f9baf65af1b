"""Common-subexpression elimination: nodes with the same op, operands, attributes and
type become one. ``random_bits`` nodes are never merged (two draws are two draws, even
from one state value: merging would be correct for a pure function, but the frontend's
guarantee is that each dropout call site draws its own mask); inputs are never merged.

Attributes are compared by their canonical encoding, so ``0.0`` and ``-0.0`` (equal in
Python) stay apart."""
from __future__ import annotations

from ..ir import INPUT
from ..ir.serialize import encode_value
from .rewrite import rebuild

NEVER_MERGED = (INPUT, "random_bits")


def _key(n, ins):
    attrs = tuple((k, repr(encode_value(v))) for k, v in sorted(n.attrs.items()))
    return (n.op, tuple(id(i) for i in ins), attrs, n.shape, n.dtype.name, n.device)


def cse(graph):
    table = {}

    def rule(n, ins, b):
        if n.op in NEVER_MERGED:
            return None
        k = _key(n, ins)
        hit = table.get(k)
        if hit is not None:
            return hit
        new = b.copy(n, ins)
        table[k] = new
        return new

    return rebuild(graph, rule)[0]
