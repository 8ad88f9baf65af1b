"""Primitives that make values: ``full``, ``iota`` and the counter-based ``random_bits``.

Random numbers are a pure function of a generator state tensor (int64 ``[seed, offset]``):
``random_bits`` reads it, and the composite that calls it advances the offset in place, so
eager and compiled code draw identical bits from identical states.
"""
from __future__ import annotations

import math

from . import dtypes as _dt
from .registry import CREATION, RANDOM, ShapeError, defprim


def _full_meta(shapes, dtypes, shape, value, dtype):
    if any(n < 0 for n in shape):
        raise ShapeError(f"full: negative dimension in shape {shape}")
    _dt.require_known(dtype)
    return tuple(shape), dtype


def _full_kernel(xp, shape, value, dtype):
    try:
        return xp.full(shape, value, dtype=dtype.np)
    except OverflowError:  # an out-of-range Python int wraps, as PyTorch's scalars do
        return xp.full(shape, xp.asarray(value).astype(dtype.np), dtype=dtype.np)


defprim("full", kind=CREATION, meta=_full_meta, eager=_full_kernel, vjp=None, nargs=0,
        doc="a new tensor of ``shape`` filled with ``value``")


def _iota_meta(shapes, dtypes, n, dtype):
    if n < 0:
        raise ShapeError(f"iota: negative length {n}")
    return (n,), dtype


defprim("iota", kind=CREATION, meta=_iota_meta, vjp=None, nargs=0,
        eager=lambda xp, n, dtype: xp.arange(n, dtype=dtype.np),
        doc="[0, 1, ..., n-1]")


BLOCK_WORDS = 4  # Philox4x32 yields four 32-bit words per counter


def blocks_for(shape):
    """Counters a draw of ``shape`` consumes (the generator offset advances by this)."""
    return (math.prod(shape) + BLOCK_WORDS - 1) // BLOCK_WORDS


def _bits_meta(shapes, dtypes, shape):
    if shapes[0] != (2,) or dtypes[0] is not _dt.int64:
        raise ShapeError(f"random_bits: state must be int64 of shape (2,), got {dtypes[0]!r} "
                         f"{shapes[0]}")
    return tuple(shape), _dt.int64


def _bits_kernel(xp, state, shape):
    n = math.prod(shape)
    words = xp.philox4x32(int(state[0]), int(state[1]), blocks_for(shape))
    return words.reshape(-1)[:n].astype(xp.int64).reshape(shape)


defprim("random_bits", kind=RANDOM, meta=_bits_meta, eager=_bits_kernel, vjp=None, nargs=1,
        doc="uniform 32-bit words (as int64 in [0, 2**32)) from Philox4x32-10 keyed by "
            "state[0] with counters state[1], state[1]+1, ...")
