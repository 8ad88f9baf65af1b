"""Running a compiled graph: the buffer table, the arena pool, outputs, steps.

``GraphRunner`` is backend-neutral and imports no compiler: it is given

* ``slots``: one per buffer, ``(class, shape, numpy dtype, extra)`` with class ``input``
  (extra: graph input position; contiguous, or read in place through the byte strides
  ``input_strides`` gives for its slot), ``const`` (extra: the array), ``output`` (extra: None,
  or the position of the input it updates in place: then it is written straight into
  that input's storage when the caller's array is contiguous and writeable, and the
  returned array IS that input array) or ``temp`` (extra: byte offset in the arena);
* ``steps``: ``("native", address)`` (``int32 f(void **table)``, a native entry point that
  runs consecutive kernels on the whole buffer table and returns 0, or the code of a
  failed index check: ``errors`` maps it to the IndexError message) or ``("py", fn)`` with
  ``fn(arrays)`` reading and writing numpy views of the table (an interp group);
* ``results``: per graph output, ``("buf", slot)``, ``("input", position)`` or
  ``("const", array)``.

Per call the table of data pointers is refreshed only where it changes: input pointers
(compared with the last call's), fresh output arrays. Outputs never alias the arena: the
next call would overwrite a tensor the caller still holds. Large outputs come from a
size-bucketed pool (``buffers.OutputPool``) that gets an array back once nothing but the
pool references it, which saves the page faults of a fresh large allocation.

Profiling: with ``EMBER_PROFILE=1`` in the environment when a program is built, the
llvm backend gives every kernel its own native entry point and the runner records each
step's wall time per call in ``step_times`` ({step name: [seconds, ...]}); every such
runner is listed in ``PROFILED``. ``python -m bench profile NAME`` prints the table.

Concurrency: an arena (with its pointer table) is taken from a free list for the duration
of a call, so two threads calling one program at once each get their own; native calls
release the GIL.
"""
from __future__ import annotations

import ctypes
import threading
import time

import numpy as np

from . import buffers

_ENTRY = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)
PROFILED = []     # runners built with step names (EMBER_PROFILE=1), in creation order


class _Arena:
    __slots__ = ("mem", "table", "views", "last_inputs", "ranges", "inplace_ok")

    def __init__(self, runner):
        n = len(runner.slots)
        self.mem = buffers.alloc((max(runner.arena_bytes, 64),), np.uint8)
        self.table = (ctypes.c_void_p * max(n, 1))()
        self.views = [None] * n
        base = buffers.data_pointer(self.mem)
        for i, (cls, shape, dt, extra) in enumerate(runner.slots):
            if cls == "temp":
                nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
                self.views[i] = self.mem[extra:extra + nbytes].view(dt).reshape(shape)
                self.table[i] = base + extra
            elif cls == "const":
                self.views[i] = extra
                self.table[i] = buffers.data_pointer(extra)
        self.last_inputs = [None] * n
        self.ranges = [(0, 0)] * n
        self.inplace_ok = [False] * len(runner.inplace)


class GraphRunner:
    def __init__(self, slots, steps, results, keepalive=None, name="graph",
                 step_names=None, errors=None, input_strides=None):
        self.slots = list(slots)
        self.errors = dict(errors or {})
        # input slot -> byte strides it was compiled for (read in place, never copied)
        self.input_strides = dict(input_strides or {})
        self.step_names = list(step_names) if step_names is not None else None
        self.step_times = None
        if self.step_names is not None:
            self.step_times = {n: [] for n in self.step_names}
            PROFILED.append(self)
        self.steps = [(k, _ENTRY(v) if k == "native" else v) for k, v in steps]
        self.results = list(results)
        self.arena_bytes = max([extra + int(np.prod(shape, dtype=np.int64)) * dt.itemsize
                                for cls, shape, dt, extra in self.slots if cls == "temp"]
                               or [0])
        self.inputs = [(i, s[3], s[1], s[2]) for i, s in enumerate(self.slots)
                       if s[0] == "input"]
        self.outputs = [(i, s[1], s[2]) for i, s in enumerate(self.slots)
                        if s[0] == "output" and s[3] is None]
        # large outputs come from the pool (pointer cached with the array); the small ones
        # share one fresh block per call: one allocation and one pointer lookup instead
        # of one each (~1 us per array)
        self.output_pooled, self.output_small, off = [], [], 0
        for i, shape, dt in self.outputs:
            dt = np.dtype(dt)
            nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
            if nbytes >= buffers.POOL_MIN_BYTES:
                self.output_pooled.append((i, (tuple(shape), dt)))
            else:
                self.output_small.append((i, tuple(shape), dt, off))
                off += -(-max(nbytes, 1) // buffers.ALIGN) * buffers.ALIGN
        self.small_bytes = off
        # outputs that update an input in place: written straight into that input's
        # storage when the caller's array is contiguous and writeable
        self.inplace = [(i, s[1], s[2], s[3]) for i, s in enumerate(self.slots)
                        if s[0] == "output" and s[3] is not None]
        self.input_slot = {pos: i for i, pos, _, _ in self.inputs}
        self.input_slots = [i for i, _, _, _ in self.inputs]
        self.keepalive = keepalive
        self.name = name
        self.pool = buffers.OutputPool()
        self._free = []
        self._lock = threading.Lock()
        # per-call result assembly, planned once: a slot returned a second time is copied
        # (outputs never alias); when every result is a distinct buffer, a plain gather
        seen, self.results_plan = set(), []
        for kind, v in self.results:
            self.results_plan.append((kind, v, kind == "buf" and v in seen))
            if kind == "buf":
                seen.add(v)
        self.plain_results = [v for _, v in self.results] if all(
            k == "buf" and not again for k, _, again in self.results_plan) else None
        # views the call binds, released after it (the arena must not keep them alive)
        self.bound_slots = [i for i, _, _ in self.outputs] + \
            [i for i, _, _, _ in self.inplace] + [i for i, _, _, _ in self.inputs]

    @property
    def all_native(self):
        """Whether every step is native code (no interp group)."""
        return all(k == "native" for k, _ in self.steps)

    def _pooled_or_empty(self, shape, dt):
        if int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize >= \
                buffers.POOL_MIN_BYTES:
            return self.pool.get_with_pointer((tuple(shape), np.dtype(dt)))
        o = np.empty(shape, dt)
        return o, buffers.data_pointer(o)

    def _arena(self):
        with self._lock:
            if self._free:
                return self._free.pop()
        return _Arena(self)

    def __call__(self, arrays):
        ar = self._arena()
        try:
            return self._run(ar, arrays)
        finally:
            with self._lock:
                self._free.append(ar)

    def _check_inplace(self, ar, arrays, changed):
        """An update may go straight into its input's storage only if that array is the
        contiguous, writeable one the kernels read and no OTHER input overlaps it (a view
        of it would be read after the write). Re-checked only for inputs that changed."""
        slot_of = self.input_slot
        ranges = ar.ranges
        for k, (_, _, dt, pos) in enumerate(self.inplace):
            t = slot_of[pos]
            a = arrays[pos]
            ok = (ar.last_inputs[t] is a and a.flags.writeable and a.dtype == dt and
                  t not in self.input_strides)
            if ok:
                lo, hi = ranges[t]
                others = self.input_slots if t in changed else changed
                ok = not any(j != t and ranges[j][0] < hi and lo < ranges[j][1]
                             for j in others)
            ar.inplace_ok[k] = ok

    def _fail(self, code):
        """A native entry returned ``code``: an index check found an out-of-range index
        (the entry stopped right after the kernel that checked it)."""
        raise IndexError(self.errors.get(code, f"compiled {self.name}: native check {code} "
                                               f"failed"))

    def _run_timed(self, table, views):
        clock = time.perf_counter
        for (kind, fn), name in zip(self.steps, self.step_names):
            t0 = clock()
            rc = fn(table) if kind == "native" else fn(views)
            self.step_times[name].append(clock() - t0)
            if kind == "native" and rc:
                self._fail(rc)

    def _run(self, ar, arrays):
        table, views, last = ar.table, ar.views, ar.last_inputs
        changed = []
        for i, pos, shape, dt in self.inputs:
            a = arrays[pos]
            if a.shape != shape or a.dtype != dt:
                raise ValueError(f"compiled {self.name}: input {pos} was compiled for "
                                 f"{dt}{list(shape)}, got {a.dtype}{list(a.shape)}")
            if a is last[i]:          # the array the last call bound: same data pointer
                views[i] = a
                continue
            span = a.nbytes
            if i in self.input_strides:
                if a.strides != self.input_strides[i]:
                    raise ValueError(f"compiled {self.name}: input {pos} was compiled for "
                                     f"strides {self.input_strides[i]}, got {a.strides}")
                span = sum((n - 1) * x for n, x in zip(a.shape, a.strides)) + a.itemsize \
                    if a.size else 0
            elif not a.flags.c_contiguous:
                a = np.ascontiguousarray(a)
            views[i] = a
            if last[i] is not a:      # a copy made above is never the last one: rebound
                last[i] = a
                p = buffers.data_pointer(a)
                table[i] = p
                ar.ranges[i] = (p, p + span)
                changed.append(i)
        if changed and self.inplace:
            self._check_inplace(ar, arrays, changed)
        pool = self.pool
        pointer = buffers.data_pointer
        if self.output_small:
            block = np.empty(self.small_bytes + buffers.ALIGN, np.uint8)
            base = pointer(block)
            pad = (-base) % buffers.ALIGN
            base += pad
            ndarray = np.ndarray
            for i, shape, dt, off in self.output_small:
                views[i] = ndarray(shape, dt, block, pad + off)
                table[i] = base + off
        get = pool.get_with_pointer
        for i, key in self.output_pooled:
            views[i], table[i] = get(key)
        slot_of, ranges, ok = self.input_slot, ar.ranges, ar.inplace_ok
        for k, (i, shape, dt, pos) in enumerate(self.inplace):
            if ok[k]:   # written into the input's own storage: its pointer is cached
                views[i] = arrays[pos]
                table[i] = ranges[slot_of[pos]][0]
            else:
                views[i], table[i] = self._pooled_or_empty(shape, dt)
        if self.step_times is None:
            for kind, fn in self.steps:
                if kind == "native":
                    rc = fn(table)
                    if rc:
                        self._fail(rc)
                else:
                    fn(views)
        else:
            self._run_timed(table, views)
        if self.plain_results:
            res = [views[v] for v in self.plain_results]
        else:
            res = []
            for kind, v, again in self.results_plan:
                if kind == "buf":      # a buffer returned twice: outputs never alias
                    res.append(views[v].copy() if again else views[v])
                elif kind == "input":
                    res.append(np.array(arrays[v], copy=True))
                else:
                    res.append(np.array(v, copy=True))
        for i in self.bound_slots:
            views[i] = None
        return res
