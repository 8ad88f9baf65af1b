"""The checks the generated tests run on an ``OpSpec``: eager value vs the numpy float64
reference, and the VJP (first and second order) vs float64 central finite differences.
The compile issue reuses ``outputs``/``check_values`` with a compiled ``fn``."""
from __future__ import annotations

import numpy as np

def is_float(np_dtype):
    """numpy floats, and ml_dtypes' bfloat16 (whose numpy kind is 'V')."""
    np_dtype = np.dtype(np_dtype)
    return np_dtype.kind == "f" or np_dtype.name == "bfloat16"


def seed(*parts):
    """A stable per-test seed (``hash`` of a str changes from run to run)."""
    import zlib
    return zlib.crc32("|".join(map(str, parts)).encode())


def to_ember(a, requires_grad=False):
    import ember
    t = ember.from_numpy(np.array(a, copy=True))  # a copy: from_numpy shares memory
    if requires_grad:
        t.requires_grad_()
    return t


def outputs(res):
    """An op's result as a list of tensors (a tuple, list or namedtuple is flattened)."""
    if isinstance(res, (tuple, list)):
        out = []
        for r in res:
            out.extend(outputs(r))
        return out
    return [res]


def _np(t):
    import ember
    if isinstance(t, ember.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def expected_dtype(rule, in_dtype):
    if rule is None:
        return None
    is_float = in_dtype.startswith("float") or in_dtype == "bfloat16"
    if rule == "same":
        return in_dtype
    if rule == "float":
        return in_dtype if is_float else "float32"
    if rule == "sum":
        return in_dtype if is_float else "int64"
    return rule


def reference(spec, sample):
    args = [a.astype(np.float64) if is_float(a.dtype) else a for a in sample.args]
    r = spec.ref(*args, **sample.kwargs)
    return [np.asarray(x) for x in (r if isinstance(r, (tuple, list)) else (r,))]


def strided(a):
    """``a`` as a non-contiguous ember view (every other element of a wider tensor)."""
    import ember
    if a.ndim == 0 or a.size == 0:
        return to_ember(a)
    wide = np.zeros(a.shape[:-1] + (a.shape[-1] * 2,), a.dtype)
    wide[..., ::2] = a
    return ember.from_numpy(wide)[..., ::2]


def run(spec, sample, fn=None, make=to_ember):
    """Run ``fn`` (default: the spec's eager ember fn) on fresh tensors built by ``make``
    from the sample's arrays; the results as a list."""
    fn = fn or spec.fn
    return outputs(fn(*(make(a) for a in sample.args), **sample.kwargs))


def check_values(spec, sample, dtype_name, fn=None, tol=None, make=to_ember):
    """Compare ``fn`` (default: eager) with the reference. ``tol`` = (rtol, atol) overrides
    the spec's tolerance; its atol is then relative to the largest reference magnitude
    (for 2-byte floats, whose rounding error scales with the values)."""
    import ember
    got = run(spec, sample, fn, make)
    ref = reference(spec, sample)
    where = f"{spec.name} {sample!r} [{dtype_name}]"
    assert len(got) == len(ref), f"{where}: {len(got)} outputs, reference has {len(ref)}"
    rules = spec.out_dtype if isinstance(spec.out_dtype, tuple) else (spec.out_dtype,) * len(got)
    for i, (g, r) in enumerate(zip(got, ref)):
        if isinstance(g, ember.Tensor):
            arr = g.numpy()
            assert arr.dtype == g.dtype.np, f"{where}: storage {arr.dtype} but dtype {g.dtype}"
            want = expected_dtype(rules[i] if i < len(rules) else None, dtype_name)
            if want is not None:
                assert g.dtype.name == want, \
                    f"{where}: output {i} dtype {g.dtype.name}, expected {want}"
            dt = g.dtype.name
        else:
            arr, dt = np.asarray(g), None
        assert tuple(arr.shape) == tuple(r.shape), \
            f"{where}: output {i} shape {tuple(arr.shape)}, reference {tuple(r.shape)}"
        if is_float(arr.dtype):
            rtol, atol = spec.tolerance(dt) if tol is None else tol
            if tol is not None and r.size:
                finite = np.abs(r[np.isfinite(r)].astype(np.float64))
                atol *= max(1.0, float(finite.max()) if finite.size else 1.0)
            # the exact result rounded to the result dtype (overflow to inf, underflow to 0)
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                r = r.astype(arr.dtype).astype(np.float64) if r.dtype.kind == "f" else r
            np.testing.assert_allclose(arr.astype(np.float64), r.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(arr, r.astype(arr.dtype) if r.dtype != arr.dtype
                                          and r.dtype.kind != "f" else r, err_msg=where)


# ---------------------------------------------------------------- gradients

def _float_outputs(outs, positions=None):
    idx = [i for i, o in enumerate(outs) if o.dtype.is_floating_point]
    return [i for i in idx if positions is None or i in positions]


def vjp_check(f, arrays, grad_pos, rng, *, eps=1e-6, rtol=1e-5, atol=1e-7, out_pos=None,
              where="", nested=False):
    """Compare the VJP of ``f`` (tensors -> tensor(s)) at float64 ``arrays`` along random
    cotangents with central differences of <f(x), v>."""
    import ember
    arrays = [np.array(a, copy=True) for a in arrays]
    ts = [to_ember(a, requires_grad=i in grad_pos) for i, a in enumerate(arrays)]
    outs = outputs(f(*ts))
    sel = _float_outputs(outs, out_pos)
    if not sel:
        return
    vs = [rng.standard_normal(tuple(outs[i].shape)) for i in sel]
    diff = [ts[i] for i in grad_pos]
    used = [outs[i] for i in sel]
    live = [j for j, o in enumerate(used) if o.requires_grad]
    if live:
        grads = ember.autograd.grad([used[j] for j in live], diff,
                                    [to_ember(vs[j]) for j in live], allow_unused=True)
    else:
        grads = [None] * len(diff)

    def objective(xs):
        if nested:  # f differentiates inside: its inputs must require grad
            o = outputs(f(*(to_ember(a, i in grad_pos) for i, a in enumerate(xs))))
        else:
            with ember.no_grad():
                o = outputs(f(*(to_ember(a) for a in xs)))
        return sum(float(np.sum(o[i].detach().numpy().astype(np.float64) * v))
                   for i, v in zip(sel, vs))

    for gi, pos in zip(grads, grad_pos):
        ana = np.zeros(arrays[pos].shape) if gi is None else gi.detach().numpy()
        assert ana.shape == arrays[pos].shape, \
            f"{where}: gradient for input {pos} has shape {ana.shape}, input {arrays[pos].shape}"
        num = np.zeros(arrays[pos].shape)
        flat = arrays[pos].reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = objective(arrays)
            flat[k] = orig - eps
            minus = objective(arrays)
            flat[k] = orig
            num.reshape(-1)[k] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(ana, num, rtol=rtol, atol=atol,
                                   err_msg=f"{where}: VJP wrt input {pos} vs finite differences")


def grad_arrays(sample):
    return [a.astype(np.float64) if is_float(a.dtype) else a for a in sample.args]


def grad_positions(spec, sample):
    return tuple(p for p in spec.grad if p < len(sample.args))


def grad_samples(spec, rng):
    """The float64 samples for VJP checks: hand-picked edge points (infinities, jumps) are
    left out, and so is whatever the spec's ``grad_filter`` rejects."""
    return [s for s in spec.samples(rng, "float64") if s.desc != "edge" and
            (spec.grad_filter is None or spec.grad_filter(s))]


def check_vjp(spec, sample, rng):
    kw = sample.kwargs
    vjp_check(lambda *ts: spec.fn(*ts, **kw), grad_arrays(sample),
              grad_positions(spec, sample), rng,
              eps=spec.fd_eps, rtol=spec.grad_tol[0], atol=spec.grad_tol[1],
              out_pos=spec.grad_outputs, where=f"{spec.name} {sample!r}")


def check_vjp2(spec, sample, rng):
    """Second order: the VJP (built with create_graph) differentiated again."""
    import ember
    kw = sample.kwargs
    arrays = grad_arrays(sample)
    pos = grad_positions(spec, sample)
    probe = outputs(spec.fn(*(to_ember(a) for a in arrays), **kw))
    sel = _float_outputs(probe, spec.grad_outputs)
    vs = [to_ember(rng.standard_normal(tuple(probe[i].shape))) for i in sel]

    def first_vjp(*ts):
        outs = outputs(spec.fn(*ts, **kw))
        used = [outs[i] for i in sel]
        live = [j for j, o in enumerate(used) if o.requires_grad]
        diff = [ts[i] for i in pos]
        if not live:
            return [ember.zeros_like(d) for d in diff]
        gs = ember.autograd.grad([used[j] for j in live], diff, [vs[j] for j in live],
                                 create_graph=True, allow_unused=True)
        return [ember.zeros_like(d) if g is None else g for d, g in zip(diff, gs)]

    vjp_check(first_vjp, arrays, pos, rng, eps=spec.fd_eps,
              rtol=spec.grad_tol[0] * 10, atol=spec.grad_tol[1] * 10,
              where=f"{spec.name} {sample!r} (second order)", nested=True)
