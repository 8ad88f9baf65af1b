"""The ``Optimizer`` base class: parameter groups, per-parameter state, state dicts.

Written so that a whole training step, optimizer update included, can be traced into one
graph later (see issue 3, "Written to be traced later"):

* ``step()`` runs each group's update under ``no_grad`` as ember tensor ops, in place on
  the parameters and on the state tensors; nothing reads a tensor back to the host.
* Value hyper-parameters (``lr``, betas, ``eps``, weight-decay value, momentum value, ...)
  are read through ONE helper, :meth:`Optimizer._hyper`. It returns a 0-d float64 tensor
  kept per (group, name) and updated in place when the Python value in the group changes,
  so a scheduler writing ``group['lr']`` every step changes an input, never the program.
  A hyper-parameter the user gave as a Tensor is used as is.
* Structural options (``nesterov``, ``amsgrad``, ``maximize``, ``momentum == 0``,
  ``weight_decay == 0``, ``centered``) are read as Python values and specialise the code.
* Per-parameter state, ``step`` included, is tensors. ``step`` is a 0-d tensor of the
  scalar dtype (float32, or float64 when that is the default dtype, as in PyTorch). State
  is created at the first ``step()`` in which the parameter has a gradient (Adagrad:
  eagerly at construction, like PyTorch), so the first step and the later ones are two
  different programs when traced.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from itertools import chain

from ..frontend.autograd.grad_mode import enable_grad, no_grad
from ..frontend.creation import tensor as _tensor, zeros as _zeros, zeros_like as _zeros_like
from ..frontend.promotion import get_default_dtype
from ..frontend.tensor import Tensor
from ..ops import dtypes as D

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a default that every param group must supply (e.g. SGD's lr in
    old PyTorch)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(x):
    if isinstance(x, Tensor):
        return "ember.Tensor"
    return type(x).__module__ + "." + type(x).__qualname__ \
        if type(x).__module__ != "builtins" else type(x).__qualname__


def scalar_dtype():
    """dtype of 0-d optimizer state (``step``, ASGD's ``eta``/``mu``), as PyTorch's
    ``_get_scalar_dtype``."""
    return D.float64 if get_default_dtype() is D.float64 else D.float32


def new_step():
    return _zeros((), dtype=scalar_dtype())


def zeros_state(p):
    return _zeros_like(p)


def grad_direction(p, group, wd):
    """``p.grad``, negated if the group has ``maximize``, plus ``wd * p`` (coupled weight
    decay) when ``wd`` (from ``_hyper_if_set``) is not None."""
    g = -p.grad if group["maximize"] else p.grad
    return g if wd is None else g + wd * p


def check_dense(opt_name, p):
    if getattr(p.grad, "is_sparse", False):
        raise RuntimeError(f"{opt_name} does not support sparse gradients"
                           + (", please consider SparseAdam instead" if opt_name == "Adam"
                              else ""))


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts
    (param groups, each with a ``'params'`` entry and per-group options); ``defaults``
    holds the options a group does not set. Subclasses implement ``_step_group(group)``
    (called under ``no_grad`` for each group) or override ``step``.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._hyper_cache = {}
        self._step_pre_hooks = {}
        self._step_post_hooks = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group (a dict with ``'params'`` and optional options) to ``param_groups``."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors  # (an empty group is allowed, as in PyTorch)
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but param {i} of "
                                f"the group is {_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (param {i} of the "
                                 f"group, shape {tuple(p.shape)}, has grad_fn "
                                 f"{type(p.grad_fn).__name__}); use .detach().requires_grad_() "
                                 f"to make a leaf")
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            param_group.setdefault(key, default)
        seen = set()
        for i, p in enumerate(tensors):
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {tuple(p.shape)}) appears more "
                                 f"than once in a parameter group")
            seen.add(id(p))
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
            if any(id(p) in seen for p in group["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 f"group")
        self.param_groups.append(ParamGroup(param_group, self))

    # ------------------------------------------------------------ hyper-parameters
    def _hyper(self, group, name):
        """The value hyper-parameter ``group[name]`` as a 0-d tensor (a tuple of them for a
        tuple such as ``betas``). The tensor is kept per (group, name) and refilled in
        place when the group's Python value changes, so it is one stable graph input."""
        value = group[name]
        if isinstance(value, (tuple, list)):
            return tuple(self._scalar(group, (name, i), v) for i, v in enumerate(value))
        return self._scalar(group, name, value)

    def _hyper_if_set(self, group, name):
        """``_hyper(group, name)``, or None when the group's value is the number 0 (a
        structural choice: the term is left out of the update). A Tensor value always
        counts as set, so deciding never reads it."""
        value = group[name]
        if not isinstance(value, Tensor) and value == 0:
            return None
        return self._hyper(group, name)

    def _refresh_hyper(self, group, name, value):
        """A group's hyper-parameter was assigned (e.g. by a scheduler): refill its tensor now,
        so a compiled step, which reads the tensor and runs no Python, sees the new value."""
        if isinstance(value, Tensor):
            return
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                self._refresh_hyper(group, (name, i), v)
            return
        entry = self._hyper_cache.get((id(group), name))
        if entry is not None and entry[0] is group and entry[1] != value:
            with no_grad():
                entry[2].fill_(float(value))
            entry[1] = value

    def _scalar(self, group, key, value):
        if isinstance(value, Tensor):
            return value
        slot = (id(group), key)
        entry = self._hyper_cache.get(slot)
        if entry is None or entry[0] is not group:
            t = _tensor(float(value), dtype=D.float64)
            self._hyper_cache[slot] = [group, value, t]
            return t
        if entry[1] != value:
            with no_grad():
                entry[2].fill_(float(value))
            entry[1] = value
        return entry[2]

    # ------------------------------------------------------------ stepping
    def step(self, closure=None):
        """One optimization step. ``closure`` re-evaluates the model and returns the loss
        (it runs with grad enabled); its result is returned."""
        for hook in list(self._step_pre_hooks.values()):
            res = hook(self, (closure,), {})
            if res is not None:
                (closure,), _ = res
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        for hook in list(self._step_post_hooks.values()):
            hook(self, (closure,), {})
        return loss

    def _step_group(self, group):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _params_with_grad(self, group):
        return [p for p in group["params"] if p.grad is not None]

    def _lazy_state(self, p, *zero_names):
        """``self.state[p]``; at the parameter's first step it is created as a 0-d ``step``
        and one zero tensor like ``p`` per name (in that order: PyTorch's state keys)."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            for name in zero_names:
                state[name] = zeros_state(p)
        return state

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors: to ``None`` (default) or to zero."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none or getattr(g, "is_sparse", False):
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    with no_grad():
                        g.zero_()

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each ``step``."""
        return _Handle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        return _Handle(self._step_post_hooks, hook)

    # ------------------------------------------------------------ state dicts
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``
        with parameters numbered in group order, as PyTorch. State tensors are returned
        by reference (copy them to snapshot, e.g. ``copy.deepcopy``)."""
        mapping = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()`` (from this class, or from PyTorch's with the same layout).
        State tensors are copied; floating ones are cast to their parameter's dtype, except
        0-d scalar state (``step``, ``eta``, ``mu``), which keeps its dtype."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups' entries")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has a different number "
                             f"of parameter groups ({len(saved_groups)} vs {len(groups)})")
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"{name}.load_state_dict: loaded state dict contains a "
                                 f"parameter group ({i}) that doesn't match the size of "
                                 f"optimizer's group ({len(sg['params'])} vs "
                                 f"{len(g['params'])} params)")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, name, k)
            else:
                state[k] = v
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            sg["params"] = g["params"]
            if "param_names" in g and "param_names" not in sg:
                sg["param_names"] = g["param_names"]
            new_groups.append(sg)
        self.state = state
        self.param_groups = new_groups
        self._hyper_cache = {}

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_hyper_cache", {})
        self.__dict__.setdefault("_step_pre_hooks", {})
        self.__dict__.setdefault("_step_post_hooks", {})

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n" + f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"


_SCALAR_STATE = ("step", "eta", "mu")


def _cast(param, value, opt_name, index, key=None):
    if isinstance(value, Tensor):
        with no_grad():
            v = value.detach().clone()
            if key not in _SCALAR_STATE and v.dtype.category == D.FLOAT \
                    and param.dtype.category == D.FLOAT and v.dtype is not param.dtype:
                v = v.to(param.dtype)
        return v
    if isinstance(value, dict):
        return {k: _cast(param, v, opt_name, index, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v, opt_name, index) for v in value)
    return copy.deepcopy(value)


class _Handle:
    _next = [0]

    def __init__(self, table, hook):
        self._table = table
        self.id = _Handle._next[0]
        _Handle._next[0] += 1
        table[self.id] = hook

    def remove(self):
        self._table.pop(self.id, None)


# ------------------------------------------------------------ constructor validation

def check_lr(opt, lr, strict=False):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"{opt}: Tensor lr must be 1-element, got shape {tuple(lr.shape)}")
    if (lr <= 0.0) if strict else (lr < 0.0):
        raise ValueError(f"{opt}: Invalid learning rate: {float(lr)} (must be "
                         f"{'> 0' if strict else '>= 0'})")


def check_nonneg(opt, what, value, strict=False):
    if (value <= 0.0) if strict else (value < 0.0):
        raise ValueError(f"{opt}: Invalid {what} value: {value} (must be "
                         f"{'> 0' if strict else '>= 0'})")


def check_betas(opt, betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{opt}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if isinstance(b, Tensor) and b.numel() != 1:
            raise ValueError(f"{opt}: Tensor betas[{i}] must be 1-element")
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{opt}: Invalid beta parameter at index {i}: {float(b)} (must be "
                             f"in [0, 1))")


def check_unsupported(opt, fused=None, differentiable=False):
    if fused:
        raise NotImplementedError(f"{opt}: fused=True is not supported by ember (the compiler "
                                  f"fuses the update instead); leave fused=None")
    if differentiable:
        raise NotImplementedError(f"{opt}: differentiable=True (autograd through step()) is "
                                  f"not supported by ember")


class ParamGroup(dict):
    """A parameter group: a dict that tells its optimizer when a value is assigned, so the
    hyper-parameter tensors (graph inputs of a compiled step) follow ``group['lr'] = ...``
    at once, even when no Python ``step()`` runs (a compiled step)."""

    def __init__(self, values, owner):
        import weakref
        super().__init__(values)
        self._owner = weakref.ref(owner)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        owner = self._owner()
        if owner is not None:
            owner._refresh_hyper(self, key, value)

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def __reduce__(self):  # copies and pickles are plain dicts, as in PyTorch
        return (dict, (dict(self),))
