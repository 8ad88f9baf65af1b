"""The primitive table and ``bind``.

A primitive is defined once (``defprim``) with:
  * ``meta(shapes, dtypes, **attrs) -> (shape, dtype)``: the shape/dtype rule, cached;
  * ``eager(xp, *arrays, **attrs) -> array``: the kernel, written against an array module;
  * ``vjp(g, out, *inputs, **attrs) -> tuple``: one cotangent (or None) per input, built
    only from other primitives via ``bind`` so that eager autograd, tracing and the
    symbolic backward pass all reuse it;
  * a docstring. Code generators keep their own per-primitive renderer tables keyed by name.

``bind(prim, *args, **attrs)`` hands the call to the innermost active interpreter
(JAX's design). The base interpreter runs eager kernels on raw numpy arrays; the frontend
pushes its Tensor interpreter on import; the compiler pushes tracers and IR builders.
"""
from __future__ import annotations

from . import dtypes as _dt

PRIMITIVES: dict[str, "Primitive"] = {}

ELEMENTWISE, REDUCTION, MOVEMENT, INDEX, EXTERN, CREATION, RANDOM, WINDOW = (
    "elementwise", "reduction", "movement", "index", "extern", "creation", "random", "window")


class ShapeError(ValueError):
    """A shape rule rejected its inputs; the message names the op and the shapes."""


class Primitive:
    __slots__ = ("name", "kind", "meta_rule", "eager", "vjp", "doc", "grad_name",
                 "uses_output", "saves_inputs", "differentiable", "_meta_cache", "nargs",
                 "vjp_needs")

    def __init__(self, name, kind, meta, eager, vjp, doc, grad_name, uses_output,
                 saves_inputs, nargs, vjp_needs=False):
        self.name = name
        self.kind = kind
        self.meta_rule = meta
        self.eager = eager
        self.vjp = vjp
        self.doc = doc
        self.grad_name = grad_name
        self.uses_output = uses_output
        self.saves_inputs = saves_inputs
        self.differentiable = vjp is not None
        self.nargs = nargs
        self.vjp_needs = vjp_needs
        self._meta_cache = {}

    def meta(self, shapes, dtypes, attrs):
        """(shape, dtype) of the result; cached per (shapes, dtypes, attrs)."""
        key = (shapes, dtypes, tuple(sorted(attrs.items())) if attrs else ())
        try:
            return self._meta_cache[key]
        except KeyError:
            pass
        except TypeError as e:  # an unhashable attribute: a caller bug, say which
            raise TypeError(f"{self.name}: attributes must be hashable, got {attrs!r}") from e
        res = self.meta_rule(shapes, dtypes, **attrs)
        if len(self._meta_cache) > 4096:  # bound the cache for programs with many shapes
            self._meta_cache.clear()
        self._meta_cache[key] = res
        return res

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __reduce__(self):
        return (PRIMITIVES.__getitem__, (self.name,))


def defprim(name, *, kind, meta, eager, vjp=None, doc="", grad_name=None, uses_output=False,
            saves_inputs=True, nargs=None, vjp_needs=False):
    """Register one primitive. ``grad_name`` is the PyTorch-style grad_fn name;
    ``saves_inputs`` is True, False (the VJP needs only shapes and dtypes) or a tuple of
    the input positions whose values the VJP reads. ``vjp_needs``: the VJP takes a
    ``needs=`` tuple of booleans and skips the cotangents of inputs that need none (for
    expensive rules: matmul, conv)."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} defined twice")
    if grad_name is None:
        grad_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
    p = Primitive(name, kind, meta, eager, vjp, doc, grad_name, uses_output, saves_inputs, nargs,
                  vjp_needs)
    PRIMITIVES[name] = p
    return p


# ---------------------------------------------------------------- interpreters

class Interpreter:
    """Something that gives meaning to ``bind``: runs, records or builds."""

    def process(self, prim: Primitive, args: tuple, attrs: dict):  # pragma: no cover - abstract
        raise NotImplementedError


class ArrayInterpreter(Interpreter):
    """Base interpreter: values are raw arrays; runs the eager kernels (checked by meta)."""

    def __init__(self, xp=None):
        if xp is None:
            from . import xp as _xp
            xp = _xp.numpy_namespace()
        self.xp = xp

    def process(self, prim, args, attrs):
        shapes = tuple(tuple(a.shape) for a in args)
        dts = tuple(_dt.from_numpy(a.dtype) for a in args)
        shape, dtype = prim.meta(shapes, dts, attrs)
        out = prim.eager(self.xp, *args, **attrs)
        if tuple(out.shape) != shape or out.dtype != dtype.np:
            raise AssertionError(f"{prim.name}: eager kernel gave {out.shape} {out.dtype}, "
                                 f"meta says {shape} {dtype}")
        return out


_STACK: list[Interpreter] = []


def bind(prim: Primitive, *args, **attrs):
    """Apply ``prim`` in the innermost active interpreter."""
    return _STACK[-1].process(prim, args, attrs)


def current_interpreter() -> Interpreter:
    return _STACK[-1]


class interpreter:
    """Context manager that makes ``interp`` the innermost interpreter."""

    def __init__(self, interp):
        self.interp = interp

    def __enter__(self):
        _STACK.append(self.interp)
        return self.interp

    def __exit__(self, *exc):
        popped = _STACK.pop()
        assert popped is self.interp, "interpreter stack corrupted"


def set_base_interpreter(interp):
    """Replace the bottom of the stack (the frontend installs its Tensor interpreter)."""
    _STACK[0] = interp


def _install_default():
    if not _STACK:
        _STACK.append(ArrayInterpreter())
