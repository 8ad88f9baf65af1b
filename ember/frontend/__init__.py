"""The eager frontend: Tensor, dispatch, autograd, creation, composites."""
from . import dispatch  # noqa: F401  (installs the eager interpreter under ops.bind)
from .tensor import Tensor, Size  # noqa: F401
from . import tensor_methods as _tm

_tm.install()
