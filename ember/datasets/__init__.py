"""``ember.datasets``: readers for datasets stored on disk (nothing is downloaded)."""
from .mnist import MNIST, FashionMNIST, KMNIST  # noqa: F401
from . import transforms  # noqa: F401

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "transforms"]
