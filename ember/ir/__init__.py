"""ember.ir: the graph IR shared by the passes and the compiler. Imports only ``ember.ops``.

    from ember.ir import GraphBuilder
    b = GraphBuilder("f")
    x = b.input("x", (4, 8), ember.ops.dtypes.float32)
    with ember.ops.interpreter(b):          # ops.bind now appends nodes
        y = ember.ops.lax.exp(x)
    b.output("y", y)
    g = b.build(); print(g); g.verify()

See docs/IR.md.
"""
from .graph import CONSTANT, INPUT, MARKERS, STOP_GRADIENT, Graph, Group, Node
from .builder import GraphBuilder, user_location
from .verify import VerifyError, verify
from .serialize import FormatError, canonical_form, from_json, structural_hash, to_json
from .nxconv import to_dot, to_networkx
from .printer import format_graph, format_node

__all__ = ["Node", "Graph", "Group", "GraphBuilder", "INPUT", "CONSTANT", "STOP_GRADIENT",
           "MARKERS", "VerifyError", "verify", "FormatError", "structural_hash",
           "canonical_form", "to_json", "from_json", "to_networkx", "to_dot", "format_graph",
           "format_node", "user_location"]
