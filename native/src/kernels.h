// Dense kernels for TensorFlow.js's wasm backend, computed with OpenBLAS sgemm directly on the
// tensors' bytes in the wasm heap. Pure compute: no N-API here (see addon.cc for the glue).
#pragma once
#include <cstdint>

namespace defrost {

// Activation codes: the same numbering as tfjs-backend-wasm's FusableActivation enum.
enum Activation : int32_t {
  kLinear = 0,
  kRelu = 1,
  kRelu6 = 2,
  kPrelu = 3,
  kLeakyRelu = 4,
  kSigmoid = 5,
  kElu = 6,
};

// What is added and applied to every row of a [rows, cols] output after the product.
struct Epilogue {
  const float* bias = nullptr;  // length biasLen: 1 (scalar) or cols (per column)
  int32_t biasLen = 0;
  int32_t activation = kLinear;
  const float* prelu = nullptr;  // length preluLen: 1 or cols
  int32_t preluLen = 0;
  float leakyAlpha = 0.f;
};

// C[b] = op(A[b]) x op(B[b]) (+ bias, activation) for b in [0, batch); strides in elements, a
// stride of 0 broadcasts that operand over the batch. Row-major, like tfjs tensors.
void BatchMatMul(int32_t batch, bool transA, bool transB, int32_t m, int32_t n, int32_t k,
                 const float* a, int64_t aStride, const float* b, int64_t bStride, float* c,
                 int64_t cStride, const Epilogue& epilogue);

// Geometry of a 2-D convolution over NHWC tensors with an HWIO filter.
struct ConvGeometry {
  int32_t batch, inH, inW, inC;
  int32_t filterH, filterW, outC;
  int32_t outH, outW;
  int32_t strideH, strideW;
  int32_t dilationH, dilationW;
  int32_t padTop, padLeft;
};

void Conv2D(const ConvGeometry& g, const float* x, const float* filter, float* y,
            const Epilogue& epilogue);
void Conv2DBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx);
void Conv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dw);

}  // namespace defrost
