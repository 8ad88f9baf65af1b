"""Optimizers driving ember.nn modules: parity with torch.optim on the same weights, and
SparseAdam on nn.Embedding(sparse=True)'s row-sparse gradients."""
import numpy as np
import pytest

import ember
import ember.optim as optim

nn = pytest.importorskip("ember.nn")


def _copy_into(ember_model, torch_model):
    for (n, p), (tn, tp) in zip(ember_model.named_parameters(), torch_model.named_parameters()):
        assert n == tn and tuple(p.shape) == tuple(tp.shape)
        with ember.no_grad():
            p.copy_(ember.tensor(tp.detach().numpy()))


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True,
                                                  weight_decay=1e-3)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("AdamW", dict(lr=0.01))])
def test_mlp_training_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    em = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    _copy_into(em, tm)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype(np.float32), rng.normal(size=(16, 2)).astype(np.float32)
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    eopt = getattr(optim, name)(em.parameters(), **kw)
    sched_t = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    sched_e = optim.lr_scheduler.StepLR(eopt, step_size=2, gamma=0.5)
    losses = []
    for _ in range(5):
        topt.zero_grad()
        tl = ((tm(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
        tl.backward()
        topt.step()
        sched_t.step()
        eopt.zero_grad()
        el = ((em(ember.tensor(x)) - ember.tensor(y)) ** 2).mean()
        el.backward()
        eopt.step()
        sched_e.step()
        losses.append(float(el))
        assert float(el) == pytest.approx(tl.item(), rel=1e-5)
    assert losses[-1] < losses[0]
    for p, tp in zip(em.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_sparse_adam_on_sparse_embedding_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    temb = torch.nn.Embedding(7, 3, sparse=True).double()
    emb = nn.Embedding(7, 3, sparse=True)
    emb = emb.double() if hasattr(emb, "double") else emb.to(ember.float64)
    _copy_into(emb, temb)
    topt = torch.optim.SparseAdam(list(temb.parameters()), lr=0.1)
    eopt = optim.SparseAdam(list(emb.parameters()), lr=0.1)
    batches = [[[0, 2], [2, 5]], [[1, 1], [3, 0]], [[6, 6], [6, 2]]]
    w0 = emb.weight.detach().numpy().copy()
    for idx in batches:
        topt.zero_grad()
        (temb(torch.tensor(idx)) ** 2).sum().backward()
        topt.step()
        eopt.zero_grad()
        (emb(ember.tensor(idx)) ** 2).sum().backward()
        assert getattr(emb.weight.grad, "is_sparse", False)
        eopt.step()
    got = emb.weight.detach().numpy()
    np.testing.assert_allclose(got, temb.weight.detach().numpy(), rtol=1e-10)
    np.testing.assert_array_equal(got[4], w0[4])  # never looked up: never updated
