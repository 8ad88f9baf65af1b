"""``DataLoader``: batches from a dataset, in this process or in worker processes
(PyTorch's ``torch.utils.data.DataLoader`` semantics and option checks).

With ``num_workers > 0`` each worker gets index batches round-robin on its own queue and
answers on one shared queue; the parent hands batches out in sampler order (unless
``in_order=False``), keeping ``prefetch_factor`` tasks per worker in flight. Workers are
started per epoch, or once with ``persistent_workers=True`` (then each new epoch tells them
to resume), with the ``fork`` start method where the platform has it.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue

from ...frontend import random as R
from . import _worker as W
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]

_STATUS_POLL_S = 1.0   # how often a waiting parent checks that its workers are alive


class _InfiniteConstantSampler(Sampler):
    """The index stream of an IterableDataset: ``None`` forever (the data decides the end)."""

    def __iter__(self):
        while True:
            yield None


def _draw_base_seed(generator):
    """A 62-bit seed for this epoch's workers, from the loader's generator (PyTorch draws
    it even without workers, so worker count never changes the sampler's random stream)."""
    hi, lo = R.randint(0, 1 << 31, (2,), generator=generator).tolist()
    return (hi << 31) | lo


def _mp_context(ctx):
    if ctx is None:
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else None)
    if isinstance(ctx, str):
        if ctx not in multiprocessing.get_all_start_methods():
            raise ValueError(f"DataLoader: multiprocessing_context option should specify a "
                             f"valid start method in {multiprocessing.get_all_start_methods()}"
                             f", but got multiprocessing_context={ctx!r}")
        return multiprocessing.get_context(ctx)
    if not hasattr(ctx, "Process") or not hasattr(ctx, "Queue"):
        raise TypeError(f"DataLoader: multiprocessing_context option should be a valid context "
                        f"object or a string specifying the start method, but got "
                        f"multiprocessing_context={ctx!r}")
    return ctx


class DataLoader:
    """Combines a dataset and a sampler and iterates over batches.

    Arguments, defaults and incompatibilities are PyTorch's. ``pin_memory`` and
    ``pin_memory_device`` are accepted and ignored (ember tensors live on the CPU)."""

    _LOCKED = ("dataset", "batch_size", "batch_sampler", "sampler", "drop_last")
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             f"disable multiprocessing (got num_workers={num_workers})")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative (got timeout={timeout})")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got num_workers={num_workers}")
            multiprocessing_context = _mp_context(multiprocessing_context)

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if isinstance(shuffle, bool) and shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterator = None
        self.__initialized = True

    def __setattr__(self, attr, val):
        if self.__initialized and attr in self._LOCKED:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self):
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = _draw_base_seed(loader.generator)
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return data


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = W.make_fetcher(loader._is_iterable, loader.dataset,
                                       loader._auto_collation, loader.collate_fn,
                                       loader.drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


class _MultiProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        ctx = loader.multiprocessing_context or _mp_context(None)
        n = self._n = loader.num_workers
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._shutdown = True           # until the workers exist
        self._pid = os.getpid()         # a forked child must never shut these workers down
        self._done_event = ctx.Event()
        self._data_queue = ctx.Queue()
        self._index_queues, self._workers = [], []
        for wid in range(n):
            iq = ctx.Queue()
            iq.cancel_join_thread()
            w = ctx.Process(target=W.worker_loop, daemon=True,
                            args=(loader._is_iterable, loader.dataset, iq, self._data_queue,
                                  self._done_event, loader._auto_collation, loader.collate_fn,
                                  loader.drop_last, self._base_seed, loader.worker_init_fn,
                                  wid, n))
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
        self._shutdown = False
        self._persistent = loader.persistent_workers
        self._reset(loader, first=True)

    def _reset(self, loader, first=False):
        n = self._n
        self._sampler_iter = iter(loader._index_sampler)
        self._num_yielded = 0
        self._active = [True] * n
        self._cycle = itertools.cycle(range(n))
        self._send_idx = self._rcvd_idx = 0
        self._task_info = {}          # task id -> (worker,) or (worker, data)
        if not first:
            # persistent workers: restart their iterators, and drop whatever is left of the
            # previous epoch (each worker's queue is FIFO, so its ack comes after it)
            for q in self._index_queues:
                q.put(W.RESUME)
            pending = n
            while pending:
                idx, _ = self._get_data()
                pending -= idx == W.RESUME
        for _ in range(loader.prefetch_factor * n):
            self._try_put_index()

    def _try_put_index(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._n):
            wid = next(self._cycle)
            if self._active[wid]:
                break
        else:
            return
        self._index_queues[wid].put((self._send_idx, index))
        self._task_info[self._send_idx] = (wid,)
        self._send_idx += 1

    def _next_data(self):
        while True:
            # skip tasks of workers that ended (IterableDataset) and tasks already handed out
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                self._rcvd_idx += 1
                return self._process(data)
            idx, data = self._get_data()
            if isinstance(data, W.IterableStop):
                self._retire(data.worker_id)
                self._task_info.pop(idx, None)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                del self._task_info[idx]
                if idx == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process(data)
            self._task_info[idx] += (data,)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, W.ExceptionWrapper):
            data.reraise()      # the workers live on: a caller may catch and continue
        return data

    def _get_data(self):
        waited = 0.0
        while True:
            step = _STATUS_POLL_S if self._timeout <= 0 else min(_STATUS_POLL_S,
                                                                  self._timeout - waited)
            try:
                return pickle.loads(self._data_queue.get(timeout=step))
            except queue.Empty:
                waited += step
            dead = [w.pid for w, a in zip(self._workers, self._active) if a and not w.is_alive()]
            if dead:
                codes = [w.exitcode for w in self._workers if w.pid in dead]
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) "
                                   f"exited unexpectedly (exit codes {codes})")
            if self._timeout > 0 and waited >= self._timeout:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _retire(self, wid):
        if not self._persistent:        # a persistent worker waits for the next epoch
            self._index_queues[wid].put(None)
        self._active[wid] = False

    def _shutdown_workers(self, wait=True):
        """Stop the workers. ``wait=False`` (from ``__del__``, which may run inside the
        garbage collector at any point) only signals them: they see ``done_event`` within
        a poll interval and exit on their own."""
        if getattr(self, "_shutdown", True) or os.getpid() != self._pid:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for wid, q in enumerate(self._index_queues):
                q.put(None)         # also to idle persistent workers; extra Nones are harmless
                self._active[wid] = False
            if not wait:
                return
            for w in self._workers:
                w.join(timeout=2.0)
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=1.0)
            for q in self._index_queues:
                q.close()
            self._data_queue.cancel_join_thread()
            self._data_queue.close()
        except Exception:       # interpreter shutdown: best effort only
            pass

    def __del__(self):
        self._shutdown_workers(wait=False)
