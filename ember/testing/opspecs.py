"""The op spec list: one ``OpSpec`` per primitive and per public composite.

    from ember.testing.opspecs import OP_SPECS, by_name
    spec = by_name("softmax")
    for sample in spec.samples(rng, "float32"): spec.fn(*tensors, **sample.kwargs)

Tests generated from it live in tests/test_ops_values.py and tests/test_ops_grads.py; the
compile issue runs the same ``fn`` compiled against eager."""
from __future__ import annotations

from . import _specs_prims
from .sampling import Sample  # noqa: F401  (re-exported for users of the list)
from .spec import OpSpec  # noqa: F401

from . import _specs_math, _specs_nn, _specs_reduce, _specs_shape
PRIMITIVE_SPECS = list(_specs_prims.SPECS)
COMPOSITE_SPECS = _specs_math.SPECS + _specs_reduce.SPECS + _specs_shape.SPECS + _specs_nn.SPECS

OP_SPECS = PRIMITIVE_SPECS + COMPOSITE_SPECS

_BY_NAME = {}
for _s in OP_SPECS:
    if _s.name in _BY_NAME:
        raise ValueError(f"op spec {_s.name!r} defined twice")
    _BY_NAME[_s.name] = _s


def by_name(name):
    return _BY_NAME[name]
