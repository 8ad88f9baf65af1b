"""Flatten nested tuples/lists/dicts of tensors into leaves and a treedef, and back."""
from __future__ import annotations

from ..frontend.tensor import Tensor


def flatten(obj):
    """(tensor leaves, treedef). Non-tensor leaves are kept inside the treedef (they are
    specialised: part of the guard)."""
    leaves = []

    def walk(o):
        if isinstance(o, Tensor):
            leaves.append(o)
            return ("T",)
        if isinstance(o, tuple) and hasattr(o, "_fields"):
            return ("N", type(o), tuple(walk(v) for v in o))
        if isinstance(o, (tuple, list)):
            return ("L" if isinstance(o, list) else "U", tuple(walk(v) for v in o))
        if isinstance(o, dict):
            keys = tuple(o.keys())
            return ("D", keys, tuple(walk(o[k]) for k in keys))
        return ("C", _const_key(o), o)

    return leaves, walk(obj)


def _const_key(o):
    try:
        hash(o)
        return o
    except TypeError:
        return ("unhashable", id(o))


def structure_key(treedef):
    """A hashable key of the tree structure and its constant leaves (for guards)."""
    tag = treedef[0]
    if tag == "T":
        return "T"
    if tag == "C":
        return ("C", type(treedef[2]).__name__, treedef[1])
    if tag == "N":
        return ("N", treedef[1], tuple(structure_key(t) for t in treedef[2]))
    if tag == "D":
        return ("D", treedef[1], tuple(structure_key(t) for t in treedef[2]))
    return (tag, tuple(structure_key(t) for t in treedef[1]))


def unflatten(treedef, leaves):
    it = iter(leaves)

    def build(t):
        tag = t[0]
        if tag == "T":
            return next(it)
        if tag == "C":
            return t[2]
        if tag == "N":
            return t[1](*(build(x) for x in t[2]))
        if tag == "D":
            return {k: build(x) for k, x in zip(t[1], t[2])}
        vals = [build(x) for x in t[1]]
        return vals if tag == "L" else tuple(vals)

    try:
        return build(treedef)
    finally:
        # `build` refers to itself through its closure cell: a reference cycle that would
        # keep the leaves (the call's output tensors) alive until the cyclic GC runs
        it = build = None  # noqa: F841

