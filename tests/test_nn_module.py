"""nn.Module API: registration, traversal, state_dict, hooks, modes, moves, repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.modules import module as module_mod


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.register_buffer("scale", ember.ones(2))
        self.register_buffer("tmp", ember.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_parameter_basics():
    p = nn.Parameter(ember.zeros(2, 3))
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    q = nn.Parameter(ember.zeros(2), requires_grad=False)
    assert not q.requires_grad
    assert isinstance(copy.deepcopy(p), nn.Parameter)
    y = p * 2
    assert type(y) is ember.Tensor and not isinstance(y, nn.Parameter)
    # shares storage with the wrapped tensor
    t = ember.zeros(3)
    pt = nn.Parameter(t)
    with ember.no_grad():
        pt.fill_(5.0)
    assert t.tolist() == [5.0, 5.0, 5.0]


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in net.named_buffers()] == ["scale", "tmp"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert [n for n, _ in net.named_parameters(prefix="m")][0] == "m.fc1.weight"
    assert net.get_submodule("fc1") is net.fc1
    assert net.get_parameter("fc1.bias") is net.fc1.bias


def test_shared_parameters_deduplicated():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert len(list(seq.modules())) == 2


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(ember.zeros(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = ember.zeros(2)
    m.w = None
    assert m.w is None
    m.register_buffer("b", ember.zeros(1))
    m.b = ember.ones(1)
    assert m._buffers["b"].tolist() == [1.0]
    with pytest.raises(TypeError):
        m.b = 3
    m.sub = nn.Linear(1, 1)
    assert "sub" in m._modules
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        m.nothing
    with pytest.raises(KeyError):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(TypeError):
        m.register_parameter("z", ember.zeros(1))


def test_state_dict_round_trip():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]  # own state first
    assert not sd["fc1.weight"].requires_grad
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight
    other = Net()
    res = other.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    for k in sd:
        np.testing.assert_array_equal(other.state_dict()[k].numpy(), sd[k].numpy())
    # loading copies values into the existing Parameters (optimizers keep them)
    w = other.fc1.weight
    other.load_state_dict(Net().state_dict())
    assert other.fc1.weight is w


def test_load_state_dict_errors():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["extra"] = ember.zeros(1)
    with pytest.raises(RuntimeError) as e:
        Net().load_state_dict(sd)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "fc1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    res = Net().load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]
    sd = net.state_dict()
    sd["fc1.weight"] = ember.zeros(5, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param "
                                           r"with shape .*\[5, 3\].* current model is "
                                           r".*\[4, 3\]"):
        Net().load_state_dict(sd, strict=False)


def test_load_state_dict_from_torch_names():
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    enet = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert list(tnet.state_dict()) == list(enet.state_dict())
    enet.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(enet(ember.tensor(x)).detach().numpy(),
                               tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_train_eval_and_epoch():
    net = Net()
    assert net.training and net.fc1.training
    e0 = module_mod._STRUCTURE_EPOCH
    net.eval()
    assert not net.training and not net.fc1.training
    assert module_mod._STRUCTURE_EPOCH > e0
    e1 = module_mod._STRUCTURE_EPOCH
    net.fc3 = nn.Linear(1, 1)
    assert module_mod._STRUCTURE_EPOCH > e1
    e2 = module_mod._STRUCTURE_EPOCH
    h = net.register_forward_hook(lambda m, i, o: None)
    assert module_mod._STRUCTURE_EPOCH > e2
    e3 = module_mod._STRUCTURE_EPOCH
    h.remove()
    assert module_mod._STRUCTURE_EPOCH > e3
    e4 = module_mod._STRUCTURE_EPOCH
    net.some_int = 3  # plain attributes do not change structure
    assert module_mod._STRUCTURE_EPOCH == e4
    with pytest.raises(ValueError):
        net.train("yes")


def test_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    y = lin(ember.ones(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.tile(lin.bias.detach().numpy() + 1, (3, 1)),
                               rtol=1e-6)
    assert calls == [ember.Size([3, 2])]
    h1.remove()
    h2.remove()
    h2.remove()  # idempotent
    y = lin(ember.ones(1, 2))
    expect = lin.weight.detach().numpy().sum(1) + lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy()[0], expect, rtol=1e-6)
    assert len(calls) == 1
    seen = {}
    lin.register_forward_pre_hook(lambda m, a, k: seen.update(k), with_kwargs=True)
    lin(input=ember.ones(1, 2))
    assert "input" in seen


def test_zero_grad_requires_grad_apply():
    net = Net()
    net(ember.ones(2, 3)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad.abs().sum().item() == 0.0
    net.zero_grad()
    assert net.fc1.weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype is ember.float64 and isinstance(w, nn.Parameter)
    assert net.scale.dtype is ember.float64
    net.to(ember.float32)
    assert w.dtype is ember.float32
    y = net(ember.ones(1, 3))
    assert y.dtype is ember.float32
    net.to("cpu")
    with pytest.raises(TypeError, match="floating point"):
        net.to(ember.int64)


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    e = nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False)),
        ("bn", nn.BatchNorm2d(4)), ("act", nn.ReLU(inplace=True)),
        ("pool", nn.MaxPool2d(2)), ("drop", nn.Dropout(0.25)), ("flat", nn.Flatten()),
        ("blocks", nn.ModuleList([nn.Linear(4, 4) for _ in range(3)] + [nn.GELU()])),
        ("fc", nn.Linear(4, 10))]))
    t = torch.nn.Sequential(OrderedDict([
        ("conv", torch.nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False)),
        ("bn", torch.nn.BatchNorm2d(4)), ("act", torch.nn.ReLU(inplace=True)),
        ("pool", torch.nn.MaxPool2d(2)), ("drop", torch.nn.Dropout(0.25)),
        ("flat", torch.nn.Flatten()),
        ("blocks", torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(3)] +
                                       [torch.nn.GELU()])),
        ("fc", torch.nn.Linear(4, 10))]))
    assert repr(e) == repr(t)


@pytest.mark.parametrize("make", [
    "Linear(3, 4, bias=False)", "Bilinear(2, 3, 4)", "Conv1d(2, 4, 3, dilation=2, groups=2)",
    "Conv2d(3, 4, 3, padding='same', padding_mode='reflect')",
    "ConvTranspose2d(3, 4, 3, stride=2, output_padding=1)", "MaxPool1d(3, 2, 1)",
    "AvgPool1d(3)", "AvgPool2d(2, 1)", "AdaptiveAvgPool2d((2, 3))", "AdaptiveMaxPool2d(2)",
    "BatchNorm1d(3, momentum=None)", "BatchNorm2d(3, affine=False)", "LayerNorm(4)",
    "LayerNorm([2, 3], bias=False)", "GroupNorm(2, 4)", "InstanceNorm2d(3)",
    "Dropout2d(0.3, True)", "Embedding(10, 3, padding_idx=0)",
    "Embedding(10, 3, max_norm=1.0, sparse=True)", "Upsample(scale_factor=2, mode='bilinear')",
    "Upsample(size=(4, 5))", "ReLU6()", "LeakyReLU(0.2, True)", "ELU(0.5)", "GELU('tanh')",
    "SiLU()", "Mish()", "Sigmoid()", "Tanh()", "Softplus(2, 10)", "Softmax(dim=1)",
    "LogSoftmax(-1)", "Hardtanh(-2, 2)", "Softsign()", "Hardsigmoid()", "Hardswish()",
    "PReLU(3)", "Flatten(0, 2)", "Unflatten(1, (2, 3))", "Identity()", "ZeroPad2d(2)",
    "ReflectionPad1d((1, 2))", "ConstantPad2d(1, 3.5)", "ReplicationPad2d(1)",
    "PixelShuffle(2)", "Unfold(2)", "Fold(4, 2)", "CosineSimilarity()",
])
def test_layer_repr_matches_torch(make):
    torch = pytest.importorskip("torch")
    assert repr(eval("nn." + make)) == repr(eval("torch.nn." + make))


def test_parameter_list_and_dict_repr():
    torch = pytest.importorskip("torch")
    e = nn.ParameterList([nn.Parameter(ember.zeros(2, 3)), ember.zeros(3)])
    t = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.zeros(3)])
    assert repr(e) == repr(t).replace("torch.", "ember.")
    e = nn.ParameterDict({"a": nn.Parameter(ember.zeros(2, 3))})
    t = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(2, 3))})
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_deepcopy_module():
    net = Net()
    c = copy.deepcopy(net)
    assert c.fc1.weight is not net.fc1.weight
    assert isinstance(c.fc1.weight, nn.Parameter)
    np.testing.assert_array_equal(c.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy())
    with ember.no_grad():
        c.fc1.weight.fill_(0.0)
    assert net.fc1.weight.abs().sum().item() > 0


def test_forward_missing():
    class NoForward(nn.Module):
        pass
    with pytest.raises(NotImplementedError, match="forward"):
        NoForward()(ember.ones(1))


def test_full_backward_hooks_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3))
    res = {}
    for lib, name in ((ember, "e"), (torch, "t")):
        lin = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 10))
            lin.bias.fill_(0.5)
        seen = []
        lin.register_full_backward_pre_hook(lambda m, go: seen.append(("pre", go[0] * 1)) or
                                            (go[0] * 2,))
        lin.register_full_backward_hook(lambda m, gi, go: seen.append(("full", gi, go)) or
                                        (gi[0] + 1,))
        xi = lib.tensor(x, requires_grad=True)
        (lin(xi) ** 2).sum().backward()
        res[name] = (seen, xi.grad.detach().numpy(), lin.weight.grad.detach().numpy())
    (se, gxe, gwe), (st, gxt, gwt) = res["e"], res["t"]
    np.testing.assert_allclose(gxe, gxt, rtol=1e-12)
    np.testing.assert_allclose(gwe, gwt, rtol=1e-12)
    assert [s[0] for s in se] == [s[0] for s in st] == ["pre", "full"]
    np.testing.assert_allclose(se[1][1][0].detach().numpy(), st[1][1][0].detach().numpy())
    np.testing.assert_allclose(se[1][2][0].detach().numpy(), st[1][2][0].detach().numpy())


def test_backward_hook_without_input_grad_and_removal():
    lin = nn.Linear(2, 2)
    seen = []
    h = lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    lin(ember.ones(1, 2)).sum().backward()
    assert len(seen) == 1 and seen[0][0] == (None,) and tuple(seen[0][1][0].shape) == (1, 2)
    h.remove()
    lin(ember.ones(1, 2)).sum().backward()
    assert len(seen) == 1
    with pytest.raises(NotImplementedError):
        lin.register_backward_hook(lambda *a: None)


def test_epoch_bumps_on_each_structural_change_only():
    bn = nn.BatchNorm1d(2)
    x = ember.randn(4, 2)

    def bumped(fn):
        e = module_mod._STRUCTURE_EPOCH
        fn()
        return module_mod._STRUCTURE_EPOCH != e
    assert not bumped(lambda: bn(x))  # forward (with running-stat updates) is not structural
    assert bumped(lambda: setattr(bn, "running_mean", ember.zeros(2)))
    assert bumped(lambda: bn.register_parameter("extra", nn.Parameter(ember.zeros(1))))
    assert bumped(lambda: bn.register_buffer("b2", ember.zeros(1)))
    assert bumped(lambda: setattr(bn, "extra", nn.Parameter(ember.ones(1))))
    assert bumped(lambda: delattr(bn, "extra"))
    assert bumped(lambda: bn.register_forward_pre_hook(lambda m, a: None))
    assert bumped(lambda: bn.train())
    assert bumped(lambda: bn.double())
    assert module_mod.structure_epoch() == module_mod._STRUCTURE_EPOCH
