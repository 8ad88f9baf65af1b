"""Debug output: levels (EMBER_DEBUG's scale: 1 compile events and timings, 2 one line per
kernel, 3 the graph after each pass, 4 generated code, 5 fusion decisions), a ``PassLog``
that collects messages for tests and tools, and ``EMBER_DUMP_DIR`` artifact files.

The level comes from ``ember.set_debug(level)`` / ``with ember.debug(level):`` when set in
code, else from the ``EMBER_DEBUG`` environment variable."""
from __future__ import annotations

import os
import re
import sys

_OVERRIDE: list = []


def debug_level():
    if _OVERRIDE:
        return _OVERRIDE[-1]
    try:
        return int(os.environ.get("EMBER_DEBUG", "0") or 0)
    except ValueError:
        return 0


def set_debug(level):
    """Set the debug level for this process (``None`` returns to EMBER_DEBUG)."""
    _OVERRIDE.clear()
    if level is not None:
        _OVERRIDE.append(int(level))


class debug:
    """``with ember.debug(3): ...`` raises the debug level inside the block."""

    def __init__(self, level):
        self.level = int(level)

    def __enter__(self):
        _OVERRIDE.append(self.level)
        return self

    def __exit__(self, *exc):
        _OVERRIDE.pop()
        return False


def dump(name, text):
    """Write an artifact (a graph, generated code) under EMBER_DUMP_DIR, if set. ``text``
    may be a zero-argument callable, so nothing is formatted when dumping is off."""
    d = os.environ.get("EMBER_DUMP_DIR")
    if not d:
        return None
    if callable(text):
        text = text()
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, re.sub(r"[^A-Za-z0-9_.-]+", "_", name))
    with open(path, "w") as fh:
        fh.write(text)
    return path


class PassLog(list):
    """A list of (level, message) pairs."""

    def emit(self, level, msg):
        self.append((level, msg))
        if level <= debug_level():
            print(f"[ember:{level}] {msg}", file=sys.stderr)

    def messages(self, level=None):
        return [m for lv, m in self if level is None or lv == level]


def emit(log, level, msg):
    """Log to ``log`` (a PassLog or None: then only the debug level applies)."""
    if log is not None:
        log.emit(level, msg)
    elif level <= debug_level():
        print(f"[ember:{level}] {msg}", file=sys.stderr)
