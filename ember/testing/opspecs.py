"""The op spec list: one ``OpSpec`` per primitive and per public composite (like
PyTorch's OpInfo list or JAX's grad_test_spec).

    from ember.testing.opspecs import OP_SPECS, by_name
    spec = by_name("softmax")
    for sample in spec.samples(rng, "float32"):
        out = spec.fn(*map(ember.from_numpy, sample.args), **sample.kwargs)
        want = spec.ref(*sample.args, **sample.kwargs)   # numpy float64

Entries live by kind in ``_specs_prims`` (every primitive, called through ``bind``),
``_specs_math`` (elementwise composites), ``_specs_reduce`` (reductions, normalisations,
matrix products), ``_specs_shape`` (shape and indexing) and ``_specs_nn`` (activations).
A new op gets one line in the matching module; tests/test_ops_values.py,
tests/test_ops_grads.py and tests/test_ops_torch_parity.py then check it. The compile
issue runs the same ``fn`` compiled against eager (``harness.check_values(..., fn=...)``)."""
from __future__ import annotations

from . import _specs_math, _specs_nn, _specs_prims, _specs_reduce, _specs_shape
from .sampling import Sample
from .spec import OpSpec

PRIMITIVE_SPECS = list(_specs_prims.SPECS)
COMPOSITE_SPECS = _specs_math.SPECS + _specs_reduce.SPECS + _specs_shape.SPECS + _specs_nn.SPECS
OP_SPECS = PRIMITIVE_SPECS + COMPOSITE_SPECS

_BY_NAME = {}
for _s in OP_SPECS:
    if _s.name in _BY_NAME:
        raise ValueError(f"op spec {_s.name!r} defined twice")
    _BY_NAME[_s.name] = _s
del _s


def by_name(name):
    return _BY_NAME[name]


__all__ = ["OP_SPECS", "PRIMITIVE_SPECS", "COMPOSITE_SPECS", "OpSpec", "Sample", "by_name"]
