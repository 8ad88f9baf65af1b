"""``ember.utils.data.datasets``: the dataset readers of ``ember.datasets``."""
from ...datasets import *  # noqa: F401,F403
from ...datasets import __all__  # noqa: F401
