"""Views share storage exactly where PyTorch's do; in-place ops through views are
differentiable (finite differences and parity with PyTorch); version counters."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

torch = pytest.importorskip("torch")

VIEW_FNS = {
    "view": lambda x: x.view(6, 4), "reshape": lambda x: x.reshape(6, 4),
    "reshape_copy": lambda x: x.transpose(0, 1).reshape(-1), "slice": lambda x: x[:, 1:],
    "slice_step": lambda x: x[..., ::2], "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1), "expand": lambda x: x[:, :1].expand(2, 3, 4),
    "squeeze": lambda x: x[:1].squeeze(0), "unsqueeze": lambda x: x.unsqueeze(1),
    "narrow": lambda x: x.narrow(2, 1, 2), "chunk": lambda x: x.chunk(2, 2)[1],
    "split": lambda x: x.split(1)[1], "select": lambda x: x.select(1, 1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)), "view_as": lambda x: x.view_as(x),
    "T": lambda x: x[0].T, "t": lambda x: x[0].t(), "mT": lambda x: x.mT,
    "detach": lambda x: x.detach(), "data": lambda x: x.data, "flip": lambda x: x.flip(0),
    "repeat": lambda x: x.repeat(1, 1, 1), "clone": lambda x: x.clone(),
    "contiguous": lambda x: x.contiguous(), "contiguous_copy": lambda x: x.transpose(0, 1).contiguous(),
    "flatten": lambda x: x.flatten(), "flatten_copy": lambda x: x.transpose(0, 1).flatten(),
    "unbind": lambda x: x.unbind(1)[2], "int": lambda x: x[1], "none": lambda x: x[None],
    "ellipsis": lambda x: x[..., 0], "adv": lambda x: x[[0]], "mask": lambda x: x[x > 3],
    "float": lambda x: x.float(), "double": lambda x: x.double(), "movedim": lambda x: x.movedim(0, 2),
    "ravel": lambda x: x.ravel(), "squeeze_all": lambda x: x.squeeze(), "swapaxes": lambda x: x.swapaxes(0, 1),
    "tensor_split": lambda x: x.tensor_split(2, 1)[1], "to_same": lambda x: x.to(x.dtype),
    "expand_as": lambda x: x.expand_as(x), "element": lambda x: x[1, 2, 3],
}


def _writes_through(lib, fn):
    x = lib.arange(24.).reshape(2, 3, 4).clone()
    before = x.clone()
    y = fn(x)
    with lib.no_grad():
        y.fill_(-1.0)
    return bool((x != before).any())


@pytest.mark.parametrize("name", list(VIEW_FNS))
def test_storage_sharing_matches_torch(name):
    fn = VIEW_FNS[name]
    assert _writes_through(ember, fn) == _writes_through(torch, fn)


@pytest.mark.parametrize("name", [n for n in VIEW_FNS if n not in ("data", "detach")])
def test_view_records_base_and_chain(name):
    x = ember.arange(24.).reshape(2, 3, 4).clone()
    y = VIEW_FNS[name](x)
    if y._base is None:
        return
    assert y._base is x
    # replaying the recorded chain of movement primitives on the base reproduces the view
    from ember.ops import PRIMITIVES, bind
    z = x
    for prim, attrs in y._view_chain:
        z = bind(PRIMITIVES[prim], z, **attrs)
    np.testing.assert_array_equal(z.numpy(), y.numpy())
    assert y._version is x._version


def test_view_assignment_and_data_zero():
    x = ember.zeros(2, 3)
    x.view(6)[0] = 1
    x.T[1] = 2
    assert x.tolist() == [[1., 2., 0.], [0., 2., 0.]]
    w = ember.ones(2, 2, requires_grad=True)
    w.data.zero_()
    assert w.tolist() == [[0., 0.], [0., 0.]] and w.requires_grad and w.grad_fn is None
    w.data[0, 1] = 3.0
    assert w.tolist() == [[0., 3.], [0., 0.]]
    w.data = ember.full((3,), 2.0)
    assert w.shape == (3,) and w.requires_grad


def test_from_numpy_shares_memory():
    a = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(a)
    t[1] = 4
    a[2] = 5
    assert a.tolist() == [0., 4., 5.] and t.tolist() == [0., 4., 5.]
    assert t.dtype is ember.float32


def test_expanded_writes():
    for lib in (ember, torch):
        x = lib.zeros(1, 3).expand(2, 3)
        for bad in (lambda: x.add_(1), lambda: x.copy_(lib.ones(2, 3)),
                    lambda: x.__setitem__(slice(None), 2.0)):
            with pytest.raises(RuntimeError, match="single memory location"):
                bad()
        x[0, 0] = 5.0       # no overlap inside the written element: allowed, as in torch
        x[1].mul_(2)
        assert x.tolist() == [[10., 0., 0.], [10., 0., 0.]]
        x.fill_(1.0)        # fill_ is allowed on an expanded tensor, as in torch
        assert x.tolist() == [[1., 1., 1.], [1., 1., 1.]]
    assert ember.zeros(1, 3).expand(2, 3)._base is not None


def test_impossible_view_suggests_reshape():
    x = ember.zeros(2, 3).t()
    with pytest.raises(RuntimeError, match=r"reshape"):
        x.view(6)
    with pytest.raises(RuntimeError, match=r"invalid for input of size 6"):
        ember.zeros(2, 3).view(4, 2)
    assert x.reshape(6).shape == (6,)


# ------------------------------------------------------------- in-place autograd parity

A = np.random.default_rng(0).standard_normal((3, 4))
B = np.random.default_rng(1).standard_normal((3, 4))


def _inplace_cases():
    def f1(L, a, b):
        y = a * 2
        y.add_(b)
        return y

    def f2(L, a, b):
        y = a * 1
        y[0] = b[1]
        return y

    def f3(L, a, b):
        y = a * 1
        y[:, 1:3].mul_(b[:, :2])
        return y

    def f4(L, a, b):
        y = a.clone()
        v = y.view(12)
        v[3:6] = b.view(12)[0:3] * 5
        return y

    def f5(L, a, b):
        y = a * 1
        y.t()[1].exp_()
        return y

    def f7(L, a, b):
        y = a * 1
        z = y[1]
        z.mul_(b[0])
        return y * z.sum()

    def f8(L, a, b):
        y = a * 1
        y[y > 0] = 0.
        return y

    def f9(L, a, b):
        y = a * 1
        y[[0, 2], 1] = b[0, :2]
        return y

    def f10(L, a, b):
        y = a * 1
        y[..., ::2] += b[..., ::2]
        return y

    def f11(L, a, b):
        y = a + 0
        y.data.mul_(2)
        return y

    def f12(L, a, b):
        y = b * 1
        y.copy_(a)
        return y * b

    def f13(L, a, b):   # a sibling view sees the update (PyTorch regenerates its grad_fn)
        y = a * 1
        w = y[1:]
        w2 = w[:, 1]
        w2.mul_(3)
        return y + w.sum()

    def f13b(L, a, b):  # in-place on the base, then use an older view
        y = a * 1
        w = y[1:]
        y.mul_(b)
        return w * 2

    def f15(L, a, b):
        y = a * 1
        y.masked_fill_(b > 0, 2.0)
        return y

    def f16(L, a, b):
        y = a * 1
        y.clamp_(-0.5, 0.5)
        y.pow_(2)
        return y

    def f17(L, a, b):
        y = (a * 1).unsqueeze(0)
        y.squeeze_(0)
        y.t_()
        return y

    def f18(L, a, b):
        y = a * 1
        y.zero_()
        y += b
        return y

    def f19(L, a, b):
        y = a * 1
        y.view(4, 3)[1:].fill_(2.)
        return y

    def f20(L, a, b):
        y = a * 1
        y[:, 0] = 7.
        y -= b
        y *= a
        y /= 2
        return y

    def f21(L, a, b):   # in-place on a non-grad buffer from a grad tensor
        y = L.zeros(3, 4, dtype=L.float64)
        y[1] = a[0]
        y[:, 2:] = b[:, :2] * 2
        return y
    return [f1, f2, f3, f4, f5, f7, f8, f9, f10, f11, f12, f13, f13b, f15, f16, f17, f18,
            f19, f20, f21]


def _run(lib, f):
    a = lib.tensor(A, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    out = f(lib, a, b)
    w = lib.tensor(np.arange(out.numel()).reshape(tuple(out.shape)) + 1.0)
    (out * w).sum().backward()
    return [out.detach().numpy().copy()] + [None if g is None else g.numpy().copy()
                                            for g in (a.grad, b.grad)]


@pytest.mark.parametrize("f", _inplace_cases(), ids=lambda f: f.__name__)
def test_inplace_grads_match_torch(f):
    for e, t in zip(_run(ember, f), _run(torch, f)):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [f for f in _inplace_cases() if f.__name__ != "f11"],
                         ids=lambda f: f.__name__)
def test_inplace_grads_finite_differences(f):
    # (f11 writes through .data, which is invisible to autograd by design)
    a = ember.tensor(A, requires_grad=True)
    b = ember.tensor(B, requires_grad=True)
    assert gradcheck(lambda a, b: f(ember, a, b), (a, b))


def test_version_counter():
    x = ember.zeros(3)
    v = x[1:]
    assert x._version[0] == 0
    x.add_(1)
    assert x._version[0] == 1 and v._version[0] == 1
    v.mul_(2)
    assert x._version[0] == 2
    x[0] = 5
    assert x._version[0] == 3
    y = x.detach()
    y.zero_()
    assert x._version[0] == 4     # detach shares the counter (as PyTorch)
    x.data.zero_()
    assert x._version[0] == 4     # .data does not


def test_modified_saved_tensor_raises():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1
    z = y * y          # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    e = a.exp()        # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="version 1; expected version 0"):
        e.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        a.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        a[0] = 2.0
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        a[1:].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        a.unsqueeze_(0)
    with ember.no_grad():
        a.add_(1)          # allowed without grad recording, as in PyTorch
    assert a.tolist() == [2., 2., 2.] and a.is_leaf


def test_flip_and_repeat_copy():
    x = ember.arange(4.)
    f, r = x.flip(0), x.repeat(2)
    x[0] = 9
    assert f.tolist() == [3., 2., 1., 0.] and r.tolist() == [0., 1., 2., 3.] * 2


def test_retain_grad_follows_inplace_update():
    out = []
    for L in (ember, torch):
        a = L.tensor([1., 2.], requires_grad=True)
        y = a * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        out.append((y.grad.tolist(), a.grad.tolist()))
    assert out[0] == out[1]


def test_base_gains_history_from_inplace_view_write():
    out = []
    for L in (ember, torch):
        a = L.tensor([1., 2., 3.], requires_grad=True)
        buf = L.zeros(2, 3)
        buf[1] = a * 2
        assert buf.requires_grad and not buf.is_leaf
        (buf * L.tensor([[1., 1., 1.], [1., 2., 3.]])).sum().backward()
        out.append(a.grad.tolist())
    assert out[0] == out[1]


from hypothesis import given, strategies as st  # noqa: E402

_STEPS = st.lists(st.sampled_from(["slice", "step", "transpose", "select", "unsqueeze",
                                   "narrow", "flatten", "T"]), min_size=1, max_size=4)
_OPS = st.sampled_from(["mul_", "add_", "exp_", "fill_", "zero_", "copy_", "setitem",
                        "sin_", "clamp_", "adv_setitem", "mask_setitem", "index_add"])


def _apply_step(t, step):
    if step == "slice":
        return t[1:] if t.shape[0] > 1 else t
    if step == "step":
        return t[..., ::2]
    if step == "transpose":
        return t.transpose(0, -1)
    if step == "select":
        return t.select(-1, 0) if t.dim() > 1 else t
    if step == "unsqueeze":
        return t.unsqueeze(1)
    if step == "narrow":
        return t.narrow(0, 0, max(1, t.shape[0] - 1))
    if step == "flatten":
        return t.flatten() if t.is_contiguous() else t
    return t.T if t.dim() == 2 else t


def _scenario(L, steps, op, sibling):
    a = L.tensor(np.linspace(-1, 1, 24).reshape(3, 4, 2), requires_grad=True)
    b = L.tensor(np.linspace(0.5, 2, 24).reshape(3, 4, 2), requires_grad=True)
    y = a * 1.5
    other = y[:, 1:3]                 # an older view of the same base
    v = y
    for s in steps:
        v = _apply_step(v, s)
    src = (b * 2).flatten()[:v.numel()].reshape(tuple(v.shape))
    if op in ("mul_", "add_", "copy_"):
        getattr(v, op)(src)
    elif op == "fill_":
        v.fill_(0.25)
    elif op == "clamp_":
        v.clamp_(-0.3, 0.3)
    elif op == "setitem":
        v[...] = src * src
    elif op == "adv_setitem" and v.dim() > 0:
        v[L.tensor([v.shape[0] - 1, 0])] = src[:1] * 4
    elif op == "mask_setitem":
        v[src > 2] = 0.5
    elif op == "index_add" and v.dim() > 0:
        v[L.tensor([0])] += src[:1]
    else:
        getattr(v, op if op.endswith("_") else "exp_")()
    out = (y * L.tensor(np.arange(24.).reshape(3, 4, 2))).sum()
    if sibling:
        out = out + (other * other).sum() + (v * 3).sum()
    out.backward()
    return y.detach().numpy().copy(), a.grad.numpy().copy(), \
        None if b.grad is None else b.grad.numpy().copy()


@given(_STEPS, _OPS, st.booleans())
def test_random_view_chains_inplace_match_torch(steps, op, sibling):
    for e, t in zip(_scenario(ember, steps, op, sibling), _scenario(torch, steps, op, sibling)):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["slice", "slice_step", "transpose", "permute", "select",
                                  "narrow", "unsqueeze", "int", "element", "view", "T"])
def test_view_metadata_matches_torch(name):
    fn = VIEW_FNS[name]
    e = fn(ember.arange(24.).reshape(2, 3, 4).clone())
    t = fn(torch.arange(24.).reshape(2, 3, 4).clone())
    assert e.stride() == t.stride() and e.storage_offset() == t.storage_offset()
    assert e.is_contiguous() == t.is_contiguous() and e._is_view() == t._is_view()
