"""The ``where`` kernel's bitwise blend equals np.where bit for bit (nan payloads, -0.0,
broadcast and transposed operands), above and below its size threshold."""
import numpy as np
import pytest

from ember.ops import xp

NS = xp.numpy_namespace()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.float16,
                                   np.int8, np.bool_])
@pytest.mark.parametrize("shape", [(3, 5), (130, 70)])
def test_select_is_bit_exact(dtype, shape, rng):
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    b = (rng.standard_normal(shape) * 10).astype(dtype)
    if np.dtype(dtype).kind == "f":
        a.reshape(-1)[:3] = [np.nan, -0.0, np.inf]
    c = rng.standard_normal(shape) > 0
    for x, y, m in ((a, b, c), (a.T, b.T, c.T),
                    (a, np.broadcast_to(np.array(b.reshape(-1)[0]), shape), c)):
        got = NS.select(m, x, y)
        want = np.where(m, x, y)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(np.ascontiguousarray(got).view(np.uint8),
                                      np.ascontiguousarray(want).view(np.uint8))
