"""``ember.autograd`` (PyTorch's import path): re-exports the frontend's autograd."""
from .frontend.autograd import (Function, FunctionCtx, backward, enable_grad, grad,  # noqa: F401
                                gradcheck, gradgradcheck, inference_mode, is_grad_enabled,
                                no_grad, set_grad_enabled)
from .frontend.autograd.function import once_differentiable  # noqa: F401
from .frontend.autograd.gradcheck import GradcheckError  # noqa: F401
from .frontend.autograd import graph  # noqa: F401
