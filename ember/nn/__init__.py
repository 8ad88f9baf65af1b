"""``ember.nn``: modules, parameters, functional ops, init and utils (PyTorch's layout)."""
from .parameter import Parameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import functional, init, utils  # noqa: F401
