"""Locating a CBLAS gemm for generated code (matmul externs call it through a slot).

Search order: ``EMBER_BLAS`` (a library path, or ``0`` to disable BLAS so the generated
fallback GEMM runs), then the OpenBLAS that numpy's wheel bundles
(``numpy.libs/libscipy_openblas64_*.so``: ``scipy_cblas_sgemm64_``/``dgemm``, ILP64, so all
dimensions are int64 as the generated call passes them), then any library in the process
exporting plain ILP64 ``cblas_sgemm64_``. LP64 BLAS (32-bit ints, e.g. scipy's capsule) is
not used: the generated call passes int64 dimensions.
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from dataclasses import dataclass

_LOCK = threading.Lock()
_FOUND = []  # [BlasInfo | None] once searched


@dataclass(frozen=True)
class BlasInfo:
    path: str
    sgemm: int
    dgemm: int
    int_bits: int
    set_threads: object = None


_NAMES = [("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", "scipy_openblas_set_num_threads64_"),
          ("cblas_sgemm64_", "cblas_dgemm64_", "openblas_set_num_threads64_")]


def _try(path):
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for s, d, t in _NAMES:
        if hasattr(lib, s) and hasattr(lib, d):
            setter = getattr(lib, t, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
            return BlasInfo(path, ctypes.cast(getattr(lib, s), ctypes.c_void_p).value,
                            ctypes.cast(getattr(lib, d), ctypes.c_void_p).value, 64, setter)
    return None


def _candidates():
    env = os.environ.get("EMBER_BLAS")
    if env:
        yield env
        return
    try:
        import numpy
        d = os.path.dirname(numpy.__file__) + ".libs"
        yield from sorted(glob.glob(os.path.join(d, "libscipy_openblas64_*.so*")))
        yield from sorted(glob.glob(os.path.join(os.path.dirname(numpy.__file__), ".dylibs",
                                                 "libscipy_openblas64_*")))
    except ImportError:  # pragma: no cover
        pass
    try:
        import scipy_openblas64
        yield os.path.join(scipy_openblas64.get_lib_dir(),
                           f"lib{scipy_openblas64.get_library()}.so")
    except ImportError:
        pass


def find(refresh=False):
    """The BLAS in use (cached), or None when none was found or ``EMBER_BLAS=0``."""
    with _LOCK:
        if _FOUND and not refresh:
            return _FOUND[0]
        info = None
        if os.environ.get("EMBER_BLAS") != "0":
            for path in _candidates():
                info = _try(path)
                if info:
                    break
        _FOUND[:] = [info]
        return info


def set_num_threads(n):
    """OpenBLAS's own thread count (it runs extern calls; kernels use libgomp)."""
    info = find()
    if info and info.set_threads:
        info.set_threads(int(n))
        return True
    return False
