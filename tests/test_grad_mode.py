"""Grad modes as context managers and decorators, checked against PyTorch."""
import threading

import pytest

import ember

torch = pytest.importorskip("torch")


def _scenario(L):
    x = L.ones(2, requires_grad=True)
    r = []
    with L.no_grad():
        r += [(x * 2).requires_grad, L.is_grad_enabled()]
        with L.enable_grad():
            r.append((x * 2).requires_grad)
        r.append(L.is_grad_enabled())
    r.append(L.is_grad_enabled())

    @L.no_grad()
    def f():
        return (x * 2).requires_grad, L.is_grad_enabled()

    @L.no_grad
    def f2():
        return (x * 2).requires_grad

    @L.enable_grad()
    def f3():
        return (x * 2).requires_grad

    @L.set_grad_enabled(False)
    def f4():
        return (x * 2).requires_grad

    r += [f(), f2()]
    with L.no_grad():
        r.append(f3())
    r += [f4(), L.is_grad_enabled()]
    with L.set_grad_enabled(False):
        r.append((x * 2).requires_grad)
    r.append(L.is_grad_enabled())
    L.set_grad_enabled(False)
    r.append(L.is_grad_enabled())
    L.set_grad_enabled(True)
    r.append(L.is_grad_enabled())
    with L.inference_mode():
        y = x * 2
        r.append((y.requires_grad, L.is_grad_enabled(), L.is_inference_mode_enabled()))
    with L.inference_mode(False):
        r.append(L.is_grad_enabled())

    @L.inference_mode()
    def f5():
        return (x * 2).requires_grad

    @L.inference_mode
    def f6():
        return (x * 2).requires_grad
    r += [f5(), f6()]
    try:
        with L.no_grad():
            raise ValueError
    except ValueError:
        pass
    r.append(L.is_grad_enabled())

    class M:
        @L.no_grad()
        def meth(self, a):
            return (x * a).requires_grad
    r.append(M().meth(2))

    @L.no_grad()
    def gen():
        yield (x * 2).requires_grad
        yield L.is_grad_enabled()
    g = gen()
    r.append(next(g))
    r.append(L.is_grad_enabled())   # the caller's code between steps runs with grad
    r.append(next(g))
    r.append(f.__name__)
    return r


def test_grad_modes_match_torch():
    assert _scenario(ember) == _scenario(torch)
    assert ember.is_grad_enabled() and not ember.is_inference_mode_enabled()


def test_no_grad_results_are_leaves_without_graph():
    x = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        y = (x * 3).sum()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_grad_mode_is_thread_local():
    seen = []
    with ember.no_grad():
        t = threading.Thread(target=lambda: seen.append(ember.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_set_grad_enabled_restores_on_exit():
    with ember.no_grad():
        with ember.set_grad_enabled(True):
            assert ember.is_grad_enabled()
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
