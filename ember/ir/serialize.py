"""The versioned JSON form of a graph and its structural hash.

JSON (``format: "ember.ir"``, ``version: 1``) keeps everything, source locations too, and
round-trips exactly: ``to_json(from_json(s)) == s``. Attribute values are encoded with
tags where JSON is ambiguous: tuples become lists (all IR attributes are tuples, never
lists), dtypes ``{"dtype": "float32"}``, non-finite floats ``{"float": "nan"}``.

The structural hash is sha256 over a canonical form that renumbers nodes by position and
leaves out source locations, pass metadata and names of the graph itself, so it is the
same in every process and unaffected by editing comments or moving code: the key of the
compile cache.
"""
from __future__ import annotations

import hashlib
import json
import math

from ..ops import dtypes as _dt
from .graph import Graph, Group, Node

FORMAT, VERSION = "ember.ir", 1


class FormatError(ValueError):
    """The JSON is not an ember IR graph of a version this ember reads."""


def encode_value(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return {"float": repr(v)}
    if isinstance(v, _dt.DType):
        return {"dtype": v.name}
    if isinstance(v, (tuple, list)):
        return [encode_value(x) for x in v]
    if isinstance(v, dict):
        return {"dict": [[encode_value(k), encode_value(x)] for k, x in v.items()]}
    item = getattr(v, "item", None)  # numpy scalars
    if item is not None:
        return encode_value(item())
    raise TypeError(f"ember IR: attribute value {v!r} ({type(v).__name__}) has no JSON form")


def decode_value(v):
    if isinstance(v, list):
        return tuple(decode_value(x) for x in v)
    if isinstance(v, dict):
        if "dtype" in v:
            return _dt.from_name(v["dtype"])
        if "float" in v:
            return float(v["float"])
        if "dict" in v:
            return {decode_value(k): decode_value(x) for k, x in v["dict"]}
        raise FormatError(f"unknown tagged value {v!r}")
    return v


def _encode_meta(meta):
    return {k: v for k, v in sorted(meta.items()) if isinstance(v, (str, int, float, bool))}


def _node_record(n, index, with_debug):
    rec = {"id": index[n], "op": n.op, "inputs": [index[i] for i in n.inputs],
           "attrs": {k: encode_value(v) for k, v in n.attrs.items()},  # order kept
           "shape": list(n.shape), "dtype": n.dtype.name, "device": n.device}
    if with_debug:
        rec["id"] = n.id
        rec["inputs"] = [i.id for i in n.inputs]
        rec["loc"] = n.loc
        rec["meta"] = _encode_meta(n.meta)
    return rec


def _graph_record(g, with_debug):
    index = {n: k for k, n in enumerate(g.nodes)}
    ref = (lambda n: n.id) if with_debug else (lambda n: index[n])
    rec = {"format": FORMAT, "version": VERSION}
    if with_debug:
        rec["name"] = g.name
    rec["nodes"] = [_node_record(n, index, with_debug) for n in g.nodes]
    rec["outputs"] = [[name, ref(v)] for name, v in g.outputs]
    rec["updates"] = [[o, i] for o, i in sorted(g.updates.items())]
    rec["groups"] = [{"name": grp.name, "kind": grp.kind, "nodes": [ref(n) for n in grp.nodes],
                      "hints": encode_value(grp.hints)} for grp in g.groups]
    return rec


def to_json(g, indent=None):
    return json.dumps(_graph_record(g, True), indent=indent, allow_nan=False)


def from_json(text):
    rec = json.loads(text)
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise FormatError("not an ember IR graph (missing format 'ember.ir')")
    if rec.get("version") != VERSION:
        raise FormatError(f"ember IR version {rec.get('version')!r} is not supported; this "
                          f"ember reads version {VERSION}")
    by_id, nodes = {}, []
    for r in rec["nodes"]:
        try:
            ins = tuple(by_id[i] for i in r["inputs"])
        except KeyError as e:
            raise FormatError(f"node {r['id']} uses node {e.args[0]} before its definition") \
                from None
        n = Node(r["id"], r["op"], ins, {k: decode_value(v) for k, v in r["attrs"].items()},
                 tuple(r["shape"]), _dt.from_name(r["dtype"]), r["device"], r.get("loc"),
                 r.get("meta"))
        by_id[n.id] = n
        nodes.append(n)
    groups = [Group(gr["name"], gr["kind"], [by_id[i] for i in gr["nodes"]],
                    decode_value(gr["hints"])) for gr in rec["groups"]]
    return Graph(nodes, [(name, by_id[i]) for name, i in rec["outputs"]],
                 {o: i for o, i in rec["updates"]}, groups, rec.get("name", "graph"))


def canonical_form(g):
    """The text the structural hash is taken over (stable, location-free)."""
    return json.dumps(_graph_record(g, False), sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def structural_hash(g):
    return hashlib.sha256(canonical_form(g).encode()).hexdigest()
