"""ember.passes: graph -> graph transformations over ``ember.ir`` (imports only ir and
ops, never the frontend). Each pass returns a new graph; none mutates its input.

    dce, cse, constant_fold, simplify      clean-ups
    autodiff, partition                    symbolic backward, forward/backward split
    fuse                                   fusion groups (one kernel each)
    run_passes, optimize                   pipelines, with the verifier after each pass
"""
from .autodiff import Joint, autodiff
from .cse import cse
from .dce import dce
from .fold import constant_fold
from .fusion import ROW_LIMIT, fuse
from .log import PassLog
from .partition import Partition, Residual, partition
from .pipeline import DEFAULT, optimize, run_passes
from .simplify import simplify

__all__ = ["dce", "cse", "constant_fold", "simplify", "autodiff", "Joint", "partition",
           "Partition", "Residual", "fuse", "ROW_LIMIT", "PassLog", "run_passes", "optimize",
           "DEFAULT"]
