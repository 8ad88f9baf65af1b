"""The native parallel-for: generated code calls libgomp's ``GOMP_parallel`` through a slot
and partitions the outer axis statically (see codegen/llvm/render.py), so a kernel's result
is bitwise the same for every thread count. ``EMBER_NUM_THREADS`` sets the default count
(else the CPUs this process may use); ``EMBER_PARALLEL=0`` or a missing libgomp keeps every
kernel on the calling thread.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass

_LOCK = threading.Lock()
_GOMP = []
_NUM_THREADS = [None]


@dataclass(frozen=True)
class Gomp:
    path: str
    parallel: int
    thread_num: int
    num_threads: int


def gomp():
    with _LOCK:
        if _GOMP:
            return _GOMP[0]
        info = None
        if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
            # libgomp reads this once, when it loads. Its default (spin ~300k iterations
            # at each barrier) makes a compiled MLP step 10x slower on the shared 2-core
            # machines (8 ms vs 0.55 ms at batch 32: spinning workers fight OpenBLAS's
            # threads and other processes); passive waiting costs a few us per region.
            os.environ["OMP_WAIT_POLICY"] = "passive"
        if os.environ.get("EMBER_PARALLEL", "1") != "0":
            for name in ("libgomp.so.1", ctypes.util.find_library("gomp")):
                if not name:
                    continue
                try:
                    lib = ctypes.CDLL(name)
                    addr = lambda s: ctypes.cast(getattr(lib, s), ctypes.c_void_p).value  # noqa
                    info = Gomp(name, addr("GOMP_parallel"), addr("omp_get_thread_num"),
                                addr("omp_get_num_threads"))
                    break
                except (OSError, AttributeError):
                    continue
        _GOMP[:] = [info]
        return info


def default_num_threads():
    env = os.environ.get("EMBER_NUM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def get_num_threads():
    return _NUM_THREADS[0] or default_num_threads()


def set_num_threads(n):
    """The thread count libraries loaded from now on start with."""
    _NUM_THREADS[0] = max(1, int(n))
