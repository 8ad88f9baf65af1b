"""random_bits / Philox4x32-10: Random123 known-answer vectors, and the primitive's counter
and key layout (counter = (offset low, offset high, 0, 0), key = (seed low, seed high))
against an independent pure-Python implementation."""
import numpy as np
import pytest

from ember import ops
from ember.ops import xp as _xp
from ember.testing import refs

# Random123 kat_vectors, philox4x32 with 10 rounds: (counter, key) -> output
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
NS = _xp.numpy_namespace()


def _bits(state, shape):
    """random_bits on raw arrays (the frontend's interpreter is the default once imported)."""
    with ops.interpreter(ops.ArrayInterpreter()):
        return ops.bind(ops.PRIMITIVES["random_bits"], np.asarray(state, np.int64), shape=shape)


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_reference_known_answers(counter, key, expected):
    assert refs.philox4x32_10(counter, key) == expected


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_shim_known_answers(counter, key, expected):
    words = NS.philox4x32_rounds(tuple(np.array([c], np.uint64) for c in counter), key)
    assert words.dtype == np.uint32
    assert tuple(int(v) for v in words[0]) == expected


def test_primitive_counter_zero_key_zero():
    bits = _bits([0, 0], (4,))
    assert [int(v) for v in bits] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


@pytest.mark.parametrize("seed,offset,shape", [
    (0, 0, (9,)), (42, 7, (2, 3)), (-1, 5, (5,)), (2 ** 40 + 3, 2 ** 32 - 2, (3, 4)),
    (123, 2 ** 33 + 1, (1,)), (7, 0, ()), (7, 0, (0, 3))])
def test_primitive_layout_matches_reference(seed, offset, shape):
    state = np.array([seed, offset], np.int64)
    got = _bits(state, shape)
    assert got.dtype == np.int64 and got.shape == shape
    np.testing.assert_array_equal(got, refs.random_bits_ref(state, shape))
    assert got.size == 0 or (got.min() >= 0 and got.max() < 2 ** 32)


def test_offset_advances_by_blocks():
    """Draws at offsets o and o + blocks_for(shape) do not overlap and tile one long draw."""
    from ember.ops.creation import blocks_for
    whole = _bits([9, 0], (16,))
    first = _bits([9, 0], (8,))
    second = _bits([9, blocks_for((8,))], (8,))
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)


def test_bits_look_uniform():
    bits = _bits([1, 0], (40000,))
    u = bits / 2 ** 32
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    # every bit position is set about half the time
    frac = [((bits >> b) & 1).mean() for b in range(32)]
    assert min(frac) > 0.48 and max(frac) < 0.52


def test_bad_state_is_rejected():
    with pytest.raises(ops.ShapeError, match="random_bits"):
        _bits([1, 2, 3], (2,))


def test_eager_tensor_draw_uses_the_same_bits():
    import ember
    state = ember.tensor([5, 3], dtype=ember.int64)
    got = ops.bind(ops.PRIMITIVES["random_bits"], state, shape=(6,))
    np.testing.assert_array_equal(got.numpy(), refs.random_bits_ref(np.array([5, 3]), (6,)))
