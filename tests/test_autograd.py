"""The autograd surface: grad_fn names and next_functions, backward/grad arguments,
accumulation, retain_grad, hooks, higher-order gradients, gradcheck. Values are checked
against PyTorch (importorskip) or closed forms."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def _lib_of(x):
    return ember if isinstance(x, ember.Tensor) else torch


GRAD_FN_CASES = {
    "add": lambda x, y: x + x, "add_scalar": lambda x, y: x + 1, "radd": lambda x, y: 1 + x,
    "sub": lambda x, y: x - x, "mul": lambda x, y: x * x, "div": lambda x, y: x / x,
    "neg": lambda x, y: -x, "mm": lambda x, y: x @ y, "mm_method": lambda x, y: x.mm(y),
    "exp": lambda x, y: x.exp(), "log": lambda x, y: x.abs().log(), "sin": lambda x, y: x.sin(),
    "tanh": lambda x, y: x.tanh(), "sum": lambda x, y: x.sum(), "view": lambda x, y: x.view(12),
    "reshape": lambda x, y: x.reshape(12), "reshape_copy": lambda x, y: x.t().reshape(12),
    "T": lambda x, y: x.T, "t": lambda x, y: x.t(), "transpose": lambda x, y: x.transpose(0, 1),
    "permute": lambda x, y: x.permute(1, 0), "unsqueeze": lambda x, y: x.unsqueeze(0),
    "squeeze_dim": lambda x, y: x.unsqueeze(0).squeeze(0), "squeeze": lambda x, y: x.unsqueeze(0).squeeze(),
    "expand": lambda x, y: x.unsqueeze(0).expand(2, 3, 4), "select": lambda x, y: x[0],
    "slice": lambda x, y: x[1:], "slice2": lambda x, y: x[:, 1:], "none": lambda x, y: x[None],
    "index": lambda x, y: x[[0, 1]], "mask": lambda x, y: x[x > 0], "narrow": lambda x, y: x.narrow(0, 0, 2),
    "chunk": lambda x, y: x.chunk(2)[0], "split": lambda x, y: x.split(2)[0],
    "split_sizes": lambda x, y: x.split([1, 2])[0], "unbind": lambda x, y: x.unbind()[0],
    "clone": lambda x, y: x.clone(), "flip": lambda x, y: x.flip(0), "repeat": lambda x, y: x.repeat(2, 1),
    "cat": lambda x, y: _lib_of(x).cat([x, x]), "stack": lambda x, y: _lib_of(x).stack([x, x]),
    "double": lambda x, y: x.double(), "contiguous": lambda x, y: x.t().contiguous(),
    "abs": lambda x, y: x.abs(), "sqrt": lambda x, y: x.abs().sqrt(), "flatten": lambda x, y: x.flatten(),
    "x[0][0]": lambda x, y: x[0][0], "x[1:, 0]": lambda x, y: x[1:, 0], "x[0, None]": lambda x, y: x[0, None],
    "x[...]": lambda x, y: x[...], "movedim": lambda x, y: x.movedim(0, 1), "mT": lambda x, y: x.mT,
}


@pytest.mark.parametrize("name", list(GRAD_FN_CASES))
def test_grad_fn_names_match_torch(name):
    f = GRAD_FN_CASES[name]
    x = ember.randn(3, 4, requires_grad=True)
    y = ember.randn(4, 3, requires_grad=True)
    tx = torch.randn(3, 4, requires_grad=True)
    ty = torch.randn(4, 3, requires_grad=True)
    assert type(f(x, y).grad_fn).__name__ == type(f(tx, ty).grad_fn).__name__


def _graph_signature(lib):
    a = lib.tensor([1., 2.], requires_grad=True)
    b = lib.tensor([3., 4.])
    y = a * b + a
    def names(node):
        return [(type(n).__name__ if n is not None else None, i) for n, i in node.next_functions]
    mul = y.grad_fn.next_functions[0][0]
    return (type(y.grad_fn).__name__, names(y.grad_fn), names(mul),
            a.grad_fn, a.is_leaf, y.is_leaf, b.requires_grad, y.requires_grad,
            mul.next_functions[0][0].variable is a)


def test_next_functions_match_torch():
    assert _graph_signature(ember) == _graph_signature(torch)


def _scenarios():
    def retain(L):
        a = L.tensor([1., 2.], requires_grad=True)
        y = (a * a).sum()
        y.backward(retain_graph=True)
        y.backward()
        return a.grad.tolist()

    def gradient_arg(L):
        a = L.tensor([1., 2.], requires_grad=True)
        (a * a).backward(L.tensor([1., 10.]))
        return a.grad.tolist()

    def retain_grad(L):
        a = L.tensor([1., 2.], requires_grad=True)
        b = a * 3
        b.retain_grad()
        (b * b).sum().backward()
        return b.grad.tolist(), b.retains_grad, a.retains_grad

    def accumulate(L):
        x = L.tensor([1., 2.], requires_grad=True)
        (x * x).sum().backward()
        (x * x).sum().backward()
        g1 = x.grad.tolist()
        x.grad = None
        (x * 3).sum().backward()
        return g1, x.grad.tolist()

    def higher(L):
        x = L.tensor([0.5, 1.5], dtype=L.float64, requires_grad=True)
        g, = L.autograd.grad((x ** 3).sum(), x, create_graph=True)
        g2, = L.autograd.grad(g.sum(), x, create_graph=True)
        g3, = L.autograd.grad(g2.sum(), x)
        return g.tolist(), g2.tolist(), g3.tolist()

    def second_derivs(L):
        x = L.tensor([0.5, 1.5], dtype=L.float64, requires_grad=True)
        out = []
        for f in (L.sin, L.tanh, L.exp, L.sigmoid, L.log, L.sqrt, lambda t: t.pow(2.5)):
            g, = L.autograd.grad(f(x).sum(), x, create_graph=True)
            h, = L.autograd.grad(g.sum(), x)
            out.append(np.round(h.numpy(), 10).tolist())
        return out

    def unused(L):
        x = L.tensor([1.], requires_grad=True)
        z = L.tensor([1.], requires_grad=True)
        gx, gz = L.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
        return gx.tolist(), gz

    def grad_outputs(L):
        x = L.tensor([1., 2.], requires_grad=True)
        return L.autograd.grad(x * x, x, grad_outputs=L.tensor([1., 3.]))[0].tolist()

    def grad_leaves_grad_alone(L):
        x = L.tensor([1., 2.], requires_grad=True)
        L.autograd.grad((x * x).sum(), x)
        return x.grad

    def hooks(L):
        x = L.tensor([1., 2.], requires_grad=True)
        seen = []
        h = x.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
        y = x * 3
        y.register_hook(lambda g: g + 1)
        y.sum().backward()
        g1 = x.grad.tolist()
        h.remove()
        x.grad = None
        (x * 3).sum().backward()
        return seen, g1, x.grad.tolist()

    def backward_inputs(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = L.tensor([1., 2.], requires_grad=True)
        (x * y).sum().backward(inputs=[x])
        return x.grad.tolist(), y.grad

    def create_graph_backward(L):
        x = L.tensor([1., 2.], requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        (h,) = L.autograd.grad(g.sum(), x)
        return g.requires_grad, h.tolist()

    def detach(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        d = y.detach()
        y.detach_()
        return y.requires_grad, y.is_leaf, y.grad_fn, d.requires_grad, d.is_leaf

    def leafness(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 2
        z = L.tensor([1.])
        with L.no_grad():
            w = x * 2
        return (x.is_leaf, y.is_leaf, z.is_leaf, w.is_leaf, w.requires_grad,
                x.detach().is_leaf, x.detach().requires_grad, (z * 2).requires_grad)

    def contagion(L):
        x = L.tensor([1., 2.], requires_grad=True)
        z = L.tensor([3., 4.])
        return [t.requires_grad for t in (x + z, z * 2, L.cat([z, x]), x[0], x > 1,
                                          x.argmax(), x.sum(), L.where(x > 1, z, z))]

    def requires_grad_(L):
        z = L.tensor([3., 4.])
        z.requires_grad_()
        w = L.tensor([1.])
        w.requires_grad = True
        return z.requires_grad, w.requires_grad, z.is_leaf

    def broadcast_grads(L):
        a = L.tensor([[1.], [2.]], requires_grad=True)
        b = L.tensor([1., 2., 3.], requires_grad=True)
        ((a * b) ** 2).sum().backward()
        return a.grad.tolist(), b.grad.tolist()

    def dtype_grads(L):
        a = L.tensor([1., 2.], dtype=L.float64, requires_grad=True)
        b = L.tensor([3., 4.], requires_grad=True)
        (a * b).sum().backward()
        return str(a.grad.dtype), str(b.grad.dtype), b.grad.tolist()
    return [retain, gradient_arg, retain_grad, accumulate, higher, second_derivs, unused,
            grad_outputs, grad_leaves_grad_alone, hooks, backward_inputs, create_graph_backward,
            detach, leafness, contagion, requires_grad_, broadcast_grads, dtype_grads]


@pytest.mark.parametrize("fn", _scenarios(), ids=lambda f: f.__name__)
def test_autograd_scenarios_match_torch(fn):
    e = fn(ember)
    t = fn(torch)
    assert repr(e).replace("ember.", "torch.") == repr(t)


def test_second_backward_through_freed_graph_raises():
    a = ember.tensor([1., 2.], requires_grad=True)
    y = (a * a).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_errors():
    a = ember.tensor([1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\)"):
        (a * 2).backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (a * 2).backward(ember.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()
    z = ember.tensor([1.], requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        ember.autograd.grad((a * 2).sum(), [a, z])
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf variables"):
        (a * 2).requires_grad_(False)


@pytest.mark.parametrize("f", [
    lambda x: (x ** 3).sum(), lambda x: x.sin() * x.cos(), lambda x: x.tanh().exp(),
    lambda x: (x.unsqueeze(0) @ x.unsqueeze(1)).sum(), lambda x: x.sigmoid() / (1 + x * x),
    lambda x: x[1:] * x[:-1],
])
def test_gradcheck_and_gradgradcheck(f):
    x = ember.tensor([0.3, -0.7, 1.2], dtype=ember.float64, requires_grad=True)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_gradcheck_detects_wrong_gradient():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    x = ember.tensor([0.5, 1.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    with pytest.raises(ember.autograd.GradcheckError):
        gradcheck(Wrong.apply, (x,))


def test_gradcheck_on_non_contiguous_input():
    base = ember.tensor(np.arange(6.).reshape(2, 3), dtype=ember.float64)
    x = base.t().detach().requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda t: (t * t).sum(0), (x,))


def test_create_graph_third_derivative_closed_form():
    x = ember.tensor(0.7, dtype=ember.float64, requires_grad=True)
    g, = ember.autograd.grad(x.sin(), x, create_graph=True)
    h, = ember.autograd.grad(g, x, create_graph=True)
    k, = ember.autograd.grad(h, x)
    np.testing.assert_allclose([g.item(), h.item(), k.item()],
                               [np.cos(0.7), -np.sin(0.7), -np.cos(0.7)], rtol=1e-12)


INPLACE_NAME_CASES = [
    "squeeze_()", "squeeze_(1)", "squeeze_((1,))", "transpose_(0, 1)", "unsqueeze_(0)",
    "mul_(2)", "exp_()", "clamp_(0, 1)", "masked_fill_(y > 0, 1.)", "copy_(a)",
    "fill_(a[0, 0, 0])", "fill_(2.)", "zero_()", "__setitem__(0, 5.)", "__setitem__([0], 5.)",
    "__setitem__(y > 0, 5.)", "sigmoid_()", "relu_()", "pow_(2)", "add_(1)", "sub_(a)",
    "div_(2)", "neg_()", "sqrt_()", "tanh_()", "sin_()", "clamp_(min=0)",
    "index_put_((L.tensor([0]),), L.tensor(1.))",
]


@pytest.mark.parametrize("call", INPLACE_NAME_CASES)
def test_inplace_grad_fn_names_match_torch(call):
    names = []
    for L in (ember, torch):
        a = L.ones(2, 1, 3, requires_grad=True)
        y = a * 1
        eval("y." + call, {"y": y, "a": a, "L": L})
        names.append(type(y.grad_fn).__name__)
    assert names[0] == names[1]


def test_view_inplace_grad_fn_names_match_torch():
    names = []
    for L in (ember, torch):
        y = L.ones(2, 3, requires_grad=True) * 1
        v, w = y[0], y[1]
        v.mul_(2)
        names.append([type(t.grad_fn).__name__ for t in (y, v, w)])
    assert names[0] == names[1]
