import os

# One BLAS thread in tests: the suite runs on 2 shared cores, where a second OpenBLAS
# thread contends with the test process and makes small matmuls many times slower. (This
# must be set before numpy loads OpenBLAS; benchmarks choose their own thread counts.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps the whole suite within the CI budget on 2 cores; "dev" explores more.
# "ci" is derandomized: the same examples every run, so a red CI is a real regression
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the test oracle (the test is skipped where it is not installed)."""
    return pytest.importorskip("torch")
