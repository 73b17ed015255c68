// Built with -ffp-contract=off (binding.gyp): fused multiply-adds would round differently from
// the stock kernels' separate multiply and add.
#include "adam.h"

#include <cmath>

namespace defrost {

// Cloned per instruction set (picked at load time by the CPU) so the loop runs in 512- or
// 256-bit vectors where available and still loads on any x86-64.
__attribute__((target_clones("avx512f", "avx2", "default")))
void AdamUpdate(int64_t n, const float* __restrict value, const float* __restrict grad,
                const float* __restrict m, const float* __restrict v, float* __restrict newValue,
                float* __restrict newM, float* __restrict newV, const AdamScalars& s) {
  // Locals, so the compiler need not reload them after every store (and can vectorise).
  const float beta1 = s.beta1, oneMinusBeta1 = s.oneMinusBeta1;
  const float beta2 = s.beta2, oneMinusBeta2 = s.oneMinusBeta2;
  const float oneMinusAccBeta1 = s.oneMinusAccBeta1, oneMinusAccBeta2 = s.oneMinusAccBeta2;
  const float epsilon = s.epsilon, negLearningRate = s.negLearningRate;
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i];
    const float nm = m[i] * beta1 + g * oneMinusBeta1;
    const float nv = v[i] * beta2 + (g * g) * oneMinusBeta2;
    const float mHat = nm / oneMinusAccBeta1;
    const float vHat = nv / oneMinusAccBeta2;
    const float step = (mHat / (std::sqrt(vHat) + epsilon)) * negLearningRate;
    newM[i] = nm;
    newV[i] = nv;
    newValue[i] = step + value[i];
  }
}

// AdamUpdate in place, for the trainers (native/src/trainer.cc, native/torch/): the same float32
// operations in the same order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void AdamInPlace(int64_t n, float* __restrict value, const float* __restrict grad,
                 float* __restrict m, float* __restrict v, const AdamScalars& s) {
  const float beta1 = s.beta1, oneMinusBeta1 = s.oneMinusBeta1;
  const float beta2 = s.beta2, oneMinusBeta2 = s.oneMinusBeta2;
  const float oneMinusAccBeta1 = s.oneMinusAccBeta1, oneMinusAccBeta2 = s.oneMinusAccBeta2;
  const float epsilon = s.epsilon, negLearningRate = s.negLearningRate;
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i];
    const float nm = m[i] * beta1 + g * oneMinusBeta1;
    const float nv = v[i] * beta2 + (g * g) * oneMinusBeta2;
    const float mHat = nm / oneMinusAccBeta1;
    const float vHat = nv / oneMinusAccBeta2;
    m[i] = nm;
    v[i] = nv;
    value[i] = (mHat / (std::sqrt(vHat) + epsilon)) * negLearningRate + value[i];
  }
}

}  // namespace defrost
