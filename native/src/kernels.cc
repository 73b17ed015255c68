// im2col + sgemm implementations of the kernels declared in kernels.h. Scratch space for the
// column matrices lives in this process's own heap (never in the wasm heap, which tfjs owns).
#include "kernels.h"

#include "blas.h"

#include <strings.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace defrost {
namespace {

// Column buffers are reused between calls: a training step calls the conv kernels many times
// with the same shapes, and reallocating tens of megabytes each time costs page faults.
std::vector<float>& Scratch() {
  static thread_local std::vector<float> buffer;
  return buffer;
}

float* ScratchOf(size_t floats) {
  std::vector<float>& buffer = Scratch();
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

// Upper bound on the floats of one column-matrix chunk (64 MiB): large enough that the gemm
// sees many rows, small enough to stay in memory for big batches.
constexpr size_t kChunkFloats = size_t(16) << 20;

inline float Activate(float v, int32_t activation, float preluWeight, float leakyAlpha) {
  switch (activation) {
    case kRelu: return v > 0.f ? v : 0.f;
    case kRelu6: return std::min(std::max(v, 0.f), 6.f);
    case kPrelu: return v < 0.f ? preluWeight * v : v;
    case kLeakyRelu: return v < 0.f ? leakyAlpha * v : v;
    case kSigmoid: return 1.f / (1.f + std::exp(-v));
    case kElu: return v >= 0.f ? v : std::expm1(v);
    default: return v;
  }
}

// Writes the bias into every row of c so that the following gemm can accumulate onto it
// (beta = 1) instead of making a second pass.
void FillBias(float* c, int64_t rows, int32_t cols, const Epilogue& e) {
  if (e.biasLen == 1) {
    std::fill(c, c + rows * cols, e.bias[0]);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) std::memcpy(c + r * cols, e.bias, sizeof(float) * cols);
}

void ApplyActivation(float* c, int64_t rows, int32_t cols, const Epilogue& e) {
  if (e.activation == kLinear) return;
  if (e.activation == kRelu) {
    const int64_t total = rows * cols;
    for (int64_t i = 0; i < total; ++i) c[i] = c[i] > 0.f ? c[i] : 0.f;
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * cols;
    for (int32_t j = 0; j < cols; ++j) {
      const float w = e.activation == kPrelu ? e.prelu[e.preluLen == 1 ? 0 : j] : 0.f;
      row[j] = Activate(row[j], e.activation, w, e.leakyAlpha);
    }
  }
}

bool HasBias(const Epilogue& e) { return e.bias != nullptr && e.biasLen > 0; }

// c[rows, cols] = a[rows, k] x b[k, cols] with the epilogue; b row-major (an HWIO filter).
void GemmWithEpilogue(int64_t rows, int32_t cols, int32_t k, const float* a, const float* b,
                      float* c, const Epilogue& e) {
  const bool bias = HasBias(e);
  if (bias) FillBias(c, rows, cols, e);
  Sgemm(false, false, rows, cols, k, 1.f, a, k, b, cols, bias ? 1.f : 0.f, c, cols);
  ApplyActivation(c, rows, cols, e);
}

int64_t PatchSize(const ConvGeometry& g) { return int64_t(g.filterH) * g.filterW * g.inC; }
int64_t RowsPerImage(const ConvGeometry& g) { return int64_t(g.outH) * g.outW; }

// True when the column matrix of an image equals the image itself (1x1 filter, stride 1,
// no padding), so the gemm can read the input in place.
bool IsPointwise(const ConvGeometry& g) {
  return g.filterH == 1 && g.filterW == 1 && g.strideH == 1 && g.strideW == 1 && g.padTop == 0 &&
         g.padLeft == 0 && g.outH == g.inH && g.outW == g.inW;
}

int32_t ImagesPerChunk(const ConvGeometry& g) {
  const int64_t perImage = std::max<int64_t>(1, RowsPerImage(g) * PatchSize(g));
  return static_cast<int32_t>(
      std::max<int64_t>(1, std::min<int64_t>(g.batch, kChunkFloats / perImage)));
}

// cols[(n, oh, ow), (kh, kw, c)] for images [first, first + count): the rows of the patch
// matrix in the order of the output pixels and the columns in the order of an HWIO filter.
void Im2Col(const ConvGeometry& g, const float* x, int32_t first, int32_t count, float* cols) {
  const int64_t patch = PatchSize(g);
  for (int32_t n = first; n < first + count; ++n) {
    const float* image = x + int64_t(n) * g.inH * g.inW * g.inC;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        float* row = cols + ((int64_t(n - first) * g.outH + oh) * g.outW + ow) * patch;
        for (int32_t kh = 0; kh < g.filterH; ++kh) {
          const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
          for (int32_t kw = 0; kw < g.filterW; ++kw) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
            float* dst = row + (int64_t(kh) * g.filterW + kw) * g.inC;
            // Plain loops rather than memcpy/memset: the runs are short (inC floats, often
            // 1 to 32) and a library call per run cost more than the copy.
            if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) {
              for (int32_t c = 0; c < g.inC; ++c) dst[c] = 0.f;
            } else {
              const float* src = image + (int64_t(ih) * g.inW + iw) * g.inC;
              for (int32_t c = 0; c < g.inC; ++c) dst[c] = src[c];
            }
          }
        }
      }
    }
  }
}

// The adjoint of Im2Col: adds every column entry back onto the input pixel it was read from.
void Col2ImAdd(const ConvGeometry& g, const float* cols, int32_t first, int32_t count, float* dx) {
  const int64_t patch = PatchSize(g);
  for (int32_t n = first; n < first + count; ++n) {
    float* image = dx + int64_t(n) * g.inH * g.inW * g.inC;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        const float* row = cols + ((int64_t(n - first) * g.outH + oh) * g.outW + ow) * patch;
        for (int32_t kh = 0; kh < g.filterH; ++kh) {
          const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (int32_t kw = 0; kw < g.filterW; ++kw) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            const float* src = row + (int64_t(kh) * g.filterW + kw) * g.inC;
            float* dst = image + (int64_t(ih) * g.inW + iw) * g.inC;
            for (int32_t c = 0; c < g.inC; ++c) dst[c] += src[c];
          }
        }
      }
    }
  }
}

// Patch sizes up to this go through the direct loops below (forward and filter gradient; the
// input gradient measured faster as sgemm + col2im even then) instead of im2col + sgemm: with a
// handful of taps (a first layer on 1-channel images has 9) sgemm's packing dominates and the
// column matrix costs more memory traffic than the convolution itself.
constexpr int64_t kDirectMaxPatch = 16;

bool UseDirect(const ConvGeometry& g) { return PatchSize(g) <= kDirectMaxPatch; }

// y[row, :] = sum over valid taps of x[pixel, ci] * filter[tap, ci, :], then the epilogue.
__attribute__((target_clones("avx512f", "avx2", "default")))
void DirectConv2D(const ConvGeometry& g, const float* x, const float* filter, float* y,
                  const Epilogue& e) {
  const int32_t outC = g.outC;
  const bool bias = HasBias(e);
  for (int32_t n = 0; n < g.batch; ++n) {
    const float* image = x + int64_t(n) * g.inH * g.inW * g.inC;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        float* __restrict out = y + ((int64_t(n) * g.outH + oh) * g.outW + ow) * outC;
        for (int32_t co = 0; co < outC; ++co) out[co] = bias ? e.bias[e.biasLen == 1 ? 0 : co] : 0.f;
        for (int32_t kh = 0; kh < g.filterH; ++kh) {
          const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (int32_t kw = 0; kw < g.filterW; ++kw) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            const float* pixel = image + (int64_t(ih) * g.inW + iw) * g.inC;
            const float* taps = filter + (int64_t(kh) * g.filterW + kw) * g.inC * outC;
            for (int32_t ci = 0; ci < g.inC; ++ci) {
              const float v = pixel[ci];
              const float* __restrict w = taps + int64_t(ci) * outC;
              for (int32_t co = 0; co < outC; ++co) out[co] += v * w[co];
            }
          }
        }
      }
    }
  }
  ApplyActivation(y, int64_t(g.batch) * g.outH * g.outW, outC, e);
}

// The forward loops for a compile-time number of output channels: the accumulators of one output
// pixel then live in vector registers across all taps (no im2col matrix, no load/store of the
// output per tap). Inlined into DirectConv2DFixed, which is compiled per instruction set.
template <int OC>
__attribute__((always_inline, optimize("fp-contract=fast"))) inline void DirectConv2DBody(const ConvGeometry& g, const float* x,
                                                            const float* filter, float* y,
                                                            const Epilogue& e) {
  const bool bias = HasBias(e);
  for (int32_t n = 0; n < g.batch; ++n) {
    const float* image = x + int64_t(n) * g.inH * g.inW * g.inC;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        float acc[OC];
        for (int co = 0; co < OC; ++co) acc[co] = bias ? e.bias[e.biasLen == 1 ? 0 : co] : 0.f;
        for (int32_t kh = 0; kh < g.filterH; ++kh) {
          const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (int32_t kw = 0; kw < g.filterW; ++kw) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            const float* pixel = image + (int64_t(ih) * g.inW + iw) * g.inC;
            const float* taps = filter + (int64_t(kh) * g.filterW + kw) * g.inC * OC;
            for (int32_t ci = 0; ci < g.inC; ++ci) {
              const float v = pixel[ci];
              const float* w = taps + int64_t(ci) * OC;
              for (int co = 0; co < OC; ++co) acc[co] += v * w[co];
            }
          }
        }
        float* out = y + ((int64_t(n) * g.outH + oh) * g.outW + ow) * OC;
        for (int co = 0; co < OC; ++co) out[co] = acc[co];
      }
    }
  }
  ApplyActivation(y, int64_t(g.batch) * g.outH * g.outW, OC, e);
}

bool HasFixedDirect(int32_t outC) {
  return outC == 8 || outC == 16 || outC == 32 || outC == 64 || outC == 128;
}

// OpenBLAS's generic x86 kernels (what DYNAMIC_ARCH falls back to on CPUs it does not know).
bool BlasUsesGenericCore() {
  const char* name = openblas_get_corename();
  if (name == nullptr) return false;
  for (const char* generic : {"Prescott", "Core2", "Katmai", "Coppermine", "Northwood", "Banias",
                              "Atom", "Nehalem"}) {
    if (strcasecmp(name, generic) == 0) return true;
  }
  return false;
}

// Whether the fixed-channel direct loops should replace im2col + sgemm (forward and filter
// gradient).
// Measured on the reference CNN: 2-4x faster than OpenBLAS's generic kernels, but ~1.5x slower
// than its AVX-512 ones. DEFROST_CONV_DIRECT=1/0 forces either (tests cover both paths).
bool PreferFixedDirect() {
  const char* forced = std::getenv("DEFROST_CONV_DIRECT");
  if (forced != nullptr && forced[0] != '\0') return forced[0] == '1';
  static const bool generic = BlasUsesGenericCore();
  return generic;
}

// fp-contract=fast: multiply-adds may fuse here (the build turns contraction off globally for
// the Adam kernel's exact match with tfjs).
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))
void DirectConv2DFixed(const ConvGeometry& g, const float* x, const float* filter, float* y,
                       const Epilogue& e) {
  switch (g.outC) {
    case 8: DirectConv2DBody<8>(g, x, filter, y, e); break;
    case 16: DirectConv2DBody<16>(g, x, filter, y, e); break;
    case 32: DirectConv2DBody<32>(g, x, filter, y, e); break;
    case 64: DirectConv2DBody<64>(g, x, filter, y, e); break;
    default: DirectConv2DBody<128>(g, x, filter, y, e); break;
  }
}

// The filter gradient for a compile-time number of output channels: each output pixel's dy row
// is held in vector registers while it is added, scaled, onto every tap's rows of dw (which stay
// in L1/L2 for the filter sizes of small CNNs).
template <int OC>
__attribute__((always_inline, optimize("fp-contract=fast"))) inline void
DirectConv2DBackpropFilterBody(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  std::fill(dw, dw + PatchSize(g) * OC, 0.f);
  for (int32_t n = 0; n < g.batch; ++n) {
    const float* image = x + int64_t(n) * g.inH * g.inW * g.inC;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        float grad[OC];
        const float* row = dy + ((int64_t(n) * g.outH + oh) * g.outW + ow) * OC;
        for (int co = 0; co < OC; ++co) grad[co] = row[co];
        for (int32_t kh = 0; kh < g.filterH; ++kh) {
          const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (int32_t kw = 0; kw < g.filterW; ++kw) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            const float* pixel = image + (int64_t(ih) * g.inW + iw) * g.inC;
            float* taps = dw + (int64_t(kh) * g.filterW + kw) * g.inC * OC;
            for (int32_t ci = 0; ci < g.inC; ++ci) {
              const float v = pixel[ci];
              float* w = taps + int64_t(ci) * OC;
              for (int co = 0; co < OC; ++co) w[co] += v * grad[co];
            }
          }
        }
      }
    }
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))
void DirectConv2DBackpropFilterFixed(const ConvGeometry& g, const float* x, const float* dy,
                                     float* dw) {
  switch (g.outC) {
    case 8: DirectConv2DBackpropFilterBody<8>(g, x, dy, dw); break;
    case 16: DirectConv2DBackpropFilterBody<16>(g, x, dy, dw); break;
    case 32: DirectConv2DBackpropFilterBody<32>(g, x, dy, dw); break;
    case 64: DirectConv2DBackpropFilterBody<64>(g, x, dy, dw); break;
    default: DirectConv2DBackpropFilterBody<128>(g, x, dy, dw); break;
  }
}

// The filter gradient for few taps (a first layer on 1-channel images): one tap and input
// channel at a time, its OC sums held in registers over all output pixels, four pixels in
// flight so that consecutive multiply-adds do not wait on each other. (Accumulating into dw per
// pixel instead waits on a store and reload of the same dw row for every tap.) Stride 1 along
// the width.
template <int OC>
__attribute__((always_inline, optimize("fp-contract=fast"))) inline void
DirectConv2DBackpropFilterByTapBody(const ConvGeometry& g, const float* x, const float* dy,
                                    float* dw) {
  for (int32_t kh = 0; kh < g.filterH; ++kh) {
    for (int32_t kw = 0; kw < g.filterW; ++kw) {
      // Output columns whose input column iw = ow - padLeft + kw * dilationW is inside the image.
      const int32_t shift = kw * g.dilationW - g.padLeft;
      const int32_t owLo = std::max(0, -shift);
      const int32_t owHi = std::min(g.outW, g.inW - shift);
      for (int32_t ci = 0; ci < g.inC; ++ci) {
        float a0[OC], a1[OC], a2[OC], a3[OC];
        for (int co = 0; co < OC; ++co) a0[co] = a1[co] = a2[co] = a3[co] = 0.f;
        for (int32_t n = 0; n < g.batch; ++n) {
          const float* image = x + int64_t(n) * g.inH * g.inW * g.inC;
          for (int32_t oh = 0; oh < g.outH; ++oh) {
            const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
            if (ih < 0 || ih >= g.inH) continue;
            const float* in = image + (int64_t(ih) * g.inW + shift) * g.inC + ci;
            const float* grad = dy + (int64_t(n) * g.outH + oh) * g.outW * OC;
            int32_t ow = owLo;
            for (; ow + 4 <= owHi; ow += 4) {
              const float v0 = in[int64_t(ow) * g.inC], v1 = in[int64_t(ow + 1) * g.inC];
              const float v2 = in[int64_t(ow + 2) * g.inC], v3 = in[int64_t(ow + 3) * g.inC];
              const float* r = grad + int64_t(ow) * OC;
              for (int co = 0; co < OC; ++co) {
                a0[co] += v0 * r[co];
                a1[co] += v1 * r[OC + co];
                a2[co] += v2 * r[2 * OC + co];
                a3[co] += v3 * r[3 * OC + co];
              }
            }
            for (; ow < owHi; ++ow) {
              const float v = in[int64_t(ow) * g.inC];
              const float* r = grad + int64_t(ow) * OC;
              for (int co = 0; co < OC; ++co) a0[co] += v * r[co];
            }
          }
        }
        float* out = dw + ((int64_t(kh) * g.filterW + kw) * g.inC + ci) * OC;
        for (int co = 0; co < OC; ++co) out[co] = (a0[co] + a1[co]) + (a2[co] + a3[co]);
      }
    }
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=fast")))
void DirectConv2DBackpropFilterByTapFixed(const ConvGeometry& g, const float* x, const float* dy,
                                          float* dw) {
  switch (g.outC) {
    case 8: DirectConv2DBackpropFilterByTapBody<8>(g, x, dy, dw); break;
    case 16: DirectConv2DBackpropFilterByTapBody<16>(g, x, dy, dw); break;
    case 32: DirectConv2DBackpropFilterByTapBody<32>(g, x, dy, dw); break;
    case 64: DirectConv2DBackpropFilterByTapBody<64>(g, x, dy, dw); break;
    default: DirectConv2DBackpropFilterByTapBody<128>(g, x, dy, dw); break;
  }
}

// dw[tap, ci, :] = sum over output pixels of x[pixel(tap), ci] * dy[row, :].
__attribute__((target_clones("avx512f", "avx2", "default")))
void DirectConv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  const int32_t outC = g.outC;
  std::fill(dw, dw + PatchSize(g) * outC, 0.f);
  for (int32_t n = 0; n < g.batch; ++n) {
    const float* image = x + int64_t(n) * g.inH * g.inW * g.inC;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        const float* __restrict grad = dy + ((int64_t(n) * g.outH + oh) * g.outW + ow) * outC;
        for (int32_t kh = 0; kh < g.filterH; ++kh) {
          const int32_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
          if (ih < 0 || ih >= g.inH) continue;
          for (int32_t kw = 0; kw < g.filterW; ++kw) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
            if (iw < 0 || iw >= g.inW) continue;
            const float* pixel = image + (int64_t(ih) * g.inW + iw) * g.inC;
            float* taps = dw + (int64_t(kh) * g.filterW + kw) * g.inC * outC;
            for (int32_t ci = 0; ci < g.inC; ++ci) {
              const float v = pixel[ci];
              float* __restrict w = taps + int64_t(ci) * outC;
              for (int32_t co = 0; co < outC; ++co) w[co] += v * grad[co];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void BatchMatMul(int32_t batch, bool transA, bool transB, int32_t m, int32_t n, int32_t k,
                 const float* a, int64_t aStride, const float* b, int64_t bStride, float* c,
                 int64_t cStride, const Epilogue& e) {
  const int lda = transA ? m : k;
  const int ldb = transB ? k : n;
  const bool bias = HasBias(e);
  for (int32_t i = 0; i < batch; ++i) {
    float* ci = c + i * cStride;
    if (k == 0) {
      std::fill(ci, ci + int64_t(m) * n, 0.f);
    }
    if (bias) FillBias(ci, m, n, e);
    // With k == 0 the product is empty and the output is the bias (or zeros) alone.
    if (k > 0 && m > 0 && n > 0) {
      Sgemm(transA, transB, m, n, k, 1.f, a + i * aStride, lda, b + i * bStride, ldb, bias ? 1.f : 0.f, ci, n);
    }
    ApplyActivation(ci, m, n, e);
  }
}

void Conv2D(const ConvGeometry& g, const float* x, const float* filter, float* y,
            const Epilogue& e) {
  const int64_t patch = PatchSize(g);
  const int64_t rowsPerImage = RowsPerImage(g);
  if (IsPointwise(g)) {
    GemmWithEpilogue(int64_t(g.batch) * rowsPerImage, g.outC, g.inC, x, filter, y, e);
    return;
  }
  if (HasFixedDirect(g.outC) && (UseDirect(g) || PreferFixedDirect())) {
    DirectConv2DFixed(g, x, filter, y, e);
    return;
  }
  if (UseDirect(g)) {
    DirectConv2D(g, x, filter, y, e);
    return;
  }
  const int32_t chunk = ImagesPerChunk(g);
  float* cols = ScratchOf(size_t(chunk) * rowsPerImage * patch);
  for (int32_t first = 0; first < g.batch; first += chunk) {
    const int32_t count = std::min(chunk, g.batch - first);
    Im2Col(g, x, first, count, cols);
    GemmWithEpilogue(int64_t(count) * rowsPerImage, g.outC, static_cast<int32_t>(patch), cols,
                     filter, y + int64_t(first) * rowsPerImage * g.outC, e);
  }
}

void Conv2DBackpropInput(const ConvGeometry& g, const float* dy, const float* filter, float* dx) {
  const int64_t patch = PatchSize(g);
  const int64_t rowsPerImage = RowsPerImage(g);
  if (IsPointwise(g)) {
    Sgemm(false, true, g.batch * static_cast<int>(rowsPerImage), g.inC, g.outC, 1.f, dy, g.outC, filter, g.outC, 0.f, dx, g.inC);
    return;
  }

  std::fill(dx, dx + int64_t(g.batch) * g.inH * g.inW * g.inC, 0.f);
  const int32_t chunk = ImagesPerChunk(g);
  float* cols = ScratchOf(size_t(chunk) * rowsPerImage * patch);
  for (int32_t first = 0; first < g.batch; first += chunk) {
    const int32_t count = std::min(chunk, g.batch - first);
    const int rows = static_cast<int>(int64_t(count) * rowsPerImage);
    Sgemm(false, true, rows, patch, g.outC, 1.f, dy + int64_t(first) * rowsPerImage * g.outC, g.outC, filter, g.outC, 0.f, cols, patch);
    Col2ImAdd(g, cols, first, count, dx);
  }
}

void Conv2DBackpropFilter(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  const int64_t patch = PatchSize(g);
  const int64_t rowsPerImage = RowsPerImage(g);
  if (IsPointwise(g)) {
    Sgemm(true, false, g.inC, g.outC, g.batch * static_cast<int>(rowsPerImage), 1.f, x, g.inC, dy, g.outC, 0.f, dw, g.outC);
    return;
  }
  if (g.batch == 0 || rowsPerImage == 0) {
    std::fill(dw, dw + patch * g.outC, 0.f);
    return;
  }
  if (HasFixedDirect(g.outC) && UseDirect(g) && g.strideW == 1) {
    DirectConv2DBackpropFilterByTapFixed(g, x, dy, dw);
    return;
  }
  if (HasFixedDirect(g.outC) && PreferFixedDirect() && !UseDirect(g)) {
    DirectConv2DBackpropFilterFixed(g, x, dy, dw);
    return;
  }
  if (UseDirect(g)) {
    DirectConv2DBackpropFilter(g, x, dy, dw);
    return;
  }
  const int32_t chunk = ImagesPerChunk(g);
  float* cols = ScratchOf(size_t(chunk) * rowsPerImage * patch);
  for (int32_t first = 0; first < g.batch; first += chunk) {
    const int32_t count = std::min(chunk, g.batch - first);
    const int rows = static_cast<int>(int64_t(count) * rowsPerImage);
    Im2Col(g, x, first, count, cols);
    Sgemm(true, false, patch, g.outC, rows, 1.f, cols, patch, dy + int64_t(first) * rowsPerImage * g.outC, g.outC, first == 0 ? 0.f : 1.f, dw, g.outC);
  }
}

}  // namespace defrost
