#include "pooling.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace defrost {

void MaxPoolGrad(const PoolGeometry& g, const float* x, const float* dy, float* dx) {
  const int64_t imageSize = int64_t(g.inH) * g.inW * g.channels;
  std::fill(dx, dx + imageSize * g.batch, 0.f);
  std::vector<float> best(g.channels);
  std::vector<int64_t> where(g.channels);
  for (int32_t n = 0; n < g.batch; ++n) {
    const float* image = x + n * imageSize;
    float* gradImage = dx + n * imageSize;
    for (int32_t oh = 0; oh < g.outH; ++oh) {
      for (int32_t ow = 0; ow < g.outW; ++ow) {
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        std::fill(where.begin(), where.end(), -1);
        for (int32_t kh = 0; kh < g.effectiveFilterH; kh += g.dilationH) {
          const int32_t ih = oh * g.strideH - g.padTop + kh;
          if (ih < 0 || ih >= g.inH) continue;
          for (int32_t kw = 0; kw < g.effectiveFilterW; kw += g.dilationW) {
            const int32_t iw = ow * g.strideW - g.padLeft + kw;
            if (iw < 0 || iw >= g.inW) continue;
            const int64_t base = (int64_t(ih) * g.inW + iw) * g.channels;
            const float* pixel = image + base;
            for (int32_t c = 0; c < g.channels; ++c) {
              if (pixel[c] > best[c]) {
                best[c] = pixel[c];
                where[c] = base + c;
              }
            }
          }
        }
        const float* grad = dy + ((int64_t(n) * g.outH + oh) * g.outW + ow) * g.channels;
        for (int32_t c = 0; c < g.channels; ++c) {
          if (where[c] >= 0) gradImage[where[c]] += grad[c];
        }
      }
    }
  }
}

void SumLeadingAxes(int64_t rows, int64_t cols, const float* x, float* out) {
  // Double accumulators: the reduction can run over hundreds of thousands of rows.
  std::vector<double> acc(cols, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    for (int64_t j = 0; j < cols; ++j) acc[j] += row[j];
  }
  for (int64_t j = 0; j < cols; ++j) out[j] = static_cast<float>(acc[j]);
}

}  // namespace defrost
