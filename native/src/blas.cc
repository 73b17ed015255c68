#include "blas.h"

namespace defrost {
namespace {

int32_t budget = 1;

// Tells OpenBLAS once, before the first product of the process, whoever loads the addon (the
// worker's runtime calls SetThreadBudget; `bench train` and tests may not): one thread.
void EnsureOneThread() {
  static const bool told = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)told;
}

}  // namespace

void SetThreadBudget(int32_t threads) {
  budget = threads < 1 ? 1 : threads;
  EnsureOneThread();
}

int32_t ThreadBudget() { return budget; }

void Sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  EnsureOneThread();
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace defrost
