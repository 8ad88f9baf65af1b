"""``ember.utils``: PyTorch's ``torch.utils`` surface (``data``)."""
from . import data  # noqa: F401
