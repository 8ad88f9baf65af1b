"""ember.ops: the primitive table. Imports nothing above it (no frontend, no compiler).

    from ember import ops
    ops.PRIMITIVES["exp"]          # the one definition of exp
    ops.bind(ops.P.exp, x)         # run it in the innermost interpreter
"""
from . import dtypes
from .registry import (PRIMITIVES, Primitive, ShapeError, ArrayInterpreter, Interpreter, bind,
                       current_interpreter, interpreter, set_base_interpreter, defprim)
from . import elementwise, reduction, movement, indexing, linalg, window, creation  # noqa: F401  (fill the table)
from . import lax
from .registry import _install_default


class _PrimNamespace:
    """``ops.P.exp`` is ``ops.PRIMITIVES['exp']``; attribute access for readability."""

    def __getattr__(self, name):
        try:
            return PRIMITIVES[name.rstrip("_")]
        except KeyError:
            raise AttributeError(f"no primitive named {name!r}") from None


P = _PrimNamespace()
_install_default()

# Eager kernels compute IEEE results (log(0) = -inf, 0/0 = nan) as PyTorch does, silently:
# numpy's floating-point RuntimeWarnings raised from the kernels' own lines are ignored.
# The filter matches only warnings attributed to ember.ops modules, and costs nothing
# per op (unlike wrapping every kernel in np.errstate).
import warnings as _warnings  # noqa: E402
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.ops(\.|$)")

__all__ = ["PRIMITIVES", "Primitive", "ShapeError", "Interpreter", "ArrayInterpreter", "bind",
           "current_interpreter", "interpreter", "set_base_interpreter", "defprim", "dtypes",
           "lax", "P"]
