"""``ember.cuda``: availability queries. The CUDA backend is a later issue; until then
``is_available()`` reports the hardware and moving tensors there raises a clear error."""
from .frontend.device import cuda_is_available as is_available  # noqa: F401


def device_count() -> int:
    if not is_available():
        return 0
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


def manual_seed(seed):
    """Seeds nothing yet: there is no CUDA generator until the CUDA backend lands."""
    return None


manual_seed_all = manual_seed


def synchronize(device=None):
    return None
