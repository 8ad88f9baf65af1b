"""``ember.utils.data``: datasets, samplers and the DataLoader (PyTorch's
``torch.utils.data``)."""
from .dataset import (Dataset, IterableDataset, TensorDataset, StackDataset,  # noqa: F401
                      ConcatDataset, ChainDataset, Subset, random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler,  # noqa: F401
                      SubsetRandomSampler, WeightedRandomSampler, BatchSampler)
from .distributed import DistributedSampler  # noqa: F401
from ._collate import default_collate, default_convert  # noqa: F401
from ._worker import get_worker_info, WorkerInfo  # noqa: F401
from .dataloader import DataLoader  # noqa: F401
from . import datasets  # noqa: F401
