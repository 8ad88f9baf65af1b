"""``python -m bench.compiled_coldstart WORKLOAD TIER [BACKEND]``: one process measuring
how long ``ember.compile`` takes to its first compiled result, printed as one JSON line.

The parent (bench/compiled.py) runs it twice per workload with the same EMBER_CACHE_DIR:
first on a fresh directory (cold), then again in a new process (warm: ember imported, the
on-disk cache filled). ember's first call of a compiled function runs eagerly (so lazily
created state such as momentum buffers exists before tracing); the call that traces,
compiles and runs is the second, and that one is what "first call to result" times.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np


def main(argv):
    name, tier = argv[0], argv[1]
    backend = argv[2] if len(argv) > 2 and argv[2] != "-" else None
    t0 = time.perf_counter()
    import ember
    from . import compiled_workloads as cw
    t_import = time.perf_counter() - t0
    w = cw.BY_NAME[name]
    inp = w.inputs(w.sizes[tier], np.random.default_rng(0))
    wrap = cw.ember_compile_wrap(backend)
    run = w.build(ember, inp, wrap)
    t0 = time.perf_counter()
    run()
    t1 = time.perf_counter()
    r = run()
    cw.to_numpy(r)                   # the result, on the host
    t2 = time.perf_counter()
    c = cw.compiled_fn(wrap.made[0])
    out = {"workload": name, "backend": cw.backend_of(c), "import_s": t_import,
           "eager_first_call_s": t1 - t0, "compile_call_s": t2 - t1,
           "timings": {k: float(v) for k, v in c.stats()["timings"].items()},
           "llvmlite_imported": "llvmlite" in sys.modules}
    try:
        from ember.runtime.cache import default_cache
        out["cache"] = default_cache().stats()
    except Exception as e:  # noqa: BLE001 - the cache is optional information here
        out["cache"] = {"error": f"{type(e).__name__}: {e}"}
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
