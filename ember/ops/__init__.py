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

__all__ = ["PRIMITIVES", "Primitive", "ShapeError", "Interpreter", "ArrayInterpreter", "bind",
           "current_interpreter", "interpreter", "set_base_interpreter", "defprim", "dtypes",
           "lax", "P"]
