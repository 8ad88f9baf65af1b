"""Generated from ember.testing.opspecs: every differentiable entry's VJP vs float64
central finite differences (all samples), and its second-order VJP (smallest samples)."""
import numpy as np
import pytest

from ember.testing import harness
from ember.testing.opspecs import OP_SPECS

# edge samples (nan, inf, 0 in log) make numpy warn, in the references and the kernels
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

DIFF = [s for s in OP_SPECS if s.differentiable and "float64" in s.dtypes]


def _rng(spec, tag):
    return np.random.default_rng(harness.seed(spec.name, tag))


@pytest.mark.parametrize("spec", DIFF, ids=[s.name for s in DIFF])
def test_vjp(spec):
    rng = _rng(spec, "vjp")
    samples = harness.grad_samples(spec, rng)
    assert any(a.size for s in samples for a in s.args), f"{spec.name}: nothing to differentiate"
    for sample in samples:
        harness.check_vjp(spec, sample, rng)


SECOND = [s for s in DIFF if s.grad2]


@pytest.mark.parametrize("spec", SECOND, ids=[s.name for s in SECOND])
def test_vjp_second_order(spec):
    rng = _rng(spec, "vjp2")
    samples = [s for s in harness.grad_samples(spec, rng)
               if 0 < sum(a.size for a in s.args) <= 40]
    assert samples, f"{spec.name}: no small sample for the second-order check"
    for sample in samples[:2]:
        harness.check_vjp2(spec, sample, rng)
