"""``ember.save`` / ``ember.load`` in the safetensors format: loading never runs code.

A file is a plain safetensors file. Its tensors are the leaves of the saved object, named
by their path in it (``"fc.weight"`` for a state dict, ``"state.0.exp_avg"`` for an
optimizer state dict), so other safetensors tools read them directly. The nesting
(dicts with any plain keys, lists, tuples) and the plain values (int, float incl. inf/nan,
bool, str, None, dtypes, Sizes) are one JSON document stored under one key of the
safetensors ``__metadata__`` string map, next to a format marker and version:

    {"format": "pt", "ember.format": "ember.save", "ember.version": "1",
     "ember.tree": "<JSON>", "ember.tree_crc32": "<CRC-32 of the JSON>"}

("pt": tensors follow PyTorch's state-dict names and layouts, which is what safetensors
consumers check for.) In the tree a JSON object is always a tagged node: ``{"tensor":
name, "crc32": c, ...}``, ``{"dict": [[key, value], ...]}``, ``{"list": [...]}``,
``{"tuple": [...]}``, ``{"float": "nan"}``, ``{"dtype": "float32"}``, ``{"size": [...]}``.
Each tensor records a CRC-32 of its bytes, so payload corruption is detected, not loaded.

Tensors are saved by value: views are written as their own contiguous copy. The same
tensor object appearing twice is written once and loads as one object. A safetensors file
written by another tool (no ember tree) loads as a flat ``{name: tensor}`` dict.
"""
from __future__ import annotations

import collections
import io
import json
import math
import os
import zlib

import numpy as np

from .frontend.device import as_device
from .frontend.tensor import Size, Tensor
from .ops import dtypes as D

__all__ = ["save", "load", "SerializationError"]

FORMAT_MARKER = "ember.save"
FORMAT_VERSION = 1
_K_FORMAT, _K_MARK, _K_VER, _K_TREE = "format", "ember.format", "ember.version", "ember.tree"
_K_TREE_CRC = "ember.tree_crc32"

# safetensors dtype codes <-> ember dtypes
_CODE = {D.bool_: "BOOL", D.uint8: "U8", D.int8: "I8", D.int16: "I16", D.int32: "I32",
         D.int64: "I64", D.float16: "F16", D.bfloat16: "BF16", D.float32: "F32",
         D.float64: "F64"}
_FROM_CODE = {v: k for k, v in _CODE.items()}


class _Writer:
    def __init__(self):
        self.specs = {}         # name -> contiguous little-endian array
        self.by_id = {}         # id(tensor) -> node, so one object is written once
        self.keep = []          # keeps saved tensors alive so ids stay unique

    def name_for(self, path):
        base = ".".join(str(p) for p in path) or "tensor"
        name, k = base, 1
        while name in self.specs or name == "__metadata__":    # reserved by the format
            name, k = f"{base}#{k}", k + 1
        return name

    def tensor(self, t, path):
        node = self.by_id.get(id(t))
        if node is not None:
            return node
        D.require_known(t.dtype)
        arr = np.asarray(t.detach()._data)
        if not (arr.flags.c_contiguous and arr.flags.aligned):
            arr = arr.copy(order="C")       # (ascontiguousarray would make 0-d arrays 1-d)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        name = self.name_for(path)
        self.specs[name] = arr
        node = {"tensor": name, "crc32": _crc(arr)}
        if t.requires_grad:
            node["requires_grad"] = True
        if getattr(t, "_is_param", False):
            node["param"] = True
        if t.device.type != "cpu":
            node["device"] = str(t.device)
        self.by_id[id(t)] = node
        self.keep.append(t)
        return node

    def encode(self, obj, path, key=False):
        where = ".".join(str(p) for p in path) or "<root>"
        if isinstance(obj, Tensor):
            if key:
                raise TypeError(f"ember.save: a tensor cannot be a dict key (at {where})")
            return self.tensor(obj, path)
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
            obj = obj.item()
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, D.DType):
            return {"dtype": obj.name}
        if isinstance(obj, Size):
            return {"size": [int(s) for s in obj]}
        if key and not isinstance(obj, tuple):
            raise TypeError(f"ember.save: unsupported dict key type {type(obj).__name__} at "
                            f"{where}")
        if isinstance(obj, dict):
            node = {"dict": [[self.encode(k, path + [k], key=True), self.encode(v, path + [k])]
                             for k, v in obj.items()]}
            if isinstance(obj, collections.OrderedDict):
                node["ordered"] = True
            return node
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return {"tuple": [self.encode(v, path + [i], key) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return {"list": [self.encode(v, path + [i]) for i, v in enumerate(obj)]}
        raise TypeError(f"ember.save: cannot save an object of type {type(obj).__name__} at "
                        f"{where}; only tensors, dicts, lists, tuples and int, float, bool, "
                        f"str, None values are supported (ember never pickles)")


def _crc(arr):
    """CRC-32 of a contiguous array's bytes, without copying them."""
    return zlib.crc32(arr.reshape(-1).view(np.uint8))


def _specs(arrays):
    """safetensors' serialize() input: TensorSpec pointers (0.8+) or bytes (older)."""
    try:
        from safetensors import TensorSpec
    except ImportError:
        return {name: {"dtype": a.dtype.name, "shape": list(a.shape), "data": a.tobytes()}
                for name, a in arrays.items()}
    return {name: TensorSpec(dtype=a.dtype.name, shape=list(a.shape), data_ptr=a.ctypes.data,
                             data_len=a.nbytes) for name, a in arrays.items()}


def save(obj, f, pickle_module=None, pickle_protocol=None,
         _use_new_zipfile_serialization=True):
    """Save ``obj`` (tensors, state dicts, optimizer state dicts, nested containers of
    tensors and plain values) to the path or binary file ``f`` as safetensors."""
    from safetensors import serialize
    if pickle_module is not None:
        raise TypeError("ember.save: pickle_module is not supported; ember writes safetensors "
                        "files and never pickles")
    w = _Writer()
    tree = w.encode(obj, [])
    doc = json.dumps(tree, separators=(",", ":"), allow_nan=False)
    meta = {_K_FORMAT: "pt", _K_MARK: FORMAT_MARKER, _K_VER: str(FORMAT_VERSION),
            _K_TREE: doc, _K_TREE_CRC: str(zlib.crc32(doc.encode()))}
    blob = bytes(serialize(_specs(w.specs), metadata=meta))
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(blob)
    elif hasattr(f, "write"):
        f.write(blob)
    else:
        raise TypeError(f"ember.save: expected a path or a binary file object, got "
                        f"{type(f).__name__}")


class SerializationError(RuntimeError):
    """A file ``ember.load`` cannot read: corrupt, truncated, foreign or pickle-based."""


def _read(f):
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(f, "rb") as fh:
            return fh.read(), name
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("ember.load: the file object must be opened in binary mode")
        return bytes(data), getattr(f, "name", "<file object>")
    if isinstance(f, (bytes, bytearray)):
        raise TypeError("ember.load: expected a path or a file object; wrap bytes in "
                        "io.BytesIO")
    raise TypeError(f"ember.load: expected a path or a binary file object, got "
                    f"{type(f).__name__}")


def _parse(raw, name):
    """(tensors by name, metadata) of safetensors bytes; any malformation -> clear error."""
    from safetensors import SafetensorError, deserialize
    try:
        entries = deserialize(raw)
    except SafetensorError as e:
        if raw[:4] == b"PK\x03\x04" or (len(raw) > 1 and raw[0] == 0x80 and 2 <= raw[1] <= 5):
            raise SerializationError(
                f"ember.load: {name} looks like a pickle-based torch.save file; ember only "
                f"reads safetensors files (it never unpickles). Convert it with "
                f"safetensors.torch.save_file in PyTorch") from None
        raise SerializationError(f"ember.load: {name} is not a valid safetensors file "
                                 f"(corrupt or truncated): {e}") from None
    n = int.from_bytes(raw[:8], "little")
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise SerializationError(f"ember.load: {name} has a corrupt header: {e}") from None
    meta = header.get("__metadata__") or {}
    tensors = {}
    for tname, info in entries:
        dt = _FROM_CODE.get(info["dtype"])
        if dt is None:
            raise SerializationError(
                f"ember.load: tensor {tname!r} in {name} has safetensors dtype "
                f"{info['dtype']}, which ember does not support (supported: "
                f"{', '.join(_CODE.values())})")
        D.require_known(dt)
        shape = tuple(int(s) for s in info["shape"])
        arr = np.frombuffer(info["data"], dtype=dt.np.newbyteorder("<"))
        tensors[tname] = (arr.astype(dt.np, copy=False).reshape(shape), dt)
    return tensors, meta


class _Reader:
    def __init__(self, tensors, name, device_for):
        self.tensors = tensors
        self.name = name
        self.device_for = device_for
        self.made = {}

    def bad(self, msg):
        return SerializationError(f"ember.load: {self.name} has corrupt ember metadata: {msg}")

    def tensor(self, node):
        tname = node.get("tensor")
        if tname in self.made:
            return self.made[tname]
        if tname not in self.tensors:
            raise self.bad(f"tensor {tname!r} is referenced but not stored")
        arr, dt = self.tensors[tname]
        crc = node.get("crc32")
        if crc is not None and _crc(arr) != crc:
            raise SerializationError(f"ember.load: {self.name}: the data of tensor {tname!r} "
                                     f"is corrupt (checksum mismatch)")
        t = Tensor._wrap(arr, dt)
        dev = self.device_for(t, node.get("device", "cpu"))
        if isinstance(dev, Tensor):
            t = dev
        elif dev is not None and as_device(dev) != t.device:
            t = t.to(as_device(dev))
        if node.get("param"):
            t = _as_parameter(t, bool(node.get("requires_grad")))
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        self.made[tname] = t
        return t

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            raise self.bad("untagged JSON array")
        if not isinstance(node, dict) or len(node) == 0:
            raise self.bad(f"unexpected node {node!r:.60}")
        try:
            if "tensor" in node:
                return self.tensor(node)
            if "dict" in node:
                cls = collections.OrderedDict if node.get("ordered") else dict
                return cls((_hashable(self.decode(k)), self.decode(v))
                           for k, v in node["dict"])
            if "list" in node:
                return [self.decode(v) for v in node["list"]]
            if "tuple" in node:
                return tuple(self.decode(v) for v in node["tuple"])
            if "float" in node:
                return float(node["float"])
            if "dtype" in node:
                return D.from_name(node["dtype"])
            if "size" in node:
                return Size(int(s) for s in node["size"])
        except SerializationError:
            raise
        except (TypeError, ValueError, KeyError) as e:
            raise self.bad(f"{type(e).__name__}: {e}") from None
        raise self.bad(f"unknown node tag(s) {sorted(node)}")


def _hashable(k):
    if isinstance(k, (list, dict, Tensor)):
        raise TypeError(f"unhashable dict key {k!r:.40}")
    return k


def _as_parameter(t, requires_grad):
    try:
        from .nn import Parameter
    except ImportError:     # nn not available: a plain tensor with the same flag
        return t.requires_grad_(requires_grad) if requires_grad else t
    return Parameter(t, requires_grad=requires_grad)


def _device_mapper(map_location):
    """fn(tensor, saved_device_str) -> a device, a replacement tensor, or None (keep)."""
    if map_location is None:
        return lambda t, loc: loc
    if callable(map_location) and not isinstance(map_location, str):
        return lambda t, loc: map_location(t, loc)
    if isinstance(map_location, dict):
        return lambda t, loc: map_location.get(loc, loc)
    dev = as_device(map_location)
    return lambda t, loc: dev


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **kwargs):
    """Load what ``ember.save`` wrote, or any safetensors file (as a flat dict of
    tensors). Never executes code, whatever ``weights_only`` says; a corrupt, truncated
    or foreign file raises RuntimeError naming the file. ``map_location``: a device,
    a ``{saved: target}`` dict or ``fn(tensor, saved_location)``."""
    if pickle_module is not None:
        raise TypeError("ember.load: pickle_module is not supported; ember never unpickles")
    if kwargs:
        raise TypeError(f"ember.load: unexpected keyword arguments {sorted(kwargs)}")
    raw, name = _read(f)
    tensors, meta = _parse(raw, name)
    reader = _Reader(tensors, name, _device_mapper(map_location))
    if meta.get(_K_MARK) != FORMAT_MARKER:
        return {k: reader.tensor({"tensor": k}) for k in tensors}
    try:
        version = int(meta.get(_K_VER, ""))
    except ValueError:
        raise reader.bad(f"bad format version {meta.get(_K_VER)!r}") from None
    if version > FORMAT_VERSION:
        raise SerializationError(f"ember.load: {name} was written by a newer ember (format "
                                 f"version {version}; this ember reads up to "
                                 f"{FORMAT_VERSION})")
    doc = meta.get(_K_TREE, "")
    if str(zlib.crc32(doc.encode())) != meta.get(_K_TREE_CRC):
        raise reader.bad("the structure document fails its checksum")
    try:
        tree = json.loads(doc)
    except ValueError as e:
        raise reader.bad(f"the structure document is not valid JSON ({e})") from None
    return reader.decode(tree)


io  # BytesIO is the documented way to save to / load from memory
