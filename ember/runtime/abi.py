"""The native calling convention shared by every backend's generated code and the runtime.

A kernel is ``void <name>(void **args)``: ``args[i]`` is the base pointer of buffer
parameter i (parameter order of the kernel IR); shapes and strides are compiled in. An
extern call (matmul) uses the same convention. Generated code reaches the outside world
only through the *slots* below: global variables in the compiled library that the runtime
fills after loading (function pointers, the thread count), so an object file holds no
process-specific address and can be cached and reloaded in another process.
"""
SGEMM = "__ember_sgemm"                  # cblas_sgemm-compatible, int64 dimensions (ILP64)
DGEMM = "__ember_dgemm"
GOMP_PARALLEL = "__ember_gomp_parallel"  # void GOMP_parallel(void (*)(void *), void *, unsigned, unsigned)
OMP_THREAD_NUM = "__ember_omp_get_thread_num"
OMP_NUM_THREADS = "__ember_omp_get_num_threads"
NUM_THREADS = "__ember_num_threads"      # i32; <= 1 runs every kernel on the calling thread

POINTER_SLOTS = (SGEMM, DGEMM, GOMP_PARALLEL, OMP_THREAD_NUM, OMP_NUM_THREADS)
INT_SLOTS = (NUM_THREADS,)

CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS = 101, 111, 112
