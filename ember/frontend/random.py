"""Counter-based random numbers.

A ``Generator`` is a small int64 tensor ``[seed, offset]``. Every draw is the pure
primitive ``random_bits(state, shape)`` followed by an in-place ``state[1] += blocks``, so
a traced program reads and updates the generator like any other lifted tensor, and eager
and compiled code draw identical bits from identical states.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..ops import PRIMITIVES as P, bind
from ..ops import dtypes as D
from ..ops.creation import blocks_for
from .autograd import grad_mode
from .dispatch import Tensor, cast
from .promotion import get_default_dtype


class Generator:
    """``ember.Generator()``: ``manual_seed``, ``seed``, ``initial_seed``,
    ``get_state``/``set_state``. The state is the int64 tensor ``self.state``."""

    def __init__(self, device="cpu"):
        self.state = Tensor._wrap(np.array([67280421310721, 0], dtype=np.int64), D.int64)
        self.device = device

    def manual_seed(self, seed):
        seed = int(seed)
        self.state._data[0] = np.int64(seed & 0xFFFFFFFFFFFFFFFF).astype(np.int64) \
            if seed < 0 else np.uint64(seed & 0xFFFFFFFFFFFFFFFF).astype(np.int64)
        self.state._data[1] = 0
        self.state._version[0] += 1
        return self

    def seed(self):
        s = int(time.time_ns()) & 0x7FFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return int(self.state._data[0])

    def get_state(self):
        return Tensor._wrap(self.state._data.copy(), D.int64)

    def set_state(self, new_state):
        arr = np.asarray(new_state._data if isinstance(new_state, Tensor) else new_state)
        if arr.shape != (2,):
            raise RuntimeError(f"Generator.set_state: expected a state of shape (2,), got "
                               f"{arr.shape}")
        self.state._data[:] = arr.astype(np.int64)
        self.state._version[0] += 1


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (and return it, like torch.manual_seed)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _gen(generator):
    return default_generator if generator is None else generator


def draw_bits(shape, generator=None):
    """int64 words in [0, 2**32) of ``shape``; advances the generator."""
    g = _gen(generator)
    shape = tuple(int(s) for s in shape)
    with grad_mode.no_grad():
        bits = bind(P["random_bits"], g.state, shape=shape)
        _advance(g.state, blocks_for(shape))
    return bits


def _advance(state, n):
    """state[1] += n, in place; built from primitives so a trace records it."""
    from .functional.inplace import inplace_apply
    from .functional.math import add
    if n == 0:
        return
    step = bind(P["full"], shape=(1,), value=int(n), dtype=D.int64)
    step = bind(P["pad"], step, pads=((1, 0),), value=0)        # [0, n]
    inplace_apply(state, lambda s: add(s, step))


def _unit_float(bits_hi, bits_lo, dtype):
    """Uniform [0, 1) from random words: 24 bits for float32/16, 53 for float64."""
    from .functional import math as M
    if dtype is D.float64:
        hi = M.floor_divide(bits_hi, 32)      # 27 bits
        lo = M.floor_divide(bits_lo, 64)      # 26 bits
        mant = M.add(M.mul(hi, 1 << 26), lo)
        return M.mul(cast(mant, D.float64), 2.0 ** -53)
    u = M.mul(cast(M.floor_divide(bits_hi, 256), D.float32), 2.0 ** -24)
    return cast(u, dtype) if dtype is not D.float32 else u


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand_like_shape(shape, dtype, generator=None):
    if dtype is D.float64:
        both = draw_bits((2,) + tuple(shape), generator)
        return _unit_float(both[0], both[1], dtype)
    return _unit_float(draw_bits(shape, generator), None, dtype)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dtype = dtype or get_default_dtype()
    if dtype.category != D.FLOAT:
        raise RuntimeError(f"rand: expected a floating dtype, got {dtype!r}")
    with grad_mode.no_grad():
        out = rand_like_shape(_shape(size), dtype, generator)
    return _finish(out, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Box-Muller on two uniform draws."""
    from .functional import math as M
    dtype = dtype or get_default_dtype()
    shape = _shape(size)
    with grad_mode.no_grad():
        work = D.float64 if dtype is D.float64 else D.float32
        u = rand_like_shape((2,) + shape, work, generator)
        u1 = M.rsub(u[0], 1.0)                       # (0, 1]: log is finite
        r = M.sqrt(M.mul(M.log(u1), -2.0))
        z = M.mul(r, M.cos(M.mul(u[1], 2 * math.pi)))
        out = cast(z, dtype)
    return _finish(out, requires_grad)


def rand_like(x, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(tuple(x.shape), generator=generator, dtype=dtype or x.dtype,
                requires_grad=requires_grad)


def randn_like(x, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(tuple(x.shape), generator=generator, dtype=dtype or x.dtype,
                 requires_grad=requires_grad)


def randint_like(x, low, high=None, *, dtype=None, device=None, generator=None):
    return randint(low, high, tuple(x.shape), generator=generator, dtype=dtype or x.dtype)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    from .functional import math as M
    if size is None and isinstance(high, (tuple, list)):   # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    size = tuple(int(s) for s in size)
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    span = high - low
    with grad_mode.no_grad():
        if span <= 1 << 32:
            bits = draw_bits(tuple(size), generator)
            v = M.add(M.remainder(bits, span), low)
        else:
            hi = draw_bits(tuple(size), generator)
            lo = draw_bits(tuple(size), generator)
            v = M.add(M.remainder(M.add(M.mul(hi, 1 << 32), lo), span), low)
        out = cast(v, dtype or D.int64)
    return out


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation: argsort of random keys (eager: uses numpy's stable argsort)."""
    with grad_mode.no_grad():
        keys = draw_bits((n,), generator)
    order = np.argsort(keys._data, kind="stable").astype(np.int64)
    t = Tensor._wrap(order, D.int64)
    return cast(t, dtype) if dtype is not None else t


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None):
    from .functional import math as M
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        shape = tuple((mean if isinstance(mean, Tensor) else std).shape)
        z = randn(shape, generator=generator,
                  dtype=(mean if isinstance(mean, Tensor) else std).dtype)
        return M.add(M.mul(z, std), mean)
    z = randn(tuple(size), generator=generator, dtype=dtype)
    return M.add(M.mul(z, std), mean)


def bernoulli(p, *, generator=None):
    """1 with probability p (a tensor of probabilities), else 0; p's dtype."""
    from .functional import math as M
    with grad_mode.no_grad():
        u = rand_like_shape(tuple(p.shape), p.dtype, generator)
        return cast(M.lt(u, p), p.dtype)


def multinomial(probs, num_samples, replacement=False, *, generator=None):
    """Eager-only sampling by inverse CDF (with replacement) or Gumbel top-k (without)."""
    p = np.asarray(probs._data, dtype=np.float64)
    p2 = p.reshape(-1, p.shape[-1])
    if not replacement and num_samples > p2.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    u = rand_like_shape((p2.shape[0], num_samples if replacement else p2.shape[-1]),
                        D.float64, generator)._data
    if replacement:
        cdf = np.cumsum(p2, axis=1)
        cdf /= cdf[:, -1:]
        out = np.stack([np.searchsorted(c, uu, side="right") for c, uu in zip(cdf, u)])
        out = np.minimum(out, p2.shape[1] - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = np.log(p2) - np.log(-np.log(np.clip(u, 1e-300, 1.0)))
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64)
    return Tensor._wrap(out, D.int64)
