"""The worker-process side of a multi-process ``DataLoader``.

Each worker receives ``(task_id, indices)`` on its own index queue and answers
``(task_id, batch)`` on the shared result queue. Batches cross the process boundary by
pickling, and a Tensor pickles as its numpy array plus dtype (``Tensor.__reduce_ex__``),
so the parent rewraps plain arrays. A worker seeds ``random``, numpy's global RNG and
ember's default generator from ``base_seed + worker_id`` before running
``worker_init_fn``; ``base_seed`` is drawn from the loader's generator once per epoch.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``,
    ``seed`` and this worker's copy of ``dataset``. Read-only."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info():
    """The current worker's ``WorkerInfo``, or ``None`` in the main process. Use it in an
    ``IterableDataset.__iter__`` to give each worker its own shard."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the parent with its traceback text."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        try:            # a class the parent cannot import becomes RuntimeError
            pickle.dumps(self.exc_type)
        except Exception:
            self.exc_type = RuntimeError
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    """KeyError quotes its message; this keeps the traceback readable."""

    def __repr__(self):
        return self


class IterableStop:
    """Sent by a worker whose ``IterableDataset`` iterator is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


RESUME = "resume"     # persistent workers: start a new epoch (and acknowledge it)


class MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn

    def fetch(self, index):
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = IterableFetcher if is_iterable else MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


def seed_worker(seed):
    from ...frontend.random import manual_seed
    random.seed(seed)
    manual_seed(seed)
    # numpy wants a 32-bit seed; SeedSequence mixes all bits of ours
    np.random.seed(np.random.SeedSequence(seed & 0xFFFFFFFFFFFFFFFF).generate_state(1)[0])


def _pack(task_id, data, worker_id):
    """Pickle here, not in the queue's feeder thread, whose errors would be lost."""
    try:
        return pickle.dumps((task_id, data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        err = ExceptionWrapper(where=f"in DataLoader worker process {worker_id} while "
                                     f"pickling a batch for the main process")
        return pickle.dumps((task_id, err), protocol=pickle.HIGHEST_PROTOCOL)


def worker_loop(is_iterable, dataset, index_queue, data_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers):
    global _worker_info
    try:
        seed = base_seed + worker_id
        seed_worker(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        ended = False
        parent = os.getppid()
        while True:
            try:
                task = index_queue.get(timeout=1.0)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent:   # stop, or orphaned
                    break
                continue
            if task is None:
                break
            if task == RESUME:
                ended = False
                if init_error is None:
                    try:
                        fetcher = make_fetcher(is_iterable, dataset, auto_collation,
                                               collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
                data_queue.put(_pack(RESUME, None, worker_id))
                continue
            if done_event.is_set() or ended:
                continue        # drain: the parent skips tasks of finished workers
            task_id, index = task
            if init_error is not None:
                data = init_error       # every task reports it: this worker cannot fetch
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if is_iterable:
                        data, ended = IterableStop(worker_id), True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put(_pack(task_id, data, worker_id))
            del data
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
