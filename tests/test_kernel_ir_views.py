"""Index maps through movement primitives vs numpy's own views."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ember.compiler.kernel_views import IndexMap, pull, to_access


def gather(buf, access, space):
    """Read ``buf`` through an access at every iteration point (the kernel's semantics)."""
    out = np.empty(space, buf.dtype)
    flat = buf.reshape(-1)
    for idx in itertools.product(*map(range, space)):
        out[idx] = flat[access.offset + sum(s * i for s, i in zip(access.strides, idx))]
    return out


def through(chain, base_shape):
    """Apply a movement chain to a numpy buffer and pull the identity map of the result
    back through it; returns (numpy view, access) or (view, None)."""
    buf = np.arange(int(np.prod(base_shape))).reshape(base_shape)
    shapes, v = [buf.shape], buf
    for prim, attrs in chain:
        if prim == "permute":
            v = v.transpose(attrs["perm"])
        elif prim == "expand":
            v = np.broadcast_to(v, attrs["shape"])
        elif prim == "slice":
            v = v[tuple(slice(a, b, c) for a, b, c in zip(attrs["starts"], attrs["stops"],
                                                          attrs["steps"]))]
        elif prim == "flip":
            v = np.flip(v, attrs["axes"])
        elif prim == "reshape":
            v = v.reshape(attrs["shape"])
        shapes.append(v.shape)
    m = IndexMap.identity(v.shape)
    for (prim, attrs), in_shape in zip(reversed(chain), reversed(shapes[:-1])):
        m = pull(m, prim, attrs, in_shape)
        if m is None:
            return v, buf, None
    return v, buf, to_access(m, 0)


@pytest.mark.parametrize("chain,base", [
    ([("permute", {"perm": (1, 0)})], (3, 4)),                                     # x.T
    ([("slice", {"starts": (1, 0), "stops": (3, 4), "steps": (1, 2)})], (3, 4)),
    ([("expand", {"shape": (5, 4)})], (1, 4)),
    ([("flip", {"axes": (0, 1)})], (3, 4)),
    ([("permute", {"perm": (1, 0)}), ("reshape", {"shape": (2, 2, 3)})], (3, 4)),  # not affine
    ([("reshape", {"shape": (3, 2, 2)}), ("permute", {"perm": (2, 0, 1)})], (3, 4)),
    ([("reshape", {"shape": (12,)}), ("slice", {"starts": (2,), "stops": (11,), "steps": (3,)})],
     (3, 4)),
    ([("slice", {"starts": (0, 1), "stops": (3, 4), "steps": (1, 1)}),
      ("reshape", {"shape": (9,)})], (3, 4)),                                       # not affine
    ([("reshape", {"shape": (2, 6)}), ("flip", {"axes": (1,)}), ("reshape", {"shape": (2, 2, 3)})],
     (12,)),
])
def test_chains(chain, base):
    v, buf, acc = through(chain, base)
    if acc is None:
        # only reshapes of non-contiguous walks may refuse, and here numpy had to copy too
        assert any(p == "reshape" for p, _ in chain)
        assert not np.shares_memory(v, buf)
        return
    np.testing.assert_array_equal(gather(buf, acc, v.shape), v)


@st.composite
def chains(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    base, chain = shape, []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["permute", "slice", "flip", "reshape", "expand"]))
        r = len(shape)
        if kind == "permute":
            p = tuple(draw(st.permutations(range(r))))
            chain.append(("permute", {"perm": p}))
            shape = tuple(shape[i] for i in p)
        elif kind == "slice":
            starts = tuple(draw(st.integers(0, n - 1)) for n in shape)
            steps = tuple(draw(st.integers(1, 2)) for _ in shape)
            stops = tuple(n for n in shape)
            chain.append(("slice", {"starts": starts, "stops": stops, "steps": steps}))
            shape = tuple(-(-(b - a) // c) for a, b, c in zip(starts, stops, steps))
        elif kind == "flip":
            axes = tuple(sorted(draw(st.sets(st.integers(0, r - 1)))))
            chain.append(("flip", {"axes": axes}))
        elif kind == "expand":
            new = tuple(draw(st.sampled_from([1, 3])) if n == 1 else n for n in shape)
            chain.append(("expand", {"shape": new}))
            shape = new
        else:
            n = int(np.prod(shape))
            new = draw(st.sampled_from([(n,), (1, n)] + ([(2, n // 2)] if n % 2 == 0 else [])))
            chain.append(("reshape", {"shape": new}))
            shape = new
    return chain, base


@settings(deadline=None)
@given(chains())
def test_random_chains_read_what_numpy_views_hold(case):
    chain, base = case
    v, buf, acc = through(chain, base)
    if acc is None:
        assert any(p == "reshape" for p, _ in chain)
        return
    np.testing.assert_array_equal(gather(buf, acc, v.shape), v)
