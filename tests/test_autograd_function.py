"""ember.autograd.Function against PyTorch's torch.autograd.Function."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _fns(L):
    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            y = x.exp() * k
            ctx.save_for_backward(y)
            ctx.k = k
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y, None

    class Multi(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.flags = ctx.needs_input_grad
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x)
            return x * 2, x.sin(), idx

        @staticmethod
        def backward(ctx, g1, g2, g3):
            x, = ctx.saved_tensors
            return g1 * 2 + g2 * x.cos()

    class Two(L.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.flags = ctx.needs_input_grad
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None
    return Exp, Multi, Two


def _x(L):
    return L.tensor([0.5, 1.0], dtype=L.float64, requires_grad=True)


def _cases():
    def single(L):
        Exp, _, _ = _fns(L)
        x = _x(L)
        y = Exp.apply(x, 2.0)
        y.sum().backward()
        return x.grad.tolist(), type(y.grad_fn).__name__, y.requires_grad, y.is_leaf

    def multi(L):
        _, Multi, _ = _fns(L)
        x = _x(L)
        a, b, i = Multi.apply(x)
        (a.sum() + b.sum()).backward()
        return x.grad.tolist(), i.requires_grad, a.requires_grad, i.tolist()

    def one_output_used(L):
        _, Multi, _ = _fns(L)
        x = _x(L)
        a, b, i = Multi.apply(x)
        a.sum().backward()
        return x.grad.tolist()

    def higher_order(L):
        Exp, _, _ = _fns(L)
        x = _x(L)
        g, = L.autograd.grad(Exp.apply(x, 1.0).sum(), x, create_graph=True)
        h, = L.autograd.grad(g.sum(), x)
        return np.round(h.numpy(), 10).tolist()

    def no_grad_inputs(L):
        Exp, _, _ = _fns(L)
        y = Exp.apply(L.tensor([0.5, 1.0]), 1.0)
        return y.requires_grad, y.grad_fn

    def needs_input_grad(L):
        _, _, Two = _fns(L)
        a = _x(L)
        b = L.tensor([2.0, 3.0], dtype=L.float64)
        Two.apply(a, b, 2.0).sum().backward()
        return a.grad.tolist(), b.grad

    def next_functions(L):
        _, Multi, _ = _fns(L)
        a, _, _ = Multi.apply(_x(L))
        return [type(n).__name__ if n else None for n, _ in a.grad_fn.next_functions]

    def identity(L):
        class Id(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3
        x = L.tensor([1.], requires_grad=True)
        y = Id.apply(x)
        y.sum().backward()
        return x.grad.tolist(), y is x

    def in_graph(L):
        Exp, _, _ = _fns(L)
        x = _x(L)
        y = Exp.apply(x * 2, 1.0).sin()
        y.sum().backward()
        return np.round(x.grad.numpy(), 10).tolist()
    return [single, multi, one_output_used, higher_order, no_grad_inputs, needs_input_grad,
            next_functions, identity, in_graph]


@pytest.mark.parametrize("fn", _cases(), ids=lambda f: f.__name__)
def test_function_matches_torch(fn):
    assert repr(fn(ember)) == repr(fn(torch))


def test_needs_input_grad_flags():
    _, Multi, Two = _fns(ember)
    a = _x(ember)
    b = ember.tensor([1.0, 2.0], dtype=ember.float64)
    out = Two.apply(a, b, 1.0)
    assert out.grad_fn.ctx.flags == (True, False, False)


def test_function_errors():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g
    x = ember.tensor([1.], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()
    Exp, _, _ = _fns(ember)
    y = Exp.apply(_x(ember), 1.0)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = Exp.apply(_x(ember), 1.0)
    s = y.sum()
    s.backward()
    with pytest.raises(RuntimeError, match="second time"):
        s.backward()


def test_function_gradcheck():
    Exp, Multi, Two = _fns(ember)
    a = _x(ember)
    b = ember.tensor([2.0, -1.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: Two.apply(a, b, 3.0), (a, b))
    assert ember.autograd.gradcheck(lambda a: Multi.apply(a)[1], (a,))


def test_hooks_on_each_output_and_node_prehook():
    out = []
    for L in (ember, torch):
        _, Multi, _ = _fns(L)
        x = _x(L)
        a, b, _ = Multi.apply(x)
        seen = []
        b.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
        h = a.register_hook(lambda g: g * 0)
        h.remove()
        a.grad_fn.register_prehook(lambda gs: seen.append(len(gs)))
        (a.sum() * 2 + (b * 3).sum()).backward()
        out.append((seen, np.round(x.grad.numpy(), 10).tolist()))
    assert out[0] == out[1]


def test_setup_context_style():
    out = []
    for L in (ember, torch):
        class Cube(L.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x ** 3 * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.save_for_backward(x)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return g * 3 * x ** 2 * ctx.k, None
        x = _x(L)
        Cube.apply(x, 2.0).sum().backward()
        out.append(x.grad.tolist())
    assert out[0] == out[1]
