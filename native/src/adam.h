// Fused Adam update for TensorFlow.js's wasm backend: one pass over the value, gradient and both
// moments instead of the ~13 elementwise kernels (each a full pass over memory) that
// tfjs's AdamOptimizer runs per variable. Same float32 operations in the same order, so the
// results match the stock optimizer.
#pragma once
#include <cstdint>

namespace defrost {

struct AdamScalars {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2;
  float oneMinusAccBeta1, oneMinusAccBeta2, epsilon, negLearningRate;
};

void AdamUpdate(int64_t n, const float* value, const float* grad, const float* m, const float* v,
                float* newValue, float* newM, float* newV, const AdamScalars& s);

// AdamUpdate in place: the same float32 operations in the same order.
void AdamInPlace(int64_t n, float* value, const float* grad, float* m, float* v,
                 const AdamScalars& s);

}  // namespace defrost
