"""SparseAdam (row-sparse and dense-row gradients) and LBFGS (eager-only) vs numpy / torch."""
import numpy as np
import pytest

import ember
import ember.optim as optim

from test_optim_trajectories import _problem, loss_of


class RowSparse:
    """The sparse-gradient format SparseAdam documents (PyTorch's COO accessors)."""

    is_sparse = True

    def __init__(self, idx, vals):
        self.idx, self.vals = idx, vals

    def _indices(self):
        return ember.tensor(np.asarray(self.idx)[None, :], dtype=ember.int64)

    def _values(self):
        return ember.tensor(self.vals, dtype=ember.float64)


ROWS = [[0, 2], [2, 3, 2], [5], [1, 0, 4]]


def _grads(rng):
    return [(r, rng.normal(size=(len(r), 3))) for r in ROWS]


def _sparse_adam_ref(p, grads, lr, b1, b2, eps, maximize=False):
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, (rows, vals) in enumerate(grads, 1):
        g = np.zeros_like(p)
        np.add.at(g, rows, vals)
        if maximize:
            g = -g
        r = np.unique(rows)
        m[r] = b1 * m[r] + (1 - b1) * g[r]
        v[r] = b2 * v[r] + (1 - b2) * g[r] ** 2
        p[r] -= lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m[r] / (np.sqrt(v[r]) + eps)
    return p


@pytest.mark.parametrize("maximize", [False, True])
def test_sparse_adam_row_sparse_vs_numpy(maximize):
    rng = np.random.default_rng(1)
    p0 = rng.normal(size=(6, 3))
    grads = _grads(rng)
    w = ember.tensor(p0, requires_grad=True)
    opt = optim.SparseAdam([w], lr=0.1, betas=(0.8, 0.9), maximize=maximize)
    for rows, vals in grads:
        w.grad = RowSparse(rows, vals)
        opt.step()
    want = _sparse_adam_ref(p0.copy(), grads, 0.1, 0.8, 0.9, 1e-8, maximize)
    np.testing.assert_allclose(w.detach().numpy(), want, rtol=1e-12)
    assert float(opt.state[w]["step"]) == len(grads)


def test_sparse_adam_leaves_other_rows_alone():
    p0 = np.arange(12.0).reshape(6, 2)
    w = ember.tensor(p0, requires_grad=True)
    opt = optim.SparseAdam([w], lr=0.1)
    w.grad = RowSparse([4, 1], np.ones((2, 2)))
    opt.step()
    got = w.detach().numpy()
    np.testing.assert_array_equal(got[[0, 2, 3, 5]], p0[[0, 2, 3, 5]])
    np.testing.assert_allclose(got[[1, 4]], p0[[1, 4]] - 0.1, rtol=1e-7)
    np.testing.assert_array_equal(opt.state[w]["exp_avg"].numpy()[[0, 2, 3, 5]], 0)


def test_sparse_adam_vs_torch_and_dense_rows():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=(6, 3))
    grads = _grads(rng)
    tw = torch.tensor(p0, requires_grad=True)
    topt = torch.optim.SparseAdam([tw], lr=0.05)
    w_sparse = ember.tensor(p0, requires_grad=True)
    w_dense = ember.tensor(p0, requires_grad=True)
    o_sparse = optim.SparseAdam([w_sparse], lr=0.05)
    o_dense = optim.SparseAdam([w_dense], lr=0.05)
    for rows, vals in grads:
        tw.grad = torch.sparse_coo_tensor(torch.tensor([rows]), torch.tensor(vals), (6, 3),
                                          check_invariants=True)
        topt.step()
        w_sparse.grad = RowSparse(rows, vals)
        o_sparse.step()
        dense = np.zeros_like(p0)
        np.add.at(dense, rows, vals)  # no zero rows among the hit ones (random values)
        w_dense.grad = ember.tensor(dense)
        o_dense.step()
    want = tw.detach().numpy()
    np.testing.assert_allclose(w_sparse.detach().numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(w_dense.detach().numpy(), want, rtol=1e-10)


def test_sparse_adam_bad_input():
    with pytest.raises(ValueError, match="learning rate"):
        optim.SparseAdam([ember.zeros(2, 2, requires_grad=True)], lr=0.0)
    with pytest.raises(ValueError, match="0-d"):
        optim.SparseAdam([ember.zeros((), requires_grad=True)])
    w = ember.zeros(4, 2, requires_grad=True)
    opt = optim.SparseAdam([w])
    w.grad = RowSparse([0, 1], np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"SparseAdam.*\(2, 3\).*\(2, 2\)"):
        opt.step()
    w.grad = ember.zeros(3, 2)
    with pytest.raises(RuntimeError, match="SparseAdam: gradient shape"):
        opt.step()


@pytest.mark.parametrize("dense_opt", ["Adam", "SGD", "RMSprop"])
def test_dense_optimizers_reject_sparse_grads(dense_opt):
    w = ember.zeros(4, 2, requires_grad=True)
    opt = getattr(optim, dense_opt)([w], lr=0.1)
    w.grad = RowSparse([0], np.ones((1, 2)))
    with pytest.raises(RuntimeError, match=f"{dense_opt}.*sparse"):
        opt.step()


# ---------------------------------------------------------------- LBFGS
def _lbfgs_run(mod, opt_factory, calls, dtype):
    inits, coef, target = _problem(3)
    if mod is ember:
        ws = [ember.tensor(a, dtype=dtype, requires_grad=True) for a in inits]
    else:
        ws = [mod.tensor(a, dtype=dtype, requires_grad=True) for a in inits]
    opt = opt_factory(ws)

    def closure():
        opt.zero_grad()
        loss = loss_of(mod, ws, coef, target)
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(calls)]
    return [w.detach().numpy().copy() for w in ws], losses, opt


@pytest.mark.parametrize("kw", [dict(lr=0.5, max_iter=4, history_size=3),
                                dict(lr=1, max_iter=6, history_size=2,
                                     line_search_fn="strong_wolfe"),
                                dict(lr=1, max_iter=20, line_search_fn="strong_wolfe",
                                     tolerance_grad=1e-9)])
def test_lbfgs_vs_torch(kw):
    torch = pytest.importorskip("torch")
    want, wl, topt = _lbfgs_run(torch, lambda ws: torch.optim.LBFGS(ws, **kw), 3, torch.float64)
    got, gl, opt = _lbfgs_run(ember, lambda ws: optim.LBFGS(ws, **kw), 3, ember.float64)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(gl, wl, rtol=1e-10)
    tstate, state = topt.state[topt._params[0]], opt.state[opt._params[0]]
    assert state["func_evals"] == tstate["func_evals"]
    assert state["n_iter"] == tstate["n_iter"]


def test_lbfgs_minimises_rosenbrock():
    xy = ember.tensor([-1.5, 2.0], dtype=ember.float64, requires_grad=True)
    opt = optim.LBFGS([xy], lr=1, max_iter=100, line_search_fn="strong_wolfe",
                      tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-6)


def test_lbfgs_bad_input():
    w = ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [w]}, {"params": [ember.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([w]).step()


def test_lbfgs_stops_on_tolerances():
    w = ember.tensor([2.0, -1.0], dtype=ember.float64, requires_grad=True)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = ((w - ember.tensor([2.0, -1.0], dtype=ember.float64)) ** 2).sum()
        loss.backward()
        return loss

    opt = optim.LBFGS([w], tolerance_grad=1e-7)
    opt.step(closure)  # already optimal: one evaluation, no update
    assert len(calls) == 1 and w.tolist() == [2.0, -1.0]
    # a quadratic is solved exactly by the first line-searched iterations; then the
    # gradient tolerance stops it long before max_iter evaluations
    w2 = ember.tensor([5.0, 3.0], dtype=ember.float64, requires_grad=True)
    n = [0]

    def closure2():
        n[0] += 1
        opt2.zero_grad()
        loss = (ember.tensor([1.0, 10.0], dtype=ember.float64) * w2 * w2).sum()
        loss.backward()
        return loss

    opt2 = optim.LBFGS([w2], max_iter=50, line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                       tolerance_change=0)
    opt2.step(closure2)
    np.testing.assert_allclose(w2.detach().numpy(), [0.0, 0.0], atol=1e-10)
    assert n[0] < 20
    assert opt2.state[w2]["func_evals"] == n[0]
