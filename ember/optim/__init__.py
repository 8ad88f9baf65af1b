"""``ember.optim``: optimizers and learning-rate schedulers with PyTorch's names and
semantics. Updates are ember tensor ops under ``no_grad`` (see ``optimizer.py`` for how
they are written to be traced later); LBFGS is eager-only."""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .sparse_adam import SparseAdam  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .asgd import ASGD  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from . import lr_scheduler  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "SparseAdam", "Adamax", "Adagrad", "Adadelta",
           "ASGD", "RMSprop", "Rprop", "LBFGS", "lr_scheduler"]
