"""The reference interpreter as a backend (see ember/compiler/interp.py)."""
from __future__ import annotations

from .. import interp


class InterpBackend:
    name = "interp"

    def prepare(self, graph, key=None, layouts=None):
        def run(arrays):
            return interp.run(graph, *arrays)
        return run
