"""Buffers for native code: 64-byte aligned numpy arrays; large ones come from anonymous
mmap with transparent-huge-page advice (THP is ``madvise``-only on these machines, and a
fresh 64 MB buffer faulted in 4 KB pages costs more than the kernel that fills it; see
../shared/notes/anchor-benchmarks.md). The program layer's arena and output pools build on
``alloc``."""
from __future__ import annotations

import mmap

import numpy as np

ALIGN = 64
HUGE_MIN_BYTES = 2 << 20


def alloc(shape, dtype, *, zero=False):
    """A C-contiguous array whose data pointer is 64-byte aligned."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes >= HUGE_MIN_BYTES:
        size = -(-nbytes // mmap.PAGESIZE) * mmap.PAGESIZE
        mm = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        if hasattr(mm, "madvise") and hasattr(mmap, "MADV_HUGEPAGE"):
            try:
                mm.madvise(mmap.MADV_HUGEPAGE)
            except OSError:  # pragma: no cover - kernel without THP
                pass
        # anonymous mappings are already zero
        return np.frombuffer(mm, dtype=dtype, count=nbytes // dtype.itemsize).reshape(shape)
    raw = np.zeros(nbytes + ALIGN, np.uint8) if zero else np.empty(nbytes + ALIGN, np.uint8)
    off = (-raw.ctypes.data) % ALIGN
    return raw[off:off + nbytes].view(dtype).reshape(shape)


def data_pointer(a: np.ndarray) -> int:
    """The data address; cache it (``a.ctypes.data`` costs ~0.8 us per call)."""
    return a.__array_interface__["data"][0]


POOL_MIN_BYTES = 1 << 18
POOL_PER_SHAPE = 4


class OutputPool:
    """Size-bucketed recycling of large output arrays. An array handed out returns to
    service once nothing but the pool references it (the caller dropped every tensor and
    view of it), which saves the page faults of a fresh large allocation per call; small
    outputs are plain ``np.empty`` (cheaper than any bookkeeping)."""

    def __init__(self):
        import threading
        self._buckets = {}
        self._lock = threading.Lock()

    def get_with_pointer(self, key):
        """(array, data pointer) for a pooled ``key = (shape, dtype)`` known to be at least
        POOL_MIN_BYTES (the runner decides that once): the per-call path, with no size
        arithmetic and the pointer cached with the array."""
        import sys
        with self._lock:
            lst = self._buckets.setdefault(key, [])
            for pair in lst:
                # references: the pair, getrefcount's argument
                if sys.getrefcount(pair[0]) == 2:
                    return pair
            a = alloc(*key)
            pair = (a, data_pointer(a))
            if len(lst) < POOL_PER_SHAPE:
                lst.append(pair)
            return pair

    def get(self, shape, dtype):
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes < POOL_MIN_BYTES:
            return np.empty(shape, dtype)
        with self._lock:
            return self.get_with_pointer((tuple(shape), dtype))[0]
