"""Generated from ember.testing.opspecs: every entry's eager value (and result dtype) vs
its numpy float64 reference, for every dtype the entry supports."""
import numpy as np
import pytest

from ember.testing import harness
from ember.testing.opspecs import OP_SPECS

CASES = [(s, d) for s in OP_SPECS for d in s.dtypes]


@pytest.mark.parametrize("spec,dtype", CASES, ids=[f"{s.name}-{d}" for s, d in CASES])
def test_value(spec, dtype):
    rng = np.random.default_rng(abs(hash((spec.name, dtype))) % 2 ** 32)
    samples = spec.samples(rng, dtype)
    assert samples, f"{spec.name}: no samples for {dtype}"
    for sample in samples:
        harness.check_values(spec, sample, dtype)


def test_every_primitive_has_a_spec():
    from ember import ops
    covered = {s.prim for s in OP_SPECS if s.prim}
    missing = sorted(set(ops.PRIMITIVES) - covered)
    assert not missing, f"primitives without an op spec: {missing}"
