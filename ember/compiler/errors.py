"""Errors raised while capturing or compiling. Each names the operation, points at the
user's own line and says what to do instead."""
from __future__ import annotations


class TraceError(RuntimeError):
    """Something in the traced function cannot be captured into a graph."""


class GuardError(RuntimeError):
    """A compiled callable was called in a way no retrace can serve (wrong arity, ...)."""


def user_line():
    """'file:line' of the innermost frame that is the user's: outside ember and outside
    the libraries ember calls into (numpy)."""
    import os
    import sys
    import numpy
    skip = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
            os.path.dirname(os.path.abspath(numpy.__file__)) + os.sep)
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(skip) and not f.f_code.co_filename.startswith("<frozen"):
            return f"{f.f_code.co_filename}:{f.f_lineno}"
        f = f.f_back
    return "<unknown location>"
