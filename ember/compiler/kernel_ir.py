"""The loop-level kernel IR: what a fused group becomes before any backend sees it.

Backend-neutral on purpose (the LLVM renderer and the CUDA renderer read the same objects),
pure data, no LLVM. Shapes, strides and offsets are compile-time constants: the graph is
specialised, so every index is an affine function of the loop counters with constant
coefficients and every bound is known, which is what lets the renderer prove accesses in
bounds and lets LLVM vectorise.

A kernel iterates over ``outer + inner`` (the *iteration space*, rank R):

* ``outer`` axes are independent (elementwise work, one "row" per outer index); they are
  the axes a backend may parallelise;
* ``inner`` axes (possibly empty) are the trailing axes that reductions run over. Reductions
  over non-trailing axes are expressed by permuting the access strides, which is free.

Per outer index the ``body`` statements run in order:

* ``Reduce(name, op, value)`` folds the element-level ``value`` over all inner indices;
  later statements read the result as ``AccRef(name)`` (a per-row scalar);
* ``Store(access, value)``: element level when the access or the value varies over the
  inner axes (a loop over ``inner``), otherwise row level (once per outer index).

So a pure elementwise kernel has ``inner == ()`` and only stores; ``sum(x, -1)`` is one
Reduce plus a row-level store; softmax is Reduce max, Reduce sum of exp(x - max), then an
element-level store ("row-local": several reductions over the same axis plus elementwise
work before, between and after them, one pass over each row in cache).

An ``Access`` maps iteration indices to an element offset inside one buffer parameter:
``offset + sum(strides[d] * i[d])``. Broadcasting is stride 0, permute/slice/reshape of a
contiguous buffer are other strides and offsets, so inputs need not be contiguous.

Float32 ``sum`` order (accuracy contract, backends must keep it or do better): the innermost
inner axis is cut into blocks of ``SUM_BLOCK`` elements; a block is summed with any
association the backend likes (SIMD lanes); block sums are combined with Kahan-compensated
addition, as are the rows of further inner axes. The error is therefore bounded by about
``(SUM_BLOCK / lanes + log2(lanes) + 2) * eps * sum|x|``, independent of the row length.
``prod`` is blocked the same way without compensation; integer sums are exact (wrapping).
``argmax_value`` is the element ``argmax`` picks (the first maximum, the first nan), i.e.
``max`` except that a tie of -0.0 and +0.0 keeps the first (max pooling's value).
"""
from __future__ import annotations

import hashlib
import keyword
import math
from dataclasses import dataclass, field, replace

SUM_BLOCK = 1024

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64",
          "float16", "bfloat16", "float32", "float64")
FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
ITEMSIZE = {"bool": 1, "uint8": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
            "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}

# operator name -> (arity, dtype rule). Names are ember primitives, plus a few fused forms a
# lowering may pattern-match (sigmoid, rsqrt, remainder) because their direct kernels are
# more accurate or cheaper than the composite.
_F, _N, _A, _B = "float", "numeric", "any", "bool_or_int"
UNARY_OPS = {"neg": _N, "exp": _F, "expm1": _F, "log": _F, "log1p": _F, "sqrt": _F, "rsqrt": _F,
             "recip": _F, "sin": _F, "cos": _F, "tanh": _F, "sigmoid": _F, "erf": _F,
             "abs": _N, "sign": _N, "floor": _N, "ceil": _N, "round": _N, "trunc": _N,
             "logical_not": _A}
BINARY_OPS = {"add": _N, "sub": _N, "mul": _A, "div": _F, "floordiv": _N, "remainder": _N,
              "pow": _N, "maximum": _A, "minimum": _A, "and": _B, "or": _B, "xor": _B}
COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
REDUCE_OPS = ("sum", "prod", "max", "min", "argmax", "argmax_value")
# reduction primitive (ember/ops/reduction.py) -> Reduce op
PRIMITIVE_REDUCE = {"sum": "sum", "prod": "prod", "reduce_max": "max", "reduce_min": "min",
                    "argmax": "argmax"}
ROLES = ("in", "out", "inout")


class KernelIRError(ValueError):
    """A malformed kernel: the message names the kernel, the statement and the shapes."""


def contiguous_strides(shape):
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    return tuple(reversed(strides))


def numel(shape):
    return math.prod(shape)


# ------------------------------------------------------------------ expressions

class Expr:
    """Base of the scalar expression tree. Python operators build ``Op`` nodes (constants
    take the other operand's dtype) so hand-written kernels read like the math."""

    __slots__ = ()
    dtype: str

    def _bin(self, other, name, swap=False):
        other = other if isinstance(other, Expr) else Const(other, self.dtype)
        a, b = (other, self) if swap else (self, other)
        return Op(name, (a, b), a.dtype)

    def __add__(self, o): return self._bin(o, "add")
    def __radd__(self, o): return self._bin(o, "add", True)
    def __sub__(self, o): return self._bin(o, "sub")
    def __rsub__(self, o): return self._bin(o, "sub", True)
    def __mul__(self, o): return self._bin(o, "mul")
    def __rmul__(self, o): return self._bin(o, "mul", True)
    def __truediv__(self, o): return self._bin(o, "div")
    def __rtruediv__(self, o): return self._bin(o, "div", True)
    def __floordiv__(self, o): return self._bin(o, "floordiv")
    def __mod__(self, o): return self._bin(o, "remainder")
    def __pow__(self, o): return self._bin(o, "pow")
    def __neg__(self): return Op("neg", (self,), self.dtype)


@dataclass(frozen=True, eq=True)
class Access:
    """Element offset ``offset + sum(strides[d] * i[d])`` into parameter ``param``."""
    param: int
    strides: tuple
    offset: int = 0


@dataclass(frozen=True)
class Load(Expr):
    access: Access
    dtype: str


@dataclass(frozen=True)
class Const(Expr):
    value: object
    dtype: str


@dataclass(frozen=True)
class IndexVar(Expr):
    """The value of iteration index ``axis`` (int64), for iota-like masks (one-hot, NLL)."""
    axis: int
    dtype: str = "int64"


@dataclass(frozen=True)
class AccRef(Expr):
    """The per-row result of an earlier ``Reduce`` of the same kernel."""
    name: str
    dtype: str


@dataclass(frozen=True)
class Op(Expr):
    """A primitive applied to sub-expressions. ``cast`` converts to ``dtype``; ``where``
    takes (bool condition, a, b); comparisons return bool."""
    op: str
    args: tuple
    dtype: str


def op(name, *args, dtype=None):
    """Build an ``Op`` with the dtype rule of ``name`` (constants adopt the first operand's
    dtype), e.g. ``op("exp", x)``, ``op("where", c, a, 0.0)``, ``op("cast", x, dtype="int32")``."""
    ref = next((a for a in args if isinstance(a, Expr) and not (name == "where" and a is args[0])),
               None)
    base = ref.dtype if ref is not None else dtype
    args = tuple(a if isinstance(a, Expr) else Const(a, base) for a in args)
    if name == "cast":
        return Op("cast", args, dtype)
    if name in COMPARE_OPS or name == "logical_not":
        return Op(name, args, "bool")
    if name == "where":
        return Op(name, args, args[1].dtype)
    return Op(name, args, dtype or args[0].dtype)


# ------------------------------------------------------------------ statements, kernels

@dataclass(frozen=True)
class Reduce:
    name: str
    op: str
    value: Expr

    @property
    def dtype(self):
        return "int64" if self.op == "argmax" else self.value.dtype


@dataclass(frozen=True)
class Store:
    access: Access
    value: Expr


@dataclass(frozen=True)
class Param:
    """A buffer parameter: dtype, shape (so rank and extent) and role in/out/inout."""
    name: str
    dtype: str
    shape: tuple
    role: str = "in"

    @property
    def rank(self):
        return len(self.shape)


@dataclass(frozen=True)
class Kernel:
    name: str
    params: tuple
    outer: tuple
    inner: tuple = ()
    body: tuple = ()
    doc: str = field(default="", compare=False)

    @property
    def rank(self):
        return len(self.outer) + len(self.inner)

    @property
    def space(self):
        return tuple(self.outer) + tuple(self.inner)

    def key(self):
        """A structural hash (stable across processes): the in-process kernel cache key."""
        return hashlib.sha256(repr((self.name, self.params, self.outer, self.inner,
                                    self.body)).encode()).hexdigest()[:24]

    def __str__(self):
        return format_kernel(self)


# ------------------------------------------------------------------ traversal helpers

def walk(e):
    """All nodes of an expression tree, parents first."""
    stack = [e]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, Op):
            stack.extend(reversed(n.args))


def varies_inner(kernel, e):
    """Whether expression ``e`` (or a Store's access) changes along the inner axes."""
    no = len(kernel.outer)
    for n in walk(e):
        if isinstance(n, Load) and any(n.access.strides[no:]):
            return True
        if isinstance(n, IndexVar) and n.axis >= no:
            return True
    return False


def is_row_level(kernel, stmt):
    if isinstance(stmt, Reduce):
        return False
    no = len(kernel.outer)
    return not any(stmt.access.strides[no:]) and not varies_inner(kernel, stmt.value)


# ------------------------------------------------------------------ verification

def _extent(access, space):
    lo = hi = access.offset
    for s, n in zip(access.strides, space):
        if n == 0:
            return None
        lo += min(0, s * (n - 1))
        hi += max(0, s * (n - 1))
    return lo, hi


def verify(k: Kernel) -> Kernel:
    """Check names, dtypes, ranks, def-before-use and that every access stays inside its
    buffer for the whole iteration space (so generated code never needs bounds checks)."""
    def err(msg):
        raise KernelIRError(f"kernel {k.name!r}: {msg}")

    if not k.name.isidentifier() or keyword.iskeyword(k.name):
        err("name must be an identifier")
    if any(n < 0 for n in k.space):
        err(f"negative extent in iteration space {k.space}")
    names = set()
    for p in k.params:
        if p.dtype not in DTYPES:
            err(f"param {p.name!r}: unknown dtype {p.dtype!r}")
        if p.role not in ROLES:
            err(f"param {p.name!r}: role must be one of {ROLES}, got {p.role!r}")
        if p.name in names:
            err(f"duplicate param name {p.name!r}")
        names.add(p.name)
    space, defined = k.space, {}

    def check_access(a, what):
        if not 0 <= a.param < len(k.params):
            err(f"{what}: param index {a.param} out of range ({len(k.params)} params)")
        if len(a.strides) != len(space):
            err(f"{what}: {len(a.strides)} strides for iteration space {space}")
        ext = _extent(a, space)
        p = k.params[a.param]
        if ext is not None and (ext[0] < 0 or ext[1] >= numel(p.shape)):
            err(f"{what}: access {a} reaches elements {ext[0]}..{ext[1]} of param "
                f"{p.name!r} with shape {p.shape} ({numel(p.shape)} elements)")

    def check_expr(e, what, row_scope):
        for n in walk(e):
            if n.dtype not in DTYPES:
                err(f"{what}: unknown dtype {n.dtype!r} in {n}")
            if isinstance(n, Load):
                check_access(n.access, what)
                if k.params[n.access.param].dtype != n.dtype:
                    err(f"{what}: load of {k.params[n.access.param].name!r} "
                        f"({k.params[n.access.param].dtype}) as {n.dtype}")
            elif isinstance(n, IndexVar) and not 0 <= n.axis < len(space):
                err(f"{what}: index axis {n.axis} out of range for space {space}")
            elif isinstance(n, AccRef):
                if n.name not in defined:
                    err(f"{what}: AccRef {n.name!r} used before its Reduce")
                if defined[n.name] != n.dtype:
                    err(f"{what}: AccRef {n.name!r} has dtype {defined[n.name]}, used as {n.dtype}")
            elif isinstance(n, Op):
                _check_op(n, lambda m: err(f"{what}: {m}"))

    for i, st in enumerate(k.body):
        what = f"statement {i} ({type(st).__name__})"
        if isinstance(st, Reduce):
            if st.op not in REDUCE_OPS:
                err(f"{what}: unknown reduction {st.op!r}")
            if st.op in ("max", "min", "argmax", "argmax_value") and numel(k.inner) == 0 \
                    and k.inner:
                err(f"{what}: {st.op} over a zero-size axis (inner {k.inner}) has no identity")
            if not k.inner:
                err(f"{what}: a Reduce needs inner axes")
            check_expr(st.value, what, False)
            if st.name in defined:
                err(f"{what}: reduction name {st.name!r} defined twice")
            defined[st.name] = st.dtype
        elif isinstance(st, Store):
            check_access(st.access, what)
            p = k.params[st.access.param]
            if p.role == "in":
                err(f"{what}: stores into input param {p.name!r}")
            if p.dtype != st.value.dtype:
                err(f"{what}: stores {st.value.dtype} into {p.name!r} ({p.dtype})")
            check_expr(st.value, what, True)
            no = len(k.outer)
            if k.inner and not any(st.access.strides[no:]) and varies_inner(k, st.value):
                err(f"{what}: element-level value stored to a row-level location "
                    f"(inner strides are 0): every inner element would race for it")
            row = k.inner and not any(st.access.strides[no:])
            for d, (s_, n_) in enumerate(zip(st.access.strides, space)):
                if s_ == 0 and n_ > 1 and numel(space) and not (row and d >= no):
                    err(f"{what}: store to {p.name!r} has stride 0 along axis {d} (extent "
                        f"{n_}): several iterations would write one element")
        else:
            err(f"{what}: not a Reduce or Store")
    return k


def _check_op(n, err):
    name, args = n.op, n.args
    if name in UNARY_OPS:
        arity, rule = 1, UNARY_OPS[name]
    elif name in BINARY_OPS:
        arity, rule = 2, BINARY_OPS[name]
    elif name in COMPARE_OPS:
        arity, rule = 2, _A
    elif name == "where":
        if len(args) != 3 or args[0].dtype != "bool" or args[1].dtype != args[2].dtype \
                or n.dtype != args[1].dtype:
            err(f"where needs (bool, a, b) of one dtype, got {[a.dtype for a in args]}")
        return
    elif name == "cast":
        if len(args) != 1:
            err("cast takes one operand")
        return
    else:
        return err(f"unknown op {name!r}")
    if len(args) != arity:
        err(f"{name} takes {arity} operands, got {len(args)}")
    d = args[0].dtype
    if any(a.dtype != d for a in args):
        err(f"{name}: operands of different dtypes {[a.dtype for a in args]} (insert a cast)")
    if rule == _F and d not in FLOATS:
        err(f"{name}: needs a float operand, got {d}")
    if rule == _N and d == "bool":
        err(f"{name}: not defined for bool")
    if rule == _B and d in FLOATS:
        err(f"{name}: needs bool or integer operands, got {d}")
    want = "bool" if name in COMPARE_OPS or name == "logical_not" else d
    if n.dtype != want:
        err(f"{name}: result dtype {n.dtype}, expected {want}")


# ------------------------------------------------------------------ simplification

def coalesce(k: Kernel) -> Kernel:
    """Drop size-1 axes and merge adjacent axes that every access walks contiguously, so
    the innermost loop is as long as possible (a (4096,1024) contiguous elementwise kernel
    becomes one loop of 4M). Axes read by an IndexVar are kept as they are."""
    if numel(k.space) == 0:
        return k
    no = len(k.outer)
    used_index = {n.axis for e in _exprs(k) for n in walk(e) if isinstance(n, IndexVar)}
    accesses = sorted({a for a in _accesses(k)}, key=repr)
    axes = list(range(k.rank))
    # groups of original axes, each becoming one new axis
    groups = []
    for d in axes:
        if k.space[d] == 1 and d not in used_index:
            continue
        if groups:
            prev = groups[-1][-1]
            same_side = (prev < no) == (d < no)
            mergeable = same_side and prev not in used_index and d not in used_index and all(
                a.strides[prev] == a.strides[d] * k.space[d] for a in accesses)
            if mergeable:
                groups[-1].append(d)
                continue
        groups.append([d])
    if len(groups) == k.rank and all(len(g) == 1 for g in groups):
        return k
    new_outer = tuple(numel([k.space[d] for d in g]) for g in groups if g[0] < no)
    new_inner = tuple(numel([k.space[d] for d in g]) for g in groups if g[0] >= no)
    remap_axis = {g[0]: i for i, g in enumerate(groups)}

    def ra(a):
        return Access(a.param, tuple(a.strides[g[-1]] for g in groups), a.offset)

    def re(e):
        if isinstance(e, Load):
            return Load(ra(e.access), e.dtype)
        if isinstance(e, IndexVar):
            return IndexVar(remap_axis[e.axis], e.dtype)
        if isinstance(e, Op):
            return Op(e.op, tuple(re(a) for a in e.args), e.dtype)
        return e

    body = tuple(Reduce(s.name, s.op, re(s.value)) if isinstance(s, Reduce)
                 else Store(ra(s.access), re(s.value)) for s in k.body)
    if k.inner and not new_inner:  # a size-1 reduction still needs an inner axis
        new_inner = (1,)
        body = tuple(_append_axis(s) for s in body)
    return replace(k, outer=new_outer, inner=new_inner, body=body)


def _append_axis(s):
    def ra(a):
        return Access(a.param, a.strides + (0,), a.offset)

    def re(e):
        if isinstance(e, Load):
            return Load(ra(e.access), e.dtype)
        if isinstance(e, Op):
            return Op(e.op, tuple(re(a) for a in e.args), e.dtype)
        return e
    return Reduce(s.name, s.op, re(s.value)) if isinstance(s, Reduce) else Store(ra(s.access),
                                                                               re(s.value))


def _exprs(k):
    for s in k.body:
        yield s.value


def _accesses(k):
    for s in k.body:
        if isinstance(s, Store):
            yield s.access
        for n in walk(s.value):
            if isinstance(n, Load):
                yield n.access


# ------------------------------------------------------------------ text form

def format_expr(e, names):
    if isinstance(e, Load):
        a = e.access
        return f"{names[a.param]}[{a.offset}+{list(a.strides)}]"
    if isinstance(e, Const):
        return repr(e.value)
    if isinstance(e, IndexVar):
        return f"i{e.axis}"
    if isinstance(e, AccRef):
        return f"%{e.name}"
    extra = f"->{e.dtype}" if e.op == "cast" else ""
    return f"{e.op}{extra}(" + ", ".join(format_expr(a, names) for a in e.args) + ")"


def format_kernel(k: Kernel) -> str:
    names = [p.name for p in k.params]
    lines = [f"kernel {k.name}(" + ", ".join(f"{p.role} {p.name}: {p.dtype}{list(p.shape)}"
                                           for p in k.params) + ")",
             f"  outer {list(k.outer)} inner {list(k.inner)}"]
    for s in k.body:
        if isinstance(s, Reduce):
            lines.append(f"  %{s.name} = {s.op}({format_expr(s.value, names)})")
        else:
            a = s.access
            lines.append(f"  {names[a.param]}[{a.offset}+{list(a.strides)}] = "
                         f"{format_expr(s.value, names)}")
    return "\n".join(lines)


# ------------------------------------------------------------------ convenience builders

def load(params, p, strides=None, offset=0, space=None):
    """A Load of param index ``p``; default strides = the param's contiguous strides
    (the param's shape must then be the iteration space)."""
    par = params[p]
    if strides is None:
        strides = contiguous_strides(par.shape)
    return Load(Access(p, tuple(strides), offset), par.dtype)


def view_strides(shape, space, perm=None, base_strides=None):
    """Strides over iteration ``space`` for a buffer of ``shape`` broadcast (numpy rules,
    aligned right) and optionally permuted: ``perm[d]`` is the buffer axis walked by
    iteration axis d (after broadcasting)."""
    base = list(base_strides or contiguous_strides(shape))
    if perm is not None:
        shape = tuple(shape[p] for p in perm)
        base = [base[p] for p in perm]
    pad = len(space) - len(shape)
    out = []
    for d, n in enumerate(space):
        if d < pad:
            out.append(0)
        else:
            sn, st = shape[d - pad], base[d - pad]
            if sn == n:
                out.append(st if n != 1 else 0)
            elif sn == 1:
                out.append(0)
            else:
                raise KernelIRError(f"view_strides: shape {shape} does not broadcast to {space}")
    return tuple(out)


# ------------------------------------------------------------------ extern: matmul

@dataclass(frozen=True)
class MatOperand:
    """A matrix view inside a buffer param: element (batch..., r, c) sits at
    ``offset + sum(batch_strides * b) + r * row_stride + c * col_stride``."""
    param: int
    offset: int
    batch_strides: tuple
    row_stride: int
    col_stride: int


@dataclass(frozen=True)
class Matmul:
    """``C = alpha * A @ B + beta * C`` over ``batch`` dims (an extern call: BLAS gemm).

    Transposed operands are strides (so Linear's ``W.T`` is a transpose flag, never a
    copy), broadcast batch dims are stride 0, a bias is folded in by pre-filling C and
    ``beta = 1``. A and B need a unit stride in one of their two matrix dims (BLAS); C
    needs a unit column stride. Backends without BLAS run a generated loop GEMM."""
    name: str
    params: tuple
    dtype: str
    batch: tuple
    m: int
    n: int
    k: int
    a: MatOperand
    b: MatOperand
    c: MatOperand
    alpha: float = 1.0
    beta: float = 0.0

    def blas_layout(self, which):
        """(transposed, leading dimension) of operand 'a' or 'b' for row-major BLAS, or
        None when the view has no unit stride BLAS can use."""
        op = self.a if which == "a" else self.b
        rows, cols = (self.m, self.k) if which == "a" else (self.k, self.n)
        if rows == 0 or cols == 0:  # nothing is read; BLAS only wants ld >= max(1, cols)
            return False, max(1, cols)
        if op.col_stride == 1 and (rows == 1 or op.row_stride >= max(1, cols)):
            return False, max(1, cols) if rows == 1 else op.row_stride
        if op.row_stride == 1 and (cols == 1 or op.col_stride >= max(1, rows)):
            return True, max(1, rows) if cols == 1 else op.col_stride
        if rows == 1 and cols == 1:
            return False, 1
        return None

    def signature(self):
        return {"name": self.name, "kind": "matmul",
                "params": [{"name": p.name, "dtype": p.dtype, "shape": list(p.shape),
                            "role": p.role} for p in self.params]}


def verify_matmul(mm: Matmul) -> Matmul:
    def err(msg):
        raise KernelIRError(f"matmul {mm.name!r}: {msg}")
    if mm.dtype not in ("float32", "float64"):
        err(f"dtype must be float32 or float64, got {mm.dtype}")
    if min(mm.m, mm.n, mm.k) < 0:
        err(f"negative size m={mm.m} n={mm.n} k={mm.k}")
    for nm, op, (r, c) in (("a", mm.a, (mm.m, mm.k)), ("b", mm.b, (mm.k, mm.n)),
                           ("c", mm.c, (mm.m, mm.n))):
        if not 0 <= op.param < len(mm.params):
            err(f"operand {nm}: param index {op.param} out of range")
        p = mm.params[op.param]
        if p.dtype != mm.dtype:
            err(f"operand {nm}: param {p.name!r} is {p.dtype}, matmul is {mm.dtype}")
        if len(op.batch_strides) != len(mm.batch):
            err(f"operand {nm}: {len(op.batch_strides)} batch strides for batch {mm.batch}")
        acc = Access(op.param, tuple(op.batch_strides) + (op.row_stride, op.col_stride),
                     op.offset)
        ext = _extent(acc, tuple(mm.batch) + (r, c))
        if ext is not None and (ext[0] < 0 or ext[1] >= numel(p.shape)):
            err(f"operand {nm}: view reaches elements {ext[0]}..{ext[1]} of {p.name!r} "
                f"with shape {p.shape}")
    if mm.params[mm.c.param].role == "in":
        err("output C is an input param")
    if mm.c.col_stride != 1 and mm.n > 1:
        err(f"C needs a unit column stride, got {mm.c.col_stride}")
    for which in ("a", "b"):
        if mm.blas_layout(which) is None:
            err(f"operand {which} has strides ({getattr(mm, which).row_stride}, "
                f"{getattr(mm, which).col_stride}) with no unit stride: copy it first")
    return mm


# ------------------------------------------------------------------ entry points

@dataclass(frozen=True)
class Entry:
    """One native entry point running several kernels/externs in order:
    ``int32 name(void **buffers)``; call i runs ``calls[i][0]`` with the buffers at the
    indices ``calls[i][1]`` as its params; a failed check returns its code (> 0) before
    the next call, otherwise the entry returns 0. A compiled graph becomes one call from Python
    (pointers bound once); kernels stay separate noinline functions (compile time)."""
    name: str
    buffers: tuple          # Params describing the buffer table
    calls: tuple            # ((callee name, (buffer index, ...)), ...)
    serial: bool | None = None   # kernels on the calling thread; None: when a gemm is called
    # ((calls done, bool buffer index, code), ...): after that many calls, if any element
    # of the buffer is set, return ``code`` (> 0) at once; the entry returns 0 otherwise
    checks: tuple = ()

    def signature(self):
        return {"name": self.name, "kind": "entry",
                "params": [{"name": p.name, "dtype": p.dtype, "shape": list(p.shape),
                            "role": p.role} for p in self.buffers]}


def verify_entry(e: Entry, callees: dict) -> Entry:
    """``callees``: name -> Kernel or Matmul defined in the same module."""
    def err(msg):
        raise KernelIRError(f"entry {e.name!r}: {msg}")
    for i, (callee, idx) in enumerate(e.calls):
        k = callees.get(callee)
        if k is None:
            err(f"call {i}: no kernel named {callee!r} in this module")
        if len(idx) != len(k.params):
            err(f"call {i} ({callee}): {len(idx)} buffers for {len(k.params)} params")
        for j, p in zip(idx, k.params):
            if not 0 <= j < len(e.buffers):
                err(f"call {i} ({callee}): buffer index {j} out of range")
            buf = e.buffers[j]
            if buf.dtype != p.dtype or numel(buf.shape) != numel(p.shape):
                err(f"call {i} ({callee}): param {p.name!r} is {p.dtype}{list(p.shape)}, "
                    f"buffer {buf.name!r} is {buf.dtype}{list(buf.shape)}")
            if p.role != "in":
                if buf.role == "in":
                    err(f"call {i} ({callee}) writes input buffer {buf.name!r}")
    for after, j, code in e.checks:
        if not 0 <= after <= len(e.calls) or not 0 <= j < len(e.buffers) or code <= 0:
            err(f"check ({after}, {j}, {code}) out of range")
        if e.buffers[j].dtype != "bool":
            err(f"check reads {e.buffers[j].dtype} buffer {e.buffers[j].name!r}, not bool")
    return e
