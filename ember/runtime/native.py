"""Loading native code and calling kernels, with ctypes only (no llvmlite, no compiler).

* ``load_shared(code)``: dlopen a shared library from bytes (a unique temporary file,
  unlinked at once), returning a ``SymbolSource``;
* ``bind_slots(src)``: fill the library's slots (abi.py) with BLAS and libgomp addresses
  and the thread count;
* ``KernelCallable``: a kernel with its signature; ``kernel(*arrays)`` checks every array
  against the compiled dtype and shape (so a shape the kernel was not compiled for never
  reaches native code), ``kernel.bind(*arrays)`` caches the pointer array for repeated
  calls (``arr.ctypes.data`` costs ~0.8 us per array, more than the call itself).
CFUNCTYPE calls release the GIL, so kernels run concurrently with other Python threads.
"""
from __future__ import annotations

import ctypes
import os
import tempfile
import uuid
import warnings

import numpy as np

from . import abi, blas, parallel

_KERNEL_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_KEEP_FDS = []


class NativeError(RuntimeError):
    pass


def np_dtype(name):
    if name == "bool":
        return np.dtype(np.bool_)
    if name == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


class SymbolSource:
    """Where symbols come from: a dlopen'ed library or an in-process JIT engine."""

    def __init__(self, function_address, global_address, keepalive=None):
        self._fa, self._ga = function_address, global_address
        self.keepalive = keepalive

    def function(self, name):
        return self._fa(name)

    def global_address(self, name):
        return self._ga(name)


def load_shared(code: bytes, name="ember-kernels") -> SymbolSource:
    """dlopen a shared library given as bytes.

    glibc returns an already-loaded library when the *path* matches one loaded before, so
    every load needs a path never used before: a uniquely named temporary file, unlinked
    right after dlopen (the mapping keeps its inode alive, so the inode cannot be reused
    either). Where the temp dir is mounted noexec, an anonymous memfd is used instead and
    its descriptor kept open for good (so /proc/self/fd/N is never reused)."""
    fd, path = tempfile.mkstemp(prefix=f"{name}-{uuid.uuid4().hex}-", suffix=".so")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(code)
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL | os.RTLD_NOW)
        except OSError:
            if not hasattr(os, "memfd_create"):
                raise
            mfd = os.memfd_create(name, 0)
            os.write(mfd, code)
            _KEEP_FDS.append(mfd)
            lib = ctypes.CDLL(f"/proc/self/fd/{mfd}", mode=os.RTLD_LOCAL | os.RTLD_NOW)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass

    def fa(sym):
        try:
            return ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value
        except AttributeError:
            raise KeyError(f"native library has no function {sym!r}") from None

    def ga(sym):
        try:
            return ctypes.addressof(ctypes.c_void_p.in_dll(lib, sym))
        except ValueError:
            raise KeyError(f"native library has no global {sym!r}") from None

    return SymbolSource(fa, ga, keepalive=lib)


def set_slot_ptr(src, name, value):
    try:
        addr = src.global_address(name)
    except KeyError:
        return False
    ctypes.c_void_p.from_address(addr).value = value
    return True


def set_slot_int(src, name, value):
    try:
        addr = src.global_address(name)
    except KeyError:
        return False
    ctypes.c_int32.from_address(addr).value = int(value)
    return True


_WARNED = []


def bind_slots(src, num_threads=None, needs_blas=False):
    """Point the library's extern slots at BLAS and libgomp (null when absent: the code
    then falls back to its generated GEMM / runs single-threaded)."""
    b = blas.find()
    if b is None and needs_blas and not _WARNED:
        _WARNED.append(True)
        warnings.warn("ember: no BLAS library found (numpy's bundled OpenBLAS or EMBER_BLAS); "
                      "compiled matmuls use the generated loop GEMM, which is much slower",
                      RuntimeWarning, stacklevel=3)
    set_slot_ptr(src, abi.SGEMM, b.sgemm if b else None)
    set_slot_ptr(src, abi.DGEMM, b.dgemm if b else None)
    g = parallel.gomp()
    set_slot_ptr(src, abi.GOMP_PARALLEL, g.parallel if g else None)
    set_slot_ptr(src, abi.OMP_THREAD_NUM, g.thread_num if g else None)
    set_slot_ptr(src, abi.OMP_NUM_THREADS, g.num_threads if g else None)
    n = parallel.get_num_threads() if num_threads is None else num_threads
    set_slot_int(src, abi.NUM_THREADS, n if g else 1)


class KernelCallable:
    """One compiled kernel (or extern) with its signature."""

    def __init__(self, address: int, signature: dict, keepalive=None):
        self.address = address
        self.signature = signature
        self.name = signature["name"]
        self._fn = _KERNEL_TYPE(address)
        self._keep = keepalive
        self._params = [(p["name"], np_dtype(p["dtype"]), tuple(p["shape"]), p["role"])
                        for p in signature["params"]]

    def _check(self, arrays):
        if len(arrays) != len(self._params):
            raise NativeError(f"kernel {self.name}: expected {len(self._params)} buffers "
                              f"({', '.join(p[0] for p in self._params)}), got {len(arrays)}")
        for a, (pname, dt, shape, role) in zip(arrays, self._params):
            if not isinstance(a, np.ndarray):
                raise NativeError(f"kernel {self.name}: buffer {pname!r} must be a numpy "
                                  f"array, got {type(a).__name__}")
            if a.dtype != dt or a.shape != shape or not a.flags.c_contiguous:
                raise NativeError(
                    f"kernel {self.name}: buffer {pname!r} was compiled for a contiguous "
                    f"{dt} array of shape {shape}, got {a.dtype} {a.shape}"
                    f"{'' if a.flags.c_contiguous else ' (not contiguous)'}")
            if role != "in" and not a.flags.writeable:
                raise NativeError(f"kernel {self.name}: output {pname!r} is read-only")

    def __call__(self, *arrays):
        self._check(arrays)
        args = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
        self._fn(args)

    def bind(self, *arrays):
        """A zero-argument callable with the pointers cached (the arrays are kept alive)."""
        self._check(arrays)
        args = (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
        fn, keep = self._fn, arrays

        def call():
            fn(args)
        call.arrays = keep
        return call


def program_callables(src: SymbolSource, signatures):
    return {s["name"]: KernelCallable(src.function(s["name"]), s, keepalive=src)
            for s in signatures}
