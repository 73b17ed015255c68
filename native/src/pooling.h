// Kernels besides matmul/conv that dominated the reference CNN's step on stock wasm: the max-pool
// gradient (stock: ~half of the step) and the bias-gradient reduction over the leading axes
// (stock: a full transpose first). Pure compute, NHWC.
#pragma once
#include <cstdint>

namespace defrost {

struct PoolGeometry {
  int32_t batch, inH, inW, channels, outH, outW;
  int32_t strideH, strideW, dilationH, dilationW;
  int32_t effectiveFilterH, effectiveFilterW, padTop, padLeft;
};

// dx = gradient of max pooling: each dy goes to the first maximal input of its window (the same
// tie rule as tfjs's cpu backend); dx is overwritten.
void MaxPoolGrad(const PoolGeometry& g, const float* x, const float* dy, float* dx);

// out[j] = sum over r of x[r * cols + j]: a sum over all but the last (flattened) axes.
void SumLeadingAxes(int64_t rows, int64_t cols, const float* x, float* out);

}  // namespace defrost
