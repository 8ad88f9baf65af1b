"""The frontend's composites, all written over primitives through ``ops.bind``.

The public names are the functions each submodule defines (helpers start with ``_``), so
imports inside the submodules never leak into ``ember``'s namespace.
"""
from . import indexing, inplace, linalg, math, reduce, shape

# frontend machinery the submodules share (reachable here, e.g. ``F.getitem`` for
# Tensor.__getitem__, but not part of the ``ember.*`` namespace)
_INTERNAL = frozenset({"dims", "make_view", "infer_shape", "slice_dim", "getitem", "setitem",
                       "index_put_functional", "inplace_apply", "track_view", "refresh_views",
                       "make_inplace", "all_"})

__all__ = []
for _mod in (math, reduce, shape, indexing, linalg, inplace):
    for _name, _obj in vars(_mod).items():
        if not _name.startswith("_") and callable(_obj) and \
                getattr(_obj, "__module__", None) == _mod.__name__ and not isinstance(_obj, type):
            globals()[_name] = _obj
            if _name not in _INTERNAL:
                __all__.append(_name)
del _mod, _name, _obj
from .math import all_  # noqa: E402,F401
