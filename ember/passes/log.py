"""Pass logging. Messages carry a level (EMBER_DEBUG's scale: 3 the graph after each pass,
5 fusion decisions); a ``PassLog`` collects them for tests and tools, and messages at or
below the ``EMBER_DEBUG`` environment level are also printed to stderr."""
from __future__ import annotations

import os
import sys


def debug_level():
    try:
        return int(os.environ.get("EMBER_DEBUG", "0") or 0)
    except ValueError:
        return 0


class PassLog(list):
    """A list of (level, message) pairs."""

    def emit(self, level, msg):
        self.append((level, msg))
        if level <= debug_level():
            print(f"[ember:{level}] {msg}", file=sys.stderr)

    def messages(self, level=None):
        return [m for lv, m in self if level is None or lv == level]


def emit(log, level, msg):
    """Log to ``log`` (a PassLog or None: then only the environment level applies)."""
    if log is not None:
        log.emit(level, msg)
    elif level <= debug_level():
        print(f"[ember:{level}] {msg}", file=sys.stderr)
