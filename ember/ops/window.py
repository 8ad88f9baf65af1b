"""``window`` (sliding windows over trailing dims, for pooling and unfold) and its adjoint
``fold`` (overlap-add). Each is the other's VJP."""
from __future__ import annotations

from . import lax as L
from .registry import WINDOW, ShapeError, defprim


def _window_out(name, spatial, window, strides, dilation):
    if not (len(window) == len(strides) == len(dilation)) or len(window) > len(spatial):
        raise ShapeError(f"{name}: window {window}, strides {strides}, dilation {dilation} "
                         f"do not fit spatial dims {spatial}")
    out = tuple((n - d * (w - 1) - 1) // s + 1 for n, w, s, d in zip(spatial, window, strides,
                                                                     dilation))
    if any(o <= 0 for o in out) or any(s <= 0 or d <= 0 or w <= 0
                                      for w, s, d in zip(window, strides, dilation)):
        raise ShapeError(f"{name}: window {window} (dilation {dilation}) does not fit in "
                         f"spatial size {spatial} with strides {strides}")
    return out


def _window_meta(shapes, dtypes, window, strides, dilation):
    s = shapes[0]
    k = len(window)
    out = _window_out("window", s[len(s) - k:], window, strides, dilation)
    return s[:len(s) - k] + out + tuple(window), dtypes[0]


def _window_kernel(xp, x, window, strides, dilation):
    return xp.windows(x, window, strides, dilation)


def _window_vjp(g, out, x, window, strides, dilation):
    k = len(window)
    return (L.fold(g, L.shape_of(x)[-k:], window, strides, dilation),)


def _fold_meta(shapes, dtypes, spatial, window, strides, dilation):
    s = shapes[0]
    k = len(window)
    if len(s) < 2 * k:
        raise ShapeError(f"fold: input {s} needs >= {2 * k} dims")
    out = _window_out("fold", spatial, window, strides, dilation)
    if s[len(s) - 2 * k:] != out + tuple(window):
        raise ShapeError(f"fold: input {s} does not end with windows {out + tuple(window)} of "
                         f"spatial size {spatial}")
    return s[:len(s) - 2 * k] + tuple(spatial), dtypes[0]


def _fold_kernel(xp, w, spatial, window, strides, dilation):
    k = len(window)
    target = xp.zeros(w.shape[:w.ndim - 2 * k] + tuple(spatial), dtype=w.dtype)
    return xp.fold_add(target, w, window, strides, dilation)


def _fold_vjp(g, out, w, spatial, window, strides, dilation):
    return (L.window(g, window, strides, dilation),)


defprim("window", kind=WINDOW, meta=_window_meta, eager=_window_kernel, vjp=_window_vjp,
        saves_inputs=False, nargs=1, grad_name="UnfoldBackward0",
        doc="sliding windows over the last len(window) dims: (..., *out, *window) (a view)")
defprim("fold", kind=WINDOW, meta=_fold_meta, eager=_fold_kernel, vjp=_fold_vjp,
        saves_inputs=False, nargs=1, grad_name="FoldBackward0",
        doc="overlap-add windows back onto (..., *spatial): the adjoint of window")
