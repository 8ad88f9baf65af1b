"""``python -m bench [name ...] [--quick] [--only NAME] [--backend NAME]``: run the
benchmarks and print their tables (all of them when no name is given).

--quick, --only, --backend, --no-compile-time and --no-torch apply to the ``compiled``
benchmark; ``profile`` (not run by default) times ember compiled kernel by kernel. EMBER_BENCH_THREADS (default 2) is the thread count of every system."""
import argparse
import os
import sys

# Same thread count for every system. These are read when the libraries load, so they
# are set before anything imports numpy (the re-exec below carries them along).
_THREADS = os.environ.setdefault("EMBER_BENCH_THREADS", "2")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "EMBER_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)
# Three thread pools share this process (OpenBLAS's, and the libgomp that PyTorch and
# ember's runtime both use). By default each spins after its work: libgomp ~300k
# iterations, OpenBLAS 2^28 cycles (~0.1 s), so the system timed next finds a core busy
# and every 2-thread region waits for it (measured: the MLP step at batch 32 went from
# ~0.4-0.8 ms to 3-33 ms per system with all three interleaved). Short spins (~0.1-0.5
# ms) keep each library's threads hot between its own back-to-back calls (PyTorch eager
# alone measured the same as with its defaults) without stealing the next system's cores.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

from .harness import reexec_without_openblas_overrides  # noqa: E402

reexec_without_openblas_overrides()

from . import compiled, dispatch, profile_steps, train_eager  # noqa: E402

BENCHMARKS = {
    "dispatch": lambda a: dispatch.run(),
    "train_eager": lambda a: train_eager.run(),
    "compiled": lambda a: compiled.run(quick=a.quick, only=a.only, backend=a.backend,
                                       compile_time=not a.no_compile_time,
                                       with_torch=not a.no_torch),
    # not part of the default run: a per-kernel profile of ember compiled
    "profile": lambda a: profile_steps.run(quick=a.quick, only=a.only),
}
DEFAULT = ("dispatch", "train_eager", "compiled")


def main(argv):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", metavar="name",
                   help=f"benchmarks to run (default: {', '.join(DEFAULT)}); also: profile")
    p.add_argument("--quick", action="store_true", help="compiled: smaller sizes")
    p.add_argument("--only", metavar="NAME",
                   help="compiled: comma-separated workloads or groups (a prefix is enough)")
    p.add_argument("--backend", metavar="NAME",
                   help="compiled: ember.compile backend (default: ember's default)")
    p.add_argument("--no-compile-time", action="store_true",
                   help="compiled: skip the cold/warm compile-time subprocesses")
    p.add_argument("--no-torch", action="store_true",
                   help="compiled: leave PyTorch out even when it is installed")
    a = p.parse_args(argv)
    names = a.names or list(DEFAULT)
    for n in names:
        if n not in BENCHMARKS:
            sys.exit(f"unknown benchmark {n!r}; choose from {', '.join(BENCHMARKS)}")
    print("# ember benchmarks (medians of interleaved rounds; ratios vs the named peer)")
    for n in names:
        BENCHMARKS[n](a)


main(sys.argv[1:])
