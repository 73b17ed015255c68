// The thread policy for every OpenBLAS call of the addon (docs/performance.md, "threads").
// OpenBLAS shares each sgemm among all its threads whenever the product exceeds a tiny
// threshold, and its idle threads then spin on sched_yield between calls: for the products of
// small networks (a 64 x 128 x 128 step of a 128-wide MLP) the hand-off costs more than the
// arithmetic and the spinning shows up as system time. So each product here picks its thread
// count from its size: one thread below kParallelMacs multiply-adds, the budget above.
#pragma once
#include <cblas.h>

#include <cstdint>

namespace defrost {

// Multiply-adds (m * n * k) from which a product is shared among threads: ~1 ms of work on one
// core. Below it the hand-off does not pay: waking the helper takes microseconds on an idle
// machine but a scheduler time slice when the other core is busy, and meanwhile the calling
// thread waits on sched_yield (system time) while the helper spins ~2^20 cycles on it afterwards.
// At the earlier 8 M, the validation and test passes of the default study's MLP (1,000 and 2,000
// rows x 128 x 128: 16 M and 33 M) went parallel and a `--jobs 1` run spent 15% of its wall time
// in the kernel (docs/performance.md, "Threads"). Convolution products of a CNN batch (100 M to
// 500 M) still go parallel.
constexpr int64_t kParallelMacs = int64_t(64) << 20;

// The compute threads this process may use (DEFROST_THREADS); the default is one.
void SetThreadBudget(int32_t threads);
int32_t ThreadBudget();

// cblas_sgemm, row-major, with the thread count chosen by size.
void Sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace defrost
