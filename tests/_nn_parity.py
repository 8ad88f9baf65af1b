"""Shared helper for nn layer tests: run one layer in ember and in PyTorch with the same
weights (copied from torch) and compare outputs, input gradients and parameter gradients."""
import numpy as np

import ember

from _helpers import to_np


def check_layer(torch, make, shapes, *, int_inputs=None, rtol=1e-6, atol=1e-8, train=True,
                seed=0, steps=1, eager_arrays=None):
    """``make(nn)`` builds the layer from a namespace (ember.nn or torch.nn)."""
    rng = np.random.default_rng(seed)
    t_layer = make(torch.nn).double()
    e_layer = make(ember.nn).double()
    e_layer.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                             for k, v in t_layer.state_dict().items()})
    t_layer.train(train)
    e_layer.train(train)
    for _ in range(steps):
        arrays = eager_arrays or [rng.standard_normal(s) for s in shapes]
        t_in, e_in = [], []
        for i, a in enumerate(arrays):
            if int_inputs and i in int_inputs:
                t_in.append(torch.tensor(a))
                e_in.append(ember.tensor(a))
            else:
                t_in.append(torch.tensor(a, requires_grad=True))
                e_in.append(ember.tensor(a, requires_grad=True))
        t_out = t_layer(*t_in)
        e_out = e_layer(*e_in)
        if isinstance(t_out, tuple):
            t_out, e_out = t_out[0], e_out[0]
        assert tuple(e_out.shape) == tuple(t_out.shape)
        np.testing.assert_allclose(to_np(e_out), t_out.detach().numpy(), rtol=rtol, atol=atol)
        g = rng.standard_normal(tuple(t_out.shape))
        t_out.backward(torch.tensor(g))
        e_out.backward(ember.tensor(g))
        for ti, ei in zip(t_in, e_in):
            if ti.requires_grad:
                np.testing.assert_allclose(to_np(ei.grad), ti.grad.numpy(), rtol=rtol,
                                           atol=atol)
        tp = dict(t_layer.named_parameters())
        for name, p in e_layer.named_parameters():
            np.testing.assert_allclose(to_np(p.grad), tp[name].grad.numpy(), rtol=rtol,
                                       atol=atol, err_msg=name)
        for name, b in t_layer.named_buffers():
            np.testing.assert_allclose(to_np(dict(e_layer.named_buffers())[name]), b.numpy(),
                                       rtol=rtol, atol=atol, err_msg=name)
        e_layer.zero_grad()
        t_layer.zero_grad()
    return e_layer, t_layer
