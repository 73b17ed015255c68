// The thread policy for every OpenBLAS call of the addon (docs/performance.md, "Threads"): one
// thread, always.
//
// OpenBLAS's results depend on its thread count: it splits a product among threads by blocks of
// rows or columns, and an entry then lands in a different micro-kernel (a full 16-row block or an
// edge block) with a different summation order. Measured on this library, a 1000 x 128 x 128
// sgemm differs in 12% of its entries between one and two threads, a convolution's 50176 x 32 x
// 288 in 38%. The thread budget of a worker follows `--jobs` (cores / jobs), which is not part of
// an instance's key, so threaded products made the same key give different bytes under `--jobs 1`
// and `--jobs 2`. One thread keeps every result a function of its key on one backend; parallelism
// comes from running instances side by side (`--jobs`). It also ends OpenBLAS's hand-off costs:
// the calling thread waiting on sched_yield while a helper wakes, the helper spinning afterwards
// (15% of the wall time of a `--jobs 1` study went to the kernel that way).
#pragma once
#include <cblas.h>

#include <cstdint>

namespace defrost {

// The compute threads this process may use (DEFROST_THREADS; the default is one). Recorded and
// reported (`info().threads`), but the BLAS calls below use one thread whatever it is (see above).
void SetThreadBudget(int32_t threads);
int32_t ThreadBudget();

// cblas_sgemm, row-major, on one OpenBLAS thread.
void Sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace defrost
