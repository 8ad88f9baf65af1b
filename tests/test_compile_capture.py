"""ember.compile capture semantics: values vs eager, lifted state, guards and retraces,
random numbers, untraceable constructs, compiled forward with eager backward."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.compiler.errors import TraceError


def _compiled(fn):
    """Compile and call once eagerly (the documented warm-up), so the next call traces."""
    return ember.compile(fn)


def _run_twice(c, *args):
    c(*args)            # eager warm-up
    return c(*args)     # traced + compiled


def test_values_match_eager_and_graph_keeps_user_lines():
    def f(x, y):
        return ember.relu(x * 1.5 + 0.5) * ember.sigmoid(x) - ember.tanh(x) / 2 + y.sum()
    x, y = ember.randn(4, 5), ember.randn(3)
    c = _compiled(f)
    np.testing.assert_allclose(_run_twice(c, x, y).numpy(), f(x, y).numpy(), rtol=1e-6, atol=1e-7)
    g = ember.explain(f, x, y).graph
    here = __file__
    assert all(n.loc and n.loc.startswith(here) for n in g.nodes if n.op != "input")


@pytest.mark.parametrize("name,fn,shape,kernels", [
    ("chain", lambda x: ember.relu(x * 1.5 + 0.5) * ember.sigmoid(x) - ember.tanh(x) / 2,
     (64, 32), 1),
    ("gelu", lambda x: F.gelu(x, approximate="tanh"), (64, 32), 1),
    ("softmax", lambda x: ember.softmax(x, dim=-1), (64, 32), 1),
    ("layer_norm", lambda x: F.layer_norm(x, (32,)), (64, 32), 1),
])
def test_kernel_counts(name, fn, shape, kernels):
    assert ember.explain(fn, ember.randn(*shape)).num_kernels == kernels


def test_log_softmax_nll_is_one_kernel():
    x, y = ember.randn(64, 10), ember.randint(0, 10, (64,))
    assert ember.explain(lambda a, b: F.nll_loss(F.log_softmax(a, dim=1), b), x, y).num_kernels == 1


def test_gelu_forward_backward_at_most_two_kernels():
    def f(x):
        x.requires_grad_(True)
        return ember.autograd.grad(F.gelu(x, approximate="tanh").sum(), x)[0]
    assert ember.explain(f, ember.randn(64, 32)).num_kernels <= 2


def test_retrace_counting():
    calls = []

    def f(x):
        calls.append(1)
        return (x * 2).sum()
    c = _compiled(f)
    for _ in range(4):
        c(ember.randn(8, 3))
    assert (c.traces, c.retraces) == (1, 0)
    c(ember.randn(5, 3))                    # a new batch size: exactly one retrace
    c(ember.randn(5, 3))
    assert (c.traces, c.retraces) == (2, 1)
    assert "shape" in c.last_retrace_reason
    assert len(calls) == 3                  # warm-up + two traces; cached calls run no Python


def test_parameter_data_replacement_retraces_and_uses_new_values():
    lin = nn.Linear(3, 2)
    c = _compiled(lambda x: lin(x))
    x = ember.randn(4, 3)
    _run_twice(c, x)
    lin.weight.data = ember.ones(2, 3)
    out = c(x)
    assert c.retraces == 1
    np.testing.assert_allclose(out.detach().numpy(), lin(x).detach().numpy(), rtol=1e-6)


def test_closure_tensor_is_lifted_not_baked():
    scale = ember.tensor([2.0])

    def f(x):
        return x * scale
    c = _compiled(f)
    x = ember.ones(3)
    _run_twice(c, x)
    with ember.no_grad():
        scale.fill_(5.0)                    # same storage, new value: no retrace needed
    np.testing.assert_allclose(c(x).numpy(), [5.0, 5.0, 5.0])
    assert c.retraces == 0


def test_inplace_update_of_argument_view_writes_back():
    def f(x):
        x[1:, 0] += 10.0
        x.view(-1)[0] = -1.0
        return x.sum()
    a = ember.arange(6.0).reshape(3, 2)
    b = a.clone()
    c = _compiled(f)
    c(b.clone())                             # warm-up on a copy
    got = c(b)
    want = f(a)
    np.testing.assert_allclose(b.numpy(), a.numpy())
    assert got.item() == pytest.approx(want.item())


def test_dropout_masks_match_eager_and_differ_within_graph():
    def f(x):
        return F.dropout(x, 0.5, training=True), F.dropout(x, 0.5, training=True)
    x = ember.ones(64)
    c = _compiled(f)
    ember.manual_seed(123)
    c(x)                                     # warm-up (eager)
    state = ember.get_rng_state()
    a1, a2 = c(x)                            # compiled
    ember.set_rng_state(state)
    e1, e2 = f(x)                            # eager from the same generator state
    np.testing.assert_array_equal(a1.numpy(), e1.numpy())
    np.testing.assert_array_equal(a2.numpy(), e2.numpy())
    assert not np.array_equal(a1.numpy(), a2.numpy())
    b1, _ = c(x)                             # the generator advanced: a new mask
    assert not np.array_equal(a1.numpy(), b1.numpy())


def _line_of(fragment):
    with open(__file__) as fh:
        for k, line in enumerate(fh, 1):
            if fragment in line:
                return k
    raise AssertionError(fragment)


@pytest.mark.parametrize("body,marker,word", [
    (lambda x: x.sum().item(), "x.sum().item()", ".item()"),
    (lambda x: x.numpy(), "lambda x: x.numpy()", ".numpy()"),
    (lambda x: x * 2 if x.sum() > 0 else x, "x * 2 if x.sum() > 0", "bool(tensor)"),
    (lambda x: print(x), "lambda x: print(x)", "printing"),
    (lambda x: x[x > 0], "lambda x: x[x > 0]", "data-dependent shape"),
    (lambda x: x.nonzero(), "lambda x: x.nonzero()", "data-dependent shape"),
])
def test_untraceable_constructs_point_at_the_user_line(body, marker, word):
    with pytest.raises(TraceError) as ei:
        ember.explain(body, ember.randn(4))
    msg = str(ei.value)
    assert word in msg
    assert f"{__file__}:{_line_of(marker)}" in msg


def test_tensor_escaping_the_trace_is_an_error():
    box = []

    def f(x):
        y = x * 2
        box.append(y)                  # stored outside: the program could never update it
        return y.sum()
    c = _compiled(f)
    c(ember.ones(3))                   # eager warm-up: fine
    with pytest.raises(TraceError, match="outlive") as ei:
        c(ember.ones(3))
    assert f"{__file__}:{_line_of('y = x * 2')}" in str(ei.value)
    with pytest.raises(TraceError, match="escaped"):
        box[-1] + 1                    # and the stored tensor says so if used


def test_lazily_created_state_without_warmup_is_refused():
    """Tracing the very first step of a momentum optimizer would bake in its creation."""
    m = nn.Linear(3, 2)
    opt = ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        m(x).sum().backward()
        opt.step()
    c = ember.compile(step)
    c.eager_calls = 1                  # skip the documented eager first call
    with pytest.raises(TraceError, match="outlive"):
        c(ember.ones(4, 3))


def test_autograd_function_traces():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    def f(x):
        x = x.detach().requires_grad_(True)
        return ember.autograd.grad(Square.apply(x).sum(), x)[0]
    x = ember.randn(5, dtype=ember.float64)
    np.testing.assert_allclose(_run_twice(_compiled(f), x).numpy(), 2 * x.numpy())


def _model(seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def test_compiled_forward_eager_backward_gradients_equal_eager():
    m = _model()
    cm = ember.compile(m)
    x = ember.randn(4, 6, dtype=ember.float64, requires_grad=True)
    y = ember.randint(0, 3, (4,))
    cm(x)                                    # warm-up
    out = cm(x)
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    F.cross_entropy(out, y).backward()
    got = [p.grad.numpy().copy() for p in m.parameters()] + [x.grad.numpy().copy()]
    m.zero_grad()
    x.grad = None
    F.cross_entropy(m(x), y).backward()
    want = [p.grad.numpy() for p in m.parameters()] + [x.grad.numpy()]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _eager_saved_bytes(out):
    """Bytes of distinct arrays eager autograd keeps for backward."""
    seen, total, stack, nodes = set(), 0, [out.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in nodes:
            continue
        nodes.add(id(n))
        for t in getattr(n, "_saved", None) or ():
            d = getattr(t, "_data", None)
            if isinstance(d, np.ndarray):
                base = d.base if d.base is not None else d
                if id(base) not in seen:
                    seen.add(id(base))
                    total += base.nbytes
        if getattr(n, "_out", None) is not None:
            d = n._out.data
            base = d.base if d.base is not None else d
            if id(base) not in seen:
                seen.add(id(base))
                total += base.nbytes
        stack.extend(nx for nx, _ in n.next_functions)
    return total


def test_saved_residuals_never_exceed_eager():
    m = _model()
    cm = ember.compile(m)
    x = ember.randn(16, 6, dtype=ember.float64)
    cm(x)
    cm(x)
    exe = next(iter(cm._compiled_forward._cache.values())).executable
    report = exe.partition.report()
    assert "saved residuals" in report and __file__.split("/")[-1] in report or "input" in report
    assert exe.partition.saved_bytes <= _eager_saved_bytes(m(x))


def test_module_wrapper_shares_parameters_and_follows_train_eval():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    cm = ember.compile(m)
    assert list(cm.state_dict()) == list(m.state_dict())
    assert list(cm.parameters())[0] is list(m.parameters())[0]
    x = ember.ones(8, 4)
    cm.eval()
    cm(x)
    e = cm(x)
    np.testing.assert_allclose(e.detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    cm.train()
    t = cm(x)                                # training flag changed: retrace, dropout on
    assert cm._compiled_forward.retraces == 1
    assert (t.detach().numpy() == 0).any()


def test_returned_input_is_a_copy_not_an_alias():
    """Documented: a compiled function returning an input returns a copy of it."""
    c = _compiled(lambda x: x)
    x = ember.ones(3)
    y = _run_twice(c, x)
    assert y is not x and not np.shares_memory(y.numpy(), x.numpy())
    np.testing.assert_array_equal(y.numpy(), x.numpy())


def test_unimplemented_options_raise():
    for kw in ({"dynamic": True}, {"fullgraph": False}, {"backend": "tvm"}):
        with pytest.raises(NotImplementedError):
            ember.compile(lambda x: x, **kw)


def test_decorator_form():
    @ember.compile
    def f(x):
        return x.exp().sum()
    x = ember.randn(3)
    assert _run_twice(f, x).item() == pytest.approx(math.fsum(np.exp(x.numpy()).tolist()),
                                                    rel=1e-5)


def test_wrong_arity_and_non_tensor_arguments():
    def f(x, y):
        return x * y
    c = _compiled(f)
    x = ember.ones(3)
    _run_twice(c, x, x)
    with pytest.raises(TypeError):           # wrong arity: a retrace, and Python's own error
        c(x)
    out = c(x, 2.0)                           # a Python number where a tensor was traced:
    np.testing.assert_array_equal(out.numpy(), [2.0, 2.0, 2.0])   # specialised, retraced
    out = c(x, 3.0)                           # another value: guarded by value, retraced
    np.testing.assert_array_equal(out.numpy(), [3.0, 3.0, 3.0])
    assert c.retraces >= 2


def test_compiled_backward_reads_saved_inputs_and_checks_versions():
    w = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    c = ember.compile(lambda x: (x @ w).tanh().sum())
    x = ember.randn(5, 4, dtype=ember.float64, requires_grad=True)
    c(x)
    out = c(x)                                   # compiled: x and w are saved by reference
    exe = next(iter(c._cache.values())).executable
    assert exe.input_residuals                   # not copied out of the forward
    out.backward()
    gx = x.grad.numpy().copy()
    x.grad = None
    (x @ w).tanh().sum().backward()
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-12)
    out = c(x)
    with ember.no_grad():
        x.add_(1.0)                              # modified after being saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()
