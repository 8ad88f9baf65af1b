"""Parity with PyTorch (the oracle, when installed): every spec entry that torch can run
gets the same samples through both libraries; values, result dtypes and float64 VJPs
must agree."""
import numpy as np
import pytest

from ember.testing import harness
from ember.testing.opspecs import OP_SPECS

torch = pytest.importorskip("torch")
# edge samples (nan, inf, 0 in log) make numpy warn, in the references and the kernels
pytestmark = [pytest.mark.torch_parity, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

PARITY = [s for s in OP_SPECS if s.torch_ok]
CASES = [(s, d) for s in PARITY for d in s.dtypes]


def _t(a, requires_grad=False):
    t = torch.from_numpy(np.array(a, copy=True))
    return t.requires_grad_() if requires_grad else t


def _flat(res):
    if isinstance(res, (tuple, list)):
        return [x for r in res for x in _flat(r)]
    return [res]


def _rng(spec, tag):
    return np.random.default_rng(harness.seed(spec.name, tag))


@pytest.mark.parametrize("spec,dtype", CASES, ids=[f"{s.name}-{d}" for s, d in CASES])
def test_values_match_torch(spec, dtype):
    for sample in spec.samples(_rng(spec, dtype), dtype):
        where = f"{spec.name} {sample!r} [{dtype}]"
        want = _flat(spec.torch_fn(torch, *(_t(a) for a in sample.args), **sample.kwargs))
        got = harness.run(spec, sample)
        assert len(got) == len(want), f"{where}: {len(got)} outputs, torch gives {len(want)}"
        for g, w in zip(got, want):
            w = w.detach() if isinstance(w, torch.Tensor) else torch.tensor(w)
            assert g.dtype.name == str(w.dtype).replace("torch.", ""), \
                f"{where}: dtype {g.dtype.name}, torch {w.dtype}"
            assert tuple(g.shape) == tuple(w.shape), \
                f"{where}: shape {tuple(g.shape)} vs {tuple(w.shape)}"
            ga, wa = g.numpy(), w.numpy()
            if ga.dtype.kind == "f":
                rtol, atol = spec.tolerance(g.dtype.name)
                np.testing.assert_allclose(ga, wa, rtol=rtol, atol=atol, equal_nan=True,
                                           err_msg=where)
            else:
                np.testing.assert_array_equal(ga, wa, err_msg=where)


GRAD = [s for s in PARITY if s.differentiable and "float64" in s.dtypes]


@pytest.mark.parametrize("spec", GRAD, ids=[s.name for s in GRAD])
def test_grads_match_torch(spec):
    import ember
    rng = _rng(spec, "grad")
    for sample in harness.grad_samples(spec, rng):
        where = f"{spec.name} {sample!r}"
        arrays = harness.grad_arrays(sample)
        pos = harness.grad_positions(spec, sample)
        ts = [_t(a, i in pos) for i, a in enumerate(arrays)]
        es = [harness.to_ember(a, i in pos) for i, a in enumerate(arrays)]
        tout = _flat(spec.torch_fn(torch, *ts, **sample.kwargs))
        eout = harness.outputs(spec.fn(*es, **sample.kwargs))
        sel = [i for i, o in enumerate(tout) if o.dtype.is_floating_point and
               (spec.grad_outputs is None or i in spec.grad_outputs)]
        vs = [rng.standard_normal(tuple(tout[i].shape)) for i in sel]
        t_live = [j for j, i in enumerate(sel) if tout[i].requires_grad]
        e_live = [j for j, i in enumerate(sel) if eout[i].requires_grad]
        tg = torch.autograd.grad([tout[sel[j]] for j in t_live], [ts[i] for i in pos],
                                 [_t(vs[j]) for j in t_live], allow_unused=True) \
            if t_live else [None] * len(pos)
        eg = ember.autograd.grad([eout[sel[j]] for j in e_live], [es[i] for i in pos],
                                 [harness.to_ember(vs[j]) for j in e_live], allow_unused=True) \
            if e_live else [None] * len(pos)
        for k, (a, b) in enumerate(zip(eg, tg)):
            shape = arrays[pos[k]].shape
            a = np.zeros(shape) if a is None else a.detach().numpy()
            b = np.zeros(shape) if b is None else b.numpy(force=True)
            np.testing.assert_allclose(a, b, rtol=spec.torch_grad_tol[0],
                                       atol=spec.torch_grad_tol[1],
                                       err_msg=f"{where}: gradient wrt input {pos[k]}")
