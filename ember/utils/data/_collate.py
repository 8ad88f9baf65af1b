"""``default_collate`` / ``default_convert``: turn a list of samples into a batch
(PyTorch's ``torch.utils.data._utils.collate``).

Tensors are stacked along a new first dimension; numpy arrays and numpy scalars become
tensors and are stacked; Python floats become a float64 tensor, ints an int64 tensor,
bools a bool tensor; strings and bytes stay lists; mappings, namedtuples and sequences are
collated field by field (tuples become lists, as in PyTorch).
"""
from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ...frontend.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def _rebuild_mapping(elem, items):
    """Keep the batch's mapping type when it can be rebuilt from a dict."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(items)
            return clone
        return type(elem)(items)
    except TypeError:
        return items


def _numpy_ok(arr):
    return arr.dtype.kind not in "SaUO"


def default_collate(batch):
    from ...frontend.creation import as_tensor, tensor
    from ...frontend.functional.shape import stack
    from ...ops import dtypes as D
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        batch = list(batch)
    if not batch:
        raise RuntimeError("default_collate: received an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(not isinstance(b, Tensor) for b in batch):
            raise TypeError("default_collate: batch mixes tensors and non-tensors: "
                            + str(sorted({type(b).__name__ for b in batch})))
        return stack(batch, 0)
    if isinstance(elem, np.ndarray) and not isinstance(elem, np.generic):
        if not _numpy_ok(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        if not _numpy_ok(np.asarray(elem)):
            raise TypeError(_ERR.format(np.asarray(elem).dtype))
        return as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=D.bool_)
    if isinstance(elem, float):
        return tensor(batch, dtype=D.float64)
    if isinstance(elem, int):
        return tensor(batch, dtype=D.int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: default_collate([d[key] for d in batch])
                                       for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size; got sizes " + str([len(b) for b in batch]))
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns      # PyTorch returns tuples of a batch as a list
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, c in enumerate(columns):
                    clone[i] = c
                return clone
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """The no-batching counterpart: numpy arrays/scalars become tensors, containers are
    converted element by element, anything else is returned unchanged."""
    from ...frontend.creation import as_tensor
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and not isinstance(data, np.generic):
        return as_tensor(data) if _numpy_ok(data) else data
    if isinstance(data, np.generic):
        return as_tensor(np.asarray(data)) if _numpy_ok(np.asarray(data)) else data
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
