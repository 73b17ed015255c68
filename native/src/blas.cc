#include "blas.h"

namespace defrost {
namespace {

int32_t budget = 1;
// What OpenBLAS was last told, so it is told only on a change (its setter takes a lock).
int32_t current = -1;

void UseThreads(int32_t threads) {
  if (threads == current) return;
  openblas_set_num_threads(threads);
  current = threads;
}

}  // namespace

void SetThreadBudget(int32_t threads) {
  budget = threads < 1 ? 1 : threads;
  UseThreads(1);
}

int32_t ThreadBudget() { return budget; }

void Sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  UseThreads(budget > 1 && m * n * k >= kParallelMacs ? budget : 1);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace defrost
