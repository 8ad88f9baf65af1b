"""ember.runtime: runs compiled programs. Imports neither ember.frontend nor ember.compiler
nor llvmlite (tests check ``sys.modules``), so a cached or exported artifact runs in a
process that never compiles.

    art = Artifact.read(path)          # or ArtifactCache().get(key)
    prog = art.load()                  # ctypes dlopen + slot binding
    prog["fused_mul_add_relu_3"](x, out)
"""
from . import abi  # noqa: F401
from .artifact import Artifact, ArtifactError, Program, FORMAT_VERSION  # noqa: F401
from .cache import ArtifactCache, cache_key, default_cache, host_fingerprint  # noqa: F401
from .native import KernelCallable, NativeError, load_shared  # noqa: F401
from .parallel import get_num_threads, set_num_threads  # noqa: F401
from . import blas  # noqa: F401
