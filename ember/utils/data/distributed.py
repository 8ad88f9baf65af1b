"""``DistributedSampler``: one replica's shard of a dataset (PyTorch's semantics).

ember has no process groups, so ``num_replicas`` and ``rank`` must be given explicitly.
"""
from __future__ import annotations

import math

from ...frontend import random as R
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices ``rank, rank + num_replicas, ...`` of a (per-epoch shuffled) index list.

    Without ``drop_last`` the list is padded by repeating its head so every replica gets
    ``ceil(N / num_replicas)`` samples; with it, the tail is cut so every replica gets
    ``floor(N / num_replicas)``. Shards of one epoch are disjoint (before padding) and
    cover the dataset. Call ``set_epoch(e)`` each epoch so shuffling differs per epoch but
    agrees across replicas (it is seeded by ``seed + epoch``)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            raise RuntimeError("DistributedSampler: ember has no distributed process group; "
                               "pass num_replicas= and rank= explicitly")
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be a positive integer, "
                             f"got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = R.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = R.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
