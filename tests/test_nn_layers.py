"""Linear, normalisation, embedding, activation, resampling and container layers:
PyTorch parity with copied weights, numpy formulas, gradchecks and bad-input errors."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

from _nn_parity import check_layer


@pytest.mark.parametrize("make,shapes", [
    (lambda n: n.Linear(3, 4), [(5, 3)]),
    (lambda n: n.Linear(3, 2, bias=False), [(2, 4, 3)]),
    (lambda n: n.Linear(3, 2), [(3,)]),
    (lambda n: n.Bilinear(2, 3, 4), [(5, 2), (5, 3)]),
    (lambda n: n.LayerNorm(4), [(3, 4)]),
    (lambda n: n.LayerNorm([2, 3], bias=False), [(2, 2, 3)]),
    (lambda n: n.LayerNorm(3, elementwise_affine=False), [(2, 3)]),
    (lambda n: n.GroupNorm(2, 4), [(2, 4, 3)]),
    (lambda n: n.GroupNorm(3, 6, affine=False), [(2, 6, 2, 2)]),
    (lambda n: n.InstanceNorm1d(3), [(2, 3, 5)]),
    (lambda n: n.InstanceNorm2d(2, affine=True), [(2, 2, 3, 3)]),
    (lambda n: n.InstanceNorm1d(3, track_running_stats=True, momentum=0.3), [(2, 3, 4)]),
    (lambda n: n.InstanceNorm2d(2), [(2, 3, 3)]),  # unbatched
    (lambda n: n.PReLU(), [(2, 3)]),
    (lambda n: n.PReLU(3), [(2, 3, 4)]),
    (lambda n: n.Flatten(), [(2, 3, 4)]),
    (lambda n: n.Unflatten(1, (2, 3)), [(4, 6)]),
    (lambda n: n.Upsample(scale_factor=2), [(1, 2, 3, 4)]),
    (lambda n: n.Upsample(size=(5, 7), mode="bilinear"), [(1, 2, 3, 4)]),
    (lambda n: n.Upsample(size=(5, 7), mode="bilinear", align_corners=True), [(1, 2, 3, 4)]),
    (lambda n: n.Upsample(scale_factor=1.5, mode="bilinear"), [(1, 1, 4, 3)]),
    (lambda n: n.Upsample(size=7, mode="linear"), [(2, 2, 5)]),
    (lambda n: n.Upsample(size=(3, 5)), [(1, 2, 7, 4)]),
    (lambda n: n.Upsample(size=(3, 5), mode="nearest-exact"), [(1, 2, 7, 4)]),
    (lambda n: n.UpsamplingBilinear2d(scale_factor=2), [(1, 2, 2, 3)]),
    (lambda n: n.PixelShuffle(2), [(1, 8, 2, 3)]),
    (lambda n: n.PixelUnshuffle(2), [(1, 2, 4, 6)]),
    (lambda n: n.Unfold(2, padding=1, stride=2), [(2, 3, 4, 5)]),
    (lambda n: n.Unfold((2, 3), dilation=(2, 1)), [(3, 5, 5)]),
    (lambda n: n.Fold((4, 5), 2, padding=1, stride=2), [(2, 12, 9)]),
    (lambda n: n.Fold(3, 2), [(8, 4)]),
    (lambda n: n.ZeroPad2d((1, 2, 0, 3)), [(1, 2, 3, 3)]),
    (lambda n: n.ConstantPad1d(2, 1.5), [(2, 3)]),
    (lambda n: n.ReflectionPad2d((2, 1, 1, 2)), [(1, 2, 4, 5)]),
    (lambda n: n.ReplicationPad1d((3, 1)), [(1, 2, 4)]),
    (lambda n: n.CircularPad2d(1), [(1, 1, 3, 3)]),
    (lambda n: n.CosineSimilarity(dim=1), [(3, 4), (3, 4)]),
    (lambda n: n.Sequential(n.Linear(4, 3), n.Tanh(), n.Linear(3, 2)), [(5, 4)]),
])
def test_layer_parity(torch, make, shapes):
    check_layer(torch, make, shapes)


@pytest.mark.parametrize("make", [
    lambda n: n.ReLU(), lambda n: n.ReLU6(), lambda n: n.LeakyReLU(0.2), lambda n: n.ELU(0.7),
    lambda n: n.GELU(), lambda n: n.GELU(approximate="tanh"), lambda n: n.SiLU(),
    lambda n: n.Mish(), lambda n: n.Sigmoid(), lambda n: n.Tanh(),
    lambda n: n.Softplus(), lambda n: n.Softplus(beta=2.0, threshold=1.5),
    lambda n: n.Softmax(dim=1), lambda n: n.LogSoftmax(dim=0), lambda n: n.Softmin(1),
    lambda n: n.Hardtanh(-0.5, 1.5), lambda n: n.Softsign(), lambda n: n.Hardsigmoid(),
    lambda n: n.Hardswish(), lambda n: n.SELU(), lambda n: n.CELU(0.5),
    lambda n: n.LogSigmoid(), lambda n: n.Tanhshrink(), lambda n: n.Softshrink(0.3),
    lambda n: n.Hardshrink(0.3), lambda n: n.Threshold(0.1, -2.0), lambda n: n.GLU(),
])
def test_activation_parity(torch, make):
    # values spread over every branch (away from the kinks, where subgradients differ)
    x = np.array([[-30.0, -4.0, -2.7, -1.3], [-0.45, 0.2, 0.8, 1.7], [2.9, 3.6, 7.0, 25.0]])
    check_layer(torch, make, None, eager_arrays=[x])


def test_instance_norm_running_stats(torch):
    e, t = check_layer(torch, lambda n: n.InstanceNorm1d(3, track_running_stats=True),
                       [(4, 3, 5)], steps=2)
    check_layer(torch, lambda n: n.InstanceNorm1d(3, track_running_stats=True), [(2, 3, 5)],
                train=False)


def test_activation_numpy_formulas():
    x = np.linspace(-5, 5, 11)
    t = ember.tensor(x)
    from math import erf
    np.testing.assert_allclose(F.gelu(t).numpy(),
                               [0.5 * v * (1 + erf(v / np.sqrt(2))) for v in x], rtol=1e-12)
    np.testing.assert_allclose(F.softplus(t, beta=2).numpy(), np.log1p(np.exp(2 * x)) / 2,
                               rtol=1e-12)
    np.testing.assert_allclose(F.silu(t).numpy(), x / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(F.elu(t).numpy(), np.where(x > 0, x, np.expm1(x)), rtol=1e-12)
    np.testing.assert_allclose(F.relu6(t * 2).numpy(), np.clip(2 * x, 0, 6))
    # softplus stays finite and exact for huge inputs, and its gradient is finite
    big = ember.tensor([-1000.0, 1000.0], requires_grad=True)
    y = F.softplus(big)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, 1000.0])
    np.testing.assert_allclose(big.grad.numpy(), [0.0, 1.0])


def test_activation_gradcheck():
    x = ember.tensor(np.array([-2.1, -0.7, 0.3, 1.9]), requires_grad=True)
    for fn in (F.gelu, lambda v: F.gelu(v, "tanh"), F.mish, F.silu, F.elu,
               lambda v: F.softplus(v, 2.0, 3.0), F.hardswish, F.logsigmoid,
               lambda v: F.leaky_relu(v, 0.1), lambda v: F.softmax(v, 0)):
        assert ember.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("momentum", [0.1, None, 0.0])
@pytest.mark.parametrize("make,shape", [
    (lambda n, m: n.BatchNorm1d(3, momentum=m), (4, 3)),
    (lambda n, m: n.BatchNorm1d(3, momentum=m, affine=False), (4, 3, 2)),
    (lambda n, m: n.BatchNorm2d(2, momentum=m), (3, 2, 2, 3)),
])
def test_batchnorm_parity_train_then_eval(torch, momentum, make, shape):
    e, t = check_layer(torch, lambda n: make(n, momentum), [shape], steps=3)
    assert int(e.num_batches_tracked.item()) == 3
    check_layer(torch, lambda n: make(n, momentum), [shape], train=False)
    # eval uses the running statistics accumulated in training
    x = np.random.default_rng(5).standard_normal(shape)
    e.eval()
    t.eval()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-8)


def test_batchnorm_running_stats_formula():
    bn = nn.BatchNorm1d(2, momentum=0.3).double()
    x = np.random.default_rng(0).standard_normal((5, 2))
    bn(ember.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.3 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.7 + 0.3 * x.var(0, ddof=1),
                               rtol=1e-12)
    bn2 = nn.BatchNorm1d(2, track_running_stats=False).double()
    assert bn2.running_mean is None and "running_mean" not in bn2.state_dict()
    bn2.eval()
    y = bn2(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)


def test_batchnorm_forward_has_no_host_reads(monkeypatch):
    bn = nn.BatchNorm2d(2, momentum=None)
    x = ember.randn(3, 2, 2, 2)

    def boom(self):
        raise AssertionError("host read in BatchNorm forward")
    monkeypatch.setattr(ember.Tensor, "item", boom)
    monkeypatch.setattr(ember.Tensor, "__bool__", boom)
    monkeypatch.setattr(ember.Tensor, "__float__", boom)
    bn(x)
    bn(x)


def test_norm_gradcheck():
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = ember.tensor(rng.standard_normal(2), requires_grad=True)
    b = ember.tensor(rng.standard_normal(2), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (2,), w, b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 1, w, b), (x, w, b))


def test_norm_bad_input():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 4D input, got 3D"):
        nn.BatchNorm2d(3)(ember.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input with 3 channels"):
        nn.BatchNorm1d(3)(ember.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.zeros(1, 3))
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(4,\)\): expected input\[\*, 4\], "
                                           r"got shape \(2, 3\)"):
        nn.LayerNorm(4)(ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 4\): expected input of shape"):
        nn.GroupNorm(2, 4)(ember.zeros(2, 3))


def test_linear_bad_input():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4\): expected input\[\.\.\., "
                                           r"4\], got shape \(2, 3\)"):
        nn.Linear(4, 2)(ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"Bilinear\(in1_features=2, in2_features=3\)"):
        nn.Bilinear(2, 3, 1)(ember.zeros(1, 2), ember.zeros(1, 2))
    with pytest.raises(RuntimeError, match="linear: input of shape"):
        F.linear(ember.zeros(2, 3), ember.zeros(4, 4))


def test_linear_default_init_distribution():
    ember.manual_seed(0)
    lin = nn.Linear(50, 40)
    bound = 1 / np.sqrt(50)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound


def test_embedding_parity_and_padding(torch):
    idx = np.array([[1, 0, 3], [3, 2, 0]])
    e, t = check_layer(torch, lambda n: n.Embedding(5, 3, padding_idx=0), [None],
                       int_inputs={0}, eager_arrays=[idx])
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert emb.weight[0].abs().sum().item() == 0.0
    emb(ember.tensor(idx)).sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[0] == 0) and np.all(g[3] == 2) and np.all(g[4] == 0)


def test_embedding_max_norm(torch):
    w = np.random.default_rng(0).standard_normal((5, 3)) * 3
    e = nn.Embedding.from_pretrained(ember.tensor(w), max_norm=1.0)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w), max_norm=1.0)
    idx = np.array([0, 2, 2])
    np.testing.assert_allclose(e(ember.tensor(idx)).numpy(), t(torch.tensor(idx)).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-6)


def test_embedding_sparse_grad():
    emb = nn.Embedding(6, 2, sparse=True, padding_idx=5)
    idx = ember.tensor([[1, 3, 5], [3, 0, 1]])
    (emb(idx) * ember.tensor([1.0, 2.0])).sum().backward()
    g = emb.weight.grad
    assert g.is_sparse
    assert g._indices().shape == (1, 5)  # the padding entry is dropped
    assert sorted(g._indices().reshape(-1).tolist()) == [0, 1, 1, 3, 3]
    assert tuple(g._values().shape) == (5, 2)
    dense = g.to_dense().numpy()
    expect = np.zeros((6, 2))
    for i in [1, 3, 3, 0, 1]:
        expect[i] += [1.0, 2.0]
    np.testing.assert_allclose(dense, expect)
    # a second backward accumulates
    emb(ember.tensor([2])).sum().backward()
    assert emb.weight.grad._indices().shape == (1, 6)
    opt = pytest.importorskip("ember.optim")
    sgd_free = opt.SparseAdam(emb.parameters(), lr=0.1)
    before = emb.weight.detach().numpy().copy()
    sgd_free.step()
    changed = np.any(emb.weight.detach().numpy() != before, axis=1)
    assert changed.tolist() == [True, True, True, True, False, False]


def test_embedding_bad_input():
    with pytest.raises(RuntimeError, match=r"Embedding\(5, 3\): expected an integer index"):
        nn.Embedding(5, 3)(ember.zeros(2))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=7)


def test_dropout_statistics_and_reproducibility():
    x = ember.ones(200, 50)
    ember.manual_seed(3)
    a = F.dropout(x, 0.3)
    ember.manual_seed(3)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    vals = np.unique(a.numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    frac = (a.numpy() == 0).mean()
    assert abs(frac - 0.3) < 0.02
    m = nn.Dropout(0.3)
    m.eval()
    assert m(x) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout2d_zeroes_whole_channels():
    x = ember.ones(20, 16, 3, 3)
    ember.manual_seed(0)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(20, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65
    xg = ember.ones(2, 3, 2, 2, requires_grad=True)
    ember.manual_seed(1)
    out = F.dropout2d(xg, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), out.detach().numpy())


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    sub = seq[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is seq[0]
    seq.append(nn.Sigmoid())
    seq.insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU", "Linear", "Sigmoid"]
    assert list(seq._modules) == ["0", "1", "2", "3", "4"]
    del seq[0]
    assert isinstance(seq[0], nn.Linear) and list(seq._modules) == ["0", "1", "2", "3"]
    seq.extend([nn.Identity()])
    assert len(seq) == 5
    y = seq(ember.ones(4, 2))
    assert tuple(y.shape) == (4, 1)
    od = nn.Sequential(OrderedDict([("a", nn.Linear(1, 1)), ("b", nn.Tanh())]))
    assert od.a is od[0] and [n for n, _ in od.named_children()] == ["a", "b"]
    with pytest.raises(IndexError):
        seq[10]

    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml += [nn.Tanh()]
    assert len(ml) == 3 and len(list(ml.parameters())) == 2 and isinstance(ml[-1], nn.Tanh)
    md = nn.ModuleDict({"x": nn.Linear(1, 2)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "x" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["x.weight", "x.bias"]

    pl = nn.ParameterList([nn.Parameter(ember.zeros(2)), ember.ones(3)])
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"w": ember.zeros(2)})
    assert isinstance(pd["w"], nn.Parameter) and list(pd.keys()) == ["w"]
    holder = nn.Module()
    holder.ps = pl
    assert [n for n, _ in holder.named_parameters()] == ["ps.0", "ps.1"]


def test_interpolate_and_pad_errors():
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(ember.zeros(1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(ember.zeros(1, 1, 2, 2), scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="padding length"):
        F.pad(ember.zeros(2, 2), (1, 2, 3))
    with pytest.raises(RuntimeError, match="padding size should be less"):
        F.pad(ember.zeros(1, 2, 3), (3, 0), mode="reflect")


def test_pad_constant_negative_crops():
    x = ember.tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(F.pad(x, (-1, 1, 1, -2)).numpy(),
                                  np.pad(np.arange(12.0).reshape(3, 4)[:1, 1:],
                                         ((1, 0), (0, 1))))


def test_embedding_index_out_of_range():
    emb = nn.Embedding(5, 3)
    for bad in ([7], [-1]):
        with pytest.raises(IndexError, match=r"Embedding\(5, 3\): .*out of range"):
            emb(ember.tensor(bad))
