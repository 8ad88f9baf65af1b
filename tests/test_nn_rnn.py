"""RNN/LSTM/GRU and cells: outputs and gradients vs PyTorch with copied weights (float64),
a numpy reference for one LSTM step, init ranges, bad input."""
import numpy as np
import pytest

import ember
import ember.nn as enn

from _helpers import assert_param_grads_match, copy_from_torch, to_np


def test_lstm_cell_numpy_reference(rng):
    cell = enn.LSTMCell(3, 4, dtype=ember.float64)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    h1, c1 = cell(ember.tensor(x), (ember.tensor(h), ember.tensor(c)))
    g = x @ to_np(cell.weight_ih).T + to_np(cell.bias_ih) + h @ to_np(cell.weight_hh).T + \
        to_np(cell.bias_hh)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, gg, o = np.split(g, 4, axis=1)
    c_ref = sig(f) * c + sig(i) * np.tanh(gg)
    np.testing.assert_allclose(to_np(c1), c_ref, rtol=1e-12)
    np.testing.assert_allclose(to_np(h1), sig(o) * np.tanh(c_ref), rtol=1e-12)


def test_gru_cell_numpy_reference(rng):
    cell = enn.GRUCell(3, 2, dtype=ember.float64)
    x, h = rng.standard_normal(3), rng.standard_normal(2)
    out = cell(ember.tensor(x), ember.tensor(h))
    assert out.shape == (2,)
    gi = to_np(cell.weight_ih) @ x + to_np(cell.bias_ih)
    gh = to_np(cell.weight_hh) @ h + to_np(cell.bias_hh)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    r = sig(gi[:2] + gh[:2])
    z = sig(gi[2:4] + gh[2:4])
    n = np.tanh(gi[4:] + r * gh[4:])
    np.testing.assert_allclose(to_np(out), (1 - z) * n + z * h, rtol=1e-12)


def test_init_range_and_names():
    m = enn.GRU(4, 9, num_layers=2, bidirectional=True, bias=False)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse",
                     "weight_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1",
                     "weight_ih_l1_reverse", "weight_hh_l1_reverse"]
    assert m.weight_ih_l1.shape == (27, 18)
    for p in m.parameters():
        v = to_np(p)
        assert np.abs(v).max() <= 1 / 3 and v.std() > 0.1  # U(-1/3, 1/3) has std 0.19
    lstm = enn.LSTM(2, 6, proj_size=3)
    assert lstm.weight_hr_l0.shape == (3, 6) and lstm.weight_hh_l0.shape == (24, 3)


def test_bad_input():
    m = enn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 5"):
        m(ember.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match="input must have the type float32, got type float64"):
        m(ember.zeros(2, 1, 3, dtype=ember.float64))
    with pytest.raises(ValueError, match="2D or 3D"):
        m(ember.zeros(2, 1, 1, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got"):
        m(ember.zeros(5, 2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="unbatched 2-D input, hidden should also be 2-D"):
        enn.GRU(3, 4)(ember.zeros(5, 3), ember.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        enn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout should be a number"):
        enn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size"):
        enn.LSTM(3, 4, proj_size=4)
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        enn.RNNCell(3, 4)(ember.zeros(2, 2))
    with pytest.raises(RuntimeError, match="inconsistent size"):
        enn.GRUCell(3, 4)(ember.zeros(2, 3), ember.zeros(3, 4))
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        enn.LSTM(3, 4, dropout=0.5)


def test_dropout_between_layers_only_in_training(rng):
    ember.manual_seed(0)
    m = enn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=ember.float64)
    x = ember.tensor(rng.standard_normal((5, 2, 3)))
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(to_np(a), to_np(b))
    m.train()
    c = m(x)[0]
    assert not np.allclose(to_np(c), to_np(a))


# ------------------------------------------------------------------ PyTorch parity
torch_cases = [
    ("RNN", dict(num_layers=2, nonlinearity="relu")),
    ("RNN", dict(bidirectional=True, batch_first=True)),
    ("RNN", dict(bias=False)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(batch_first=True, proj_size=2, bidirectional=True)),
    ("GRU", dict(num_layers=2, batch_first=True)),
    ("GRU", dict(bidirectional=True, bias=False)),
]


@pytest.mark.parametrize("kind,kw", torch_cases)
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_vs_torch(kind, kw, with_hx, batched, rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(3, 4, **kw).double()
    em = getattr(enn, kind)(3, 4, **kw, dtype=ember.float64)
    copy_from_torch(tm, em)
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    seq, n = 4, 2
    shape = ((n, seq, 3) if kw.get("batch_first") else (seq, n, 3)) if batched else (seq, 3)
    x = rng.standard_normal(shape)
    hid = kw.get("proj_size") or 4
    bshape = (n,) if batched else ()
    states = [rng.standard_normal((layers * dirs,) + bshape + (hid,))]
    if kind == "LSTM":
        states.append(rng.standard_normal((layers * dirs,) + bshape + (4,)))
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    es = [ember.tensor(s, requires_grad=True) for s in states]
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    if with_hx:
        eh = tuple(es) if kind == "LSTM" else es[0]
        th = tuple(ts) if kind == "LSTM" else ts[0]
        eo, eh_n = em(ex, eh)
        to, th_n = tm(tx, th)
    else:
        eo, eh_n = em(ex)
        to, th_n = tm(tx)
    e_outs = [eo] + (list(eh_n) if kind == "LSTM" else [eh_n])
    t_outs = [to] + (list(th_n) if kind == "LSTM" else [th_n])
    loss_e, loss_t = 0, 0
    for e, t in zip(e_outs, t_outs):
        np.testing.assert_allclose(to_np(e), t.detach().numpy(), rtol=1e-10, atol=1e-12)
        cot = rng.standard_normal(tuple(t.shape))
        loss_e = loss_e + (e * ember.tensor(cot)).sum()
        loss_t = loss_t + (t * torch.tensor(cot)).sum()
    loss_e.backward()
    loss_t.backward()
    np.testing.assert_allclose(to_np(ex.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if with_hx:
        for e, t in zip(es, ts):
            np.testing.assert_allclose(to_np(e.grad), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert_param_grads_match(em, tm, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind,kw", [("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {}),
                                     ("LSTMCell", {}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_vs_torch(kind, kw, batched, rng):
    torch = pytest.importorskip("torch")
    tm = getattr(torch.nn, kind)(3, 5, **kw).double()
    em = getattr(enn, kind)(3, 5, **kw, dtype=ember.float64)
    copy_from_torch(tm, em)
    bs = (2,) if batched else ()
    x = rng.standard_normal(bs + (3,))
    states = [rng.standard_normal(bs + (5,)) for _ in range(2 if kind == "LSTMCell" else 1)]
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    es = [ember.tensor(s, requires_grad=True) for s in states]
    ts = [torch.tensor(s, requires_grad=True) for s in states]
    eo = em(ex, tuple(es) if kind == "LSTMCell" else es[0])
    to = tm(tx, tuple(ts) if kind == "LSTMCell" else ts[0])
    eo = list(eo) if kind == "LSTMCell" else [eo]
    to = list(to) if kind == "LSTMCell" else [to]
    le, lt = 0, 0
    for e, t in zip(eo, to):
        np.testing.assert_allclose(to_np(e), t.detach().numpy(), rtol=1e-12)
        cot = rng.standard_normal(tuple(t.shape))
        le, lt = le + (e * ember.tensor(cot)).sum(), lt + (t * torch.tensor(cot)).sum()
    le.backward()
    lt.backward()
    np.testing.assert_allclose(to_np(ex.grad), tx.grad.numpy(), rtol=1e-10)
    for e, t in zip(es, ts):
        np.testing.assert_allclose(to_np(e.grad), t.grad.numpy(), rtol=1e-10)
    assert_param_grads_match(em, tm, rtol=1e-10)
    # default zero state
    np.testing.assert_allclose(to_np(em(ex) if kind != "LSTMCell" else em(ex)[0]),
                               (tm(tx) if kind != "LSTMCell" else tm(tx)[0]).detach().numpy(),
                               rtol=1e-12)
