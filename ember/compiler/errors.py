"""Errors raised while capturing or compiling. Each names the operation, points at the
user's own line and says what to do instead."""
from __future__ import annotations


class TraceError(RuntimeError):
    """Something in the traced function cannot be captured into a graph."""


class GuardError(RuntimeError):
    """A compiled callable was called in a way no retrace can serve (wrong arity, ...)."""


def user_line():
    from ..ir.builder import user_location
    return user_location(3) or "<unknown location>"
