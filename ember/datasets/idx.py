"""Reader for the IDX format of the MNIST family (raw or gzip-compressed).

Layout: two zero bytes, a type code, the number of dimensions, then each dimension as a
big-endian uint32, then the data, big-endian, C order.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """A file that is not a well-formed IDX file."""


def read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":          # gzip magic, whatever the file name says
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return raw


def parse_idx(raw, name="<bytes>"):
    """The numpy array stored in IDX bytes ``raw`` (native byte order)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{name}: not an IDX file (bad magic number {raw[:4]!r})")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise IDXError(f"{name}: unknown IDX data type code 0x{code:02x}")
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise IDXError(f"{name}: truncated IDX header ({len(raw)} bytes, {ndim} dims)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dt = np.dtype(_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    if len(raw) - head != expected:
        raise IDXError(f"{name}: IDX shape {shape} of {dt.name} needs {expected} data bytes "
                       f"but the file has {len(raw) - head} (truncated or corrupt)")
    arr = np.frombuffer(raw, dtype=dt, offset=head).reshape(shape)
    return arr.astype(dt.newbyteorder("="))


def read_idx(path):
    return parse_idx(read_bytes(path), os.fspath(path))


def write_idx(path, arr, compress=None):
    """Write ``arr`` as an IDX file (gzip if ``compress`` or the name ends with .gz);
    used by tests and for making small fixture files."""
    arr = np.asarray(arr)
    code = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}.get(arr.dtype)
    if code is None:
        raise TypeError(f"write_idx: IDX cannot store dtype {arr.dtype}")
    raw = (bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
           + arr.astype(arr.dtype.newbyteorder(">")).tobytes())
    path = os.fspath(path)
    if compress or (compress is None and path.endswith(".gz")):
        raw = gzip.compress(raw)
    with open(path, "wb") as f:
        f.write(raw)
