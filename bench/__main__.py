"""``python -m bench [name ...]``: run the benchmarks and print their tables."""
import sys

from .harness import reexec_without_openblas_overrides

reexec_without_openblas_overrides()

from . import dispatch, train_eager  # noqa: E402

BENCHMARKS = {"dispatch": dispatch.run, "train_eager": train_eager.run}


def main(argv):
    names = argv or list(BENCHMARKS)
    for n in names:
        if n not in BENCHMARKS:
            sys.exit(f"unknown benchmark {n!r}; choose from {', '.join(BENCHMARKS)}")
    print("# ember benchmarks (medians of interleaved rounds; ratios vs the named peer)")
    for n in names:
        BENCHMARKS[n]()


main(sys.argv[1:])
