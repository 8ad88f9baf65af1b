"""Generated from ember.testing.opspecs: every entry's eager value (and result dtype) vs
its numpy float64 reference, for every dtype the entry supports."""
import numpy as np
import pytest

from ember.testing import harness
from ember.testing.opspecs import OP_SPECS

# edge samples (nan, inf, 0 in log) make numpy warn, in the references and the kernels
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

CASES = [(s, d) for s in OP_SPECS for d in s.dtypes]


@pytest.mark.parametrize("spec,dtype", CASES, ids=[f"{s.name}-{d}" for s, d in CASES])
def test_value(spec, dtype):
    rng = np.random.default_rng(harness.seed(spec.name, dtype))
    samples = spec.samples(rng, dtype)
    assert samples, f"{spec.name}: no samples for {dtype}"
    for sample in samples:
        harness.check_values(spec, sample, dtype)


def test_spec_list_is_well_formed():
    from ember.testing.spec import ALL
    known = set(ALL)
    for spec in OP_SPECS:
        assert spec.kind in ("primitive", "composite"), spec
        assert spec.dtypes and set(spec.dtypes) <= known, (spec, spec.dtypes)
        assert callable(spec.op) and callable(spec.ref) and callable(spec.samples), spec
        if spec.differentiable:
            assert "float64" in spec.dtypes, f"{spec.name}: gradients are checked in float64"
    assert len(OP_SPECS) > 200


def test_every_primitive_has_a_spec():
    from ember import ops
    covered = {s.prim for s in OP_SPECS if s.prim}
    missing = sorted(set(ops.PRIMITIVES) - covered)
    assert not missing, f"primitives without an op spec: {missing}"


# 2-byte floats: every entry that takes float32 also runs in float16 and bfloat16, against
# the float64 reference of the same (rounded) inputs; tolerances are a few units of the
# format's epsilon, relative to the result's magnitude (composites round several times)
LOWP_TOL = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}
LOWP = [(s, d) for s in OP_SPECS if "float32" in s.dtypes and s.lowp for d in LOWP_TOL]


@pytest.mark.parametrize("spec,dtype", LOWP, ids=[f"{s.name}-{d}" for s, d in LOWP])
def test_value_low_precision(spec, dtype):
    rng = np.random.default_rng(harness.seed(spec.name, dtype))
    for sample in spec.samples(rng, dtype):
        harness.check_values(spec, sample, dtype, tol=LOWP_TOL[dtype])


STRIDED = [s for s in OP_SPECS if "float32" in s.dtypes]


@pytest.mark.parametrize("spec", STRIDED, ids=[s.name for s in STRIDED])
def test_value_non_contiguous_inputs(spec):
    """The same checks with every input a strided view (kernels must not assume layout)."""
    rng = np.random.default_rng(harness.seed(spec.name, "strided"))
    for sample in spec.samples(rng, "float32"):
        harness.check_values(spec, sample, "float32", make=harness.strided)
