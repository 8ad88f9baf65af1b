"""Sample inputs for op specs: numpy arrays of a requested dtype in a requested domain.

Generators return numpy arrays, not tensors, so the same samples feed ember, the numpy
float64 reference and (in the parity tests) PyTorch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Sample:
    """One call: ``args`` are arrays (tensors when the op is run), ``kwargs`` are static
    Python values passed unchanged to the op and the reference."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""

    def __repr__(self):
        shapes = ", ".join(str(tuple(a.shape)) for a in self.args)
        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"Sample({shapes}{'; ' + kw if kw else ''}{'; ' + self.desc if self.desc else ''})"


def is_float(dtype):
    return np.dtype(dtype).kind == "f" or str(dtype) == "bfloat16"


def arr(rng, shape, dtype, low=-2.0, high=2.0, avoid=(), gap=0.15):
    """Random values of ``dtype`` in [low, high]; floats keep ``gap`` away from each point
    in ``avoid`` (kinks, ties, poles) so finite differences stay on one smooth piece."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo = max(int(np.floor(low)), int(info.min))
        hi = min(int(np.ceil(high)), int(info.max))
        return rng.integers(lo, hi + 1, size=shape).astype(dtype)
    x = rng.uniform(low, high, size=shape)
    for p in avoid:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.where(x >= p, gap, -gap) * (1 + rng.random(shape)), x)
    return x.astype(dtype)


def distinct(rng, shape, dtype, low=-2.0, high=2.0, gap=0.05):
    """Values whose pairwise differences exceed ``gap`` (no ties for max/sort-like ops)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype.kind in "iub":
        return arr(rng, shape, dtype, low, high)
    grid = np.linspace(low, high, max(n, 1) * 3)
    if grid.size > 1 and grid[1] - grid[0] < gap:
        grid = low + gap * np.arange(max(n, 1) * 3)
    return rng.permutation(grid)[:n].reshape(shape).astype(dtype)


def int_index(rng, shape, n):
    """int64 indices in [0, n)."""
    return rng.integers(0, max(n, 1), size=tuple(shape)).astype(np.int64)


def perm_index(rng, shape, axis, n):
    """int64 indices along ``axis`` without repeats within each line (scatter targets
    where the order of overwrites must not matter)."""
    shape = tuple(shape)
    out = np.empty(shape, dtype=np.int64)
    moved = np.moveaxis(out, axis, -1)
    k = moved.shape[-1]
    for pos in np.ndindex(*moved.shape[:-1]):
        moved[pos] = rng.permutation(n)[:k]
    return out


UNARY_SHAPES = [(), (1,), (5,), (2, 3), (2, 1, 3), (0,), (3, 0)]
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)),
                 ((2, 3), ()), ((1,), (4,)), ((0, 3), (1, 3)), ((), ())]
