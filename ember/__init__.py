"""ember: a PyTorch-like deep-learning framework whose second half is a compiler.

``import ember as torch`` gives the familiar namespace. This file only re-exports.
"""
from ._version import __version__  # noqa: F401
from .ops import dtypes as _dt
from .ops.dtypes import DType as dtype  # noqa: F401
from . import frontend as _frontend
from .frontend import Tensor, Size  # noqa: F401
from .frontend.device import Device as device  # noqa: F401
from .frontend.creation import (tensor, as_tensor, asarray, from_numpy, zeros, ones, full,  # noqa: F401
                                empty, zeros_like, ones_like, full_like, empty_like, arange,
                                linspace, logspace, eye, tril, triu)
from .frontend.promotion import (get_default_dtype, set_default_dtype, result_type,  # noqa: F401
                                 broadcast_shapes)
from .frontend.random import (Generator, manual_seed, seed, initial_seed, get_rng_state,  # noqa: F401
                              set_rng_state, rand, randn, randint, randperm, normal, bernoulli,
                              multinomial, default_generator, rand_like, randn_like,
                              randint_like)
from .frontend.autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                                is_grad_enabled, is_inference_mode_enabled)
from .frontend.printing import set_printoptions  # noqa: F401
from .frontend.functional import *  # noqa: F401,F403
from .frontend.functional import abs, pow, round, sum, max, min, all, any  # noqa: F401
from . import autograd, cuda  # noqa: F401

float32 = float = _dt.float32
float64 = double = _dt.float64
float16 = half = _dt.float16
bfloat16 = _dt.bfloat16
int8 = _dt.int8
int16 = short = _dt.int16
int32 = int = _dt.int32
int64 = long = _dt.int64
uint8 = _dt.uint8
bool = _dt.bool_

from .frontend.creation import typed_tensor as _typed_tensor  # noqa: E402
from .frontend.queries import is_tensor, is_floating_point, numel, is_nonzero  # noqa: E402,F401

FloatTensor = _typed_tensor(_dt.float32, "FloatTensor")
DoubleTensor = _typed_tensor(_dt.float64, "DoubleTensor")
LongTensor = _typed_tensor(_dt.int64, "LongTensor")
IntTensor = _typed_tensor(_dt.int32, "IntTensor")
BoolTensor = _typed_tensor(_dt.bool_, "BoolTensor")
ByteTensor = _typed_tensor(_dt.uint8, "ByteTensor")
HalfTensor = _typed_tensor(_dt.float16, "HalfTensor")

from . import nn  # noqa: E402,F401  (ember.nn; imports the frontend above)
from . import optim  # noqa: E402,F401
from .serialization import save, load  # noqa: E402,F401
from . import utils, datasets  # noqa: E402,F401
from .compiler.api import compile, explain  # noqa: E402,F401  (ember.compile, like torch.compile)
from .passes.log import set_debug, debug  # noqa: E402,F401
