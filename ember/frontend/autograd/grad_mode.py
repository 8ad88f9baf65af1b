"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each is a context manager and a decorator, as in PyTorch. The flag is thread-local so a
DataLoader thread or a compiled call on another thread never flips it for this one.
"""
from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _GradModeContext:
    """Base: subclasses set ``_target()``; usable as ``with`` and as a decorator."""

    def _target(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled, STATE.inference = self._target()
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn):
        """Each step of the generator runs under the mode, the caller's code between steps
        does not (as PyTorch's decorators do)."""
        make = lambda: self.__class__(*self._args())  # noqa: E731

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with make():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with make():
                            gen.close()
                        raise
                    except BaseException as exc:
                        with make():
                            response = gen.throw(exc)
                    else:
                        with make():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeContext):
    """Disable gradient recording."""

    def __init__(self, orig_func=None):
        self._orig = orig_func

    def _target(self):
        return False, STATE.inference

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):  # used as a bare decorator: @no_grad
            self.__init__()
            return self(orig_func)
        return self


class enable_grad(_GradModeContext):
    """Enable gradient recording inside a no_grad region."""

    def _target(self):
        return True, False


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; takes effect at construction, like PyTorch."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = self.mode

    def _target(self):
        return self.mode, STATE.inference if not self.mode else False

    def _args(self):
        return (self.mode,)

    def __enter__(self):  # the state was already set in __init__
        return self

    def __call__(self, fn):  # as a decorator, construction must not leave the mode changed
        STATE.enabled = self._prev[0]
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """Like no_grad, and tensors made inside are marked as inference tensors."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _target(self):
        return (False, True) if self.mode else (STATE.enabled, False)

    def _args(self):
        return (self.mode,)

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__()
            return self(mode)
        return self
