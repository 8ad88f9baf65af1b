"""The few torchvision-style transforms the MNIST tutorials need, on ember tensors:
``Compose``, ``ToTensor``, ``Normalize``, ``Lambda``."""
from __future__ import annotations

import numpy as np

from ..frontend.creation import as_tensor, tensor
from ..frontend.tensor import Tensor
from ..ops import dtypes as D

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({body}\n)"


class ToTensor:
    """An (H, W) or (H, W, C) image (uint8 tensor or numpy array) to a float32 (C, H, W)
    tensor; uint8 values are scaled to [0, 1] as torchvision does."""

    def __call__(self, pic):
        if isinstance(pic, np.ndarray):
            pic = as_tensor(pic)
        if not isinstance(pic, Tensor):
            raise TypeError(f"ToTensor: expected an ember tensor or numpy array image, got "
                            f"{type(pic).__name__}")
        if pic.dim() not in (2, 3):
            raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) image, got shape "
                             f"{tuple(pic.shape)}")
        x = pic.unsqueeze(0) if pic.dim() == 2 else pic.permute(2, 0, 1)
        if x.dtype is D.uint8:
            return x.to(D.float32) / 255.0
        return x.to(D.float32) if not x.dtype.is_floating_point else x

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a (C, H, W) or (N, C, H, W) tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = list(np.atleast_1d(mean)), list(np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero ({self.std}), leading to "
                             f"division by zero")

    def __call__(self, x):
        if x.dim() < 3:
            raise ValueError(f"Normalize: expected a (C, H, W) tensor, got shape "
                             f"{tuple(x.shape)}")
        mean = tensor(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = tensor(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: argument should be callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return "Lambda()"
