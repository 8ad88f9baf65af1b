"""MNIST-family datasets read from the standard IDX files under a user-given ``root``.

Nothing is downloaded (ember runs without network access). Files are looked up, raw or
``.gz``, in ``root/<ClassName>/raw/`` (torchvision's layout), then ``root/<ClassName>/``,
then ``root/`` itself.

Unlike torchvision, which returns PIL images, an item's image is a ``(28, 28)`` uint8
ember tensor (ember has no PIL dependency); pass a ``transform`` such as
``ember.datasets.transforms.ToTensor()`` for a ``(1, 28, 28)`` float32 tensor in [0, 1].
"""
from __future__ import annotations

import os

from ..frontend.creation import from_numpy
from ..utils.data.dataset import Dataset
from .idx import read_idx

__all__ = ["MNIST", "FashionMNIST", "KMNIST"]


class MNIST(Dataset):
    """``MNIST(root, train=True, transform=None, target_transform=None, download=False)``.

    ``data`` is the uint8 image tensor ``(N, 28, 28)``, ``targets`` the int64 labels;
    ``dataset[i]`` is ``(transform(image), target_transform(int label))``."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    training_file = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    test_file = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        name = type(self).__name__
        if download:
            raise RuntimeError(f"{name}: download=True is not supported (ember never downloads "
                               f"at run time). Place the IDX files {self._names(train)} (raw or "
                               f".gz) under {self._dirs(os.fspath(root))[0]} and pass "
                               f"download=False")
        self.root = os.fspath(os.path.expanduser(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        img_path, lbl_path = (self._find(f) for f in self._names(train))
        images, labels = read_idx(img_path), read_idx(lbl_path)
        if images.ndim != 3:
            raise ValueError(f"{name}: {img_path} holds an array of shape {images.shape}; "
                             f"expected (N, rows, cols) images")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"{name}: {lbl_path} holds labels of shape {labels.shape} for "
                             f"{images.shape[0]} images in {img_path}")
        self.data = from_numpy(images.astype("uint8", copy=False))
        self._labels = labels.astype("int64")
        self.targets = from_numpy(self._labels)

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _names(self, train):
        return self.training_file if train else self.test_file

    def _dirs(self, root):
        cls = type(self).__name__
        return [os.path.join(root, cls, "raw"), os.path.join(root, cls), root]

    def _find(self, fname):
        dirs = self._dirs(self.root)
        for d in dirs:
            for f in (fname, fname + ".gz"):
                p = os.path.join(d, f)
                if os.path.isfile(p):
                    return p
        wanted = ", ".join(f"{f}[.gz]" for f in self._names(self.train))
        raise RuntimeError(f"{type(self).__name__}: dataset not found: expected {wanted} in "
                           f"one of {dirs} (missing {fname}). ember does not download data; "
                           f"copy the IDX files there")

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        img, target = self.data[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    {self.extra_repr()}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same files and layout as MNIST, clothing classes."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: same files and layout as MNIST, cursive Japanese classes."""

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
