"""Per-op eager dispatch overhead: a chain of 100 small ops on (16, 16) tensors, with and
without grad, for ember eager, numpy directly and PyTorch eager (when installed)."""
from __future__ import annotations

import numpy as np

from .harness import measure, table, try_import_torch

N_OPS = 100


def chain(x, y):
    """100 ops: alternating tensor-tensor add and tensor-scalar mul/add/sub/div, as a
    small model's elementwise glue does."""
    z = x
    for i in range(N_OPS // 4):
        z = z + y
        z = z * 0.5
        z = z - y
        z = z / 1.5
    return z


def run():
    import ember
    rows = {}
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 16)).astype(np.float32)
    b = rng.standard_normal((16, 16)).astype(np.float32)
    torch = try_import_torch()
    for grad in (False, True):
        ex, ey = ember.tensor(a, requires_grad=grad), ember.tensor(b)
        systems = {"ember eager": lambda: chain(ex, ey), "numpy": lambda: chain(a, b)}
        if torch is not None:
            tx, ty = torch.tensor(a, requires_grad=grad), torch.tensor(b)
            systems["torch eager"] = lambda: chain(tx, ty)
        res = measure(systems, rounds=15, warmup=3, inner=5)
        rows[f"100 ops (16,16), requires_grad={grad}"] = {k: v / N_OPS for k, v in res.items()}
    ref = "torch eager" if torch is not None else "numpy"
    table("eager dispatch overhead per op", rows, unit="us/op", ref=ref)
    return rows


if __name__ == "__main__":
    run()
