#include "trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "adam.h"
#include "blas.h"
#include "pooling.h"

namespace defrost {
namespace {

bool Weighted(const LayerSpec& s) { return s.kind == kDenseLayer || s.kind == kConvLayer; }

// The fused epilogue of kernels.h covers these activations; tanh is applied afterwards.
int32_t EpilogueActivation(int32_t activation) {
  switch (activation) {
    case kActRelu: return kRelu;
    case kActSigmoid: return kSigmoid;
    case kActElu: return kElu;
    default: return kLinear;
  }
}

void ApplyTanh(float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(y[i]);
}

// g *= activation'(pre-activation), written from the activation's output y.
__attribute__((target_clones("avx512f", "avx2", "default")))
void ActivationGrad(int32_t activation, const float* __restrict y, float* __restrict g, int64_t n) {
  switch (activation) {
    case kActRelu:
      for (int64_t i = 0; i < n; ++i) g[i] = y[i] > 0.f ? g[i] : 0.f;
      break;
    case kActTanh:
      for (int64_t i = 0; i < n; ++i) g[i] = g[i] * (1.f - y[i] * y[i]);
      break;
    case kActSigmoid:
      for (int64_t i = 0; i < n; ++i) g[i] = g[i] * (y[i] * (1.f - y[i]));
      break;
    case kActElu:
      for (int64_t i = 0; i < n; ++i) g[i] = y[i] < 0.f ? g[i] * (y[i] + 1.f) : g[i];
      break;
    default:
      break;
  }
}

// Max pooling over 'valid' windows, recording the flat input index of each maximum for the
// backward pass. Written without branches (a select per tap) so that the channel loop
// vectorises; the first maximal tap wins ties, as in MaxPoolGrad (pooling.cc).
__attribute__((target_clones("avx512f", "avx2", "default")))
void MaxPoolForward(Shape a, Shape b, int32_t window, int32_t stride, int32_t rows,
                    const float* __restrict in, float* __restrict out, int32_t* __restrict where) {
  const int32_t channels = b.c;
  for (int32_t n = 0; n < rows; ++n) {
    const int64_t image = int64_t(n) * a.Size();
    for (int32_t oh = 0; oh < b.h; ++oh) {
      for (int32_t ow = 0; ow < b.w; ++ow) {
        const int64_t o = ((int64_t(n) * b.h + oh) * b.w + ow) * channels;
        float* __restrict best = out + o;
        int32_t* __restrict at = where + o;
        const int64_t corner = image + (int64_t(oh) * stride * a.w + int64_t(ow) * stride) * channels;
        for (int32_t c = 0; c < channels; ++c) {
          best[c] = in[corner + c];
          at[c] = static_cast<int32_t>(corner + c);
        }
        for (int32_t kh = 0; kh < window; ++kh) {
          for (int32_t kw = (kh == 0 ? 1 : 0); kw < window; ++kw) {
            const int64_t base = corner + (int64_t(kh) * a.w + kw) * channels;
            const float* __restrict tap = in + base;
            for (int32_t c = 0; c < channels; ++c) {
              const bool greater = tap[c] > best[c];
              best[c] = greater ? tap[c] : best[c];
              at[c] = greater ? static_cast<int32_t>(base + c) : at[c];
            }
          }
        }
      }
    }
  }
}

// Mean over the pixels of each image and channel.
void GlobalAveragePool(Shape a, int32_t rows, const float* in, float* out) {
  const int64_t pixels = int64_t(a.h) * a.w;
  const int32_t c = a.c;
  const float scale = 1.f / static_cast<float>(pixels);
  std::vector<float> sum(c);
  for (int32_t n = 0; n < rows; ++n) {
    std::fill(sum.begin(), sum.end(), 0.f);
    const float* image = in + int64_t(n) * pixels * c;
    for (int64_t p = 0; p < pixels; ++p)
      for (int32_t j = 0; j < c; ++j) sum[j] += image[p * c + j];
    for (int32_t j = 0; j < c; ++j) out[int64_t(n) * c + j] = sum[j] * scale;
  }
}

void FillRows(float* c, int64_t rows, int32_t cols, const float* bias) {
  for (int64_t r = 0; r < rows; ++r) std::copy(bias, bias + cols, c + r * cols);
}

}  // namespace

Trainer* Trainer::Create(Shape input, const std::vector<LayerSpec>& layers,
                         const OptimizerSpec& optimizer, std::string* error) {
  if (input.h < 1 || input.w < 1 || input.c < 1) {
    *error = "the input shape must be positive";
    return nullptr;
  }
  if (layers.empty() || layers.back().kind != kDenseLayer) {
    *error = "the network must end with a dense readout";
    return nullptr;
  }
  if (optimizer.kind < kSgd || optimizer.kind > kAdam) {
    *error = "unknown optimizer";
    return nullptr;
  }
  auto* t = new Trainer();
  t->input_ = input;
  t->optimizer_ = optimizer;
  t->accBeta1_ = optimizer.beta1;
  t->accBeta2_ = optimizer.beta2;
  Shape shape = input;
  for (const LayerSpec& s : layers) {
    Layer layer;
    layer.spec = s;
    layer.in = shape;
    switch (s.kind) {
      case kDenseLayer:
        if (shape.h != 1 || shape.w != 1 || s.units < 1) *error = "a dense layer needs flat inputs";
        layer.out = Shape{1, 1, s.units};
        break;
      case kConvLayer:
        if (s.units < 1 || s.kernel < 1) *error = "a conv layer needs filters and a kernel size";
        layer.out = Shape{shape.h, shape.w, s.units};
        break;
      case kMaxPoolLayer:
        if (s.kernel < 1 || s.stride < 1 || shape.h < s.kernel || shape.w < s.kernel)
          *error = "a max pooling window must fit the image";
        layer.out = Shape{(shape.h - s.kernel) / s.stride + 1, (shape.w - s.kernel) / s.stride + 1,
                          shape.c};
        break;
      case kGlobalAvgPoolLayer:
        layer.out = Shape{1, 1, shape.c};
        break;
      default:
        *error = "unknown layer kind";
    }
    if (Weighted(s) && (s.activation < kActLinear || s.activation > kActElu))
      *error = "unknown activation";
    if (!(s.rateScale >= 0.f) || !(s.pull >= 0.f) || std::isinf(s.rateScale) || std::isinf(s.pull))
      *error = "a learning-rate multiplier and a pull must be finite and non-negative";
    if (!error->empty()) {
      delete t;
      return nullptr;
    }
    if (Weighted(s)) {
      layer.param = static_cast<int32_t>(t->params_.size());
      const int64_t kernel = s.kind == kDenseLayer
                                 ? int64_t(shape.c) * s.units
                                 : int64_t(s.kernel) * s.kernel * shape.c * s.units;
      for (int64_t size : {kernel, int64_t(s.units)}) {
        t->params_.emplace_back(size, 0.f);
        t->grads_.emplace_back(s.trainable ? size : 0, 0.f);
        const bool slots = s.trainable && optimizer.kind != kSgd;
        t->slot1_.emplace_back(slots ? size : 0, 0.f);
        t->slot2_.emplace_back(slots && optimizer.kind == kAdam ? size : 0, 0.f);
        t->anchors_.emplace_back();
        t->paramTrainable_.push_back(s.trainable);
        t->paramRate_.push_back(s.rateScale);
        t->paramPull_.push_back(s.pull);
      }
    }
    shape = layer.out;
    t->layers_.push_back(std::move(layer));
  }
  return t;
}

void Trainer::Reserve(int32_t rows) {
  if (rows <= capacity_) return;
  capacity_ = rows;
  acts_.resize(layers_.size() + 1);
  acts_[0].resize(size_t(rows) * input_.Size());
  int64_t widest = input_.Size();
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    acts_[i + 1].resize(size_t(rows) * layer.out.Size());
    widest = std::max(widest, layer.out.Size());
    if (layer.spec.kind == kMaxPoolLayer) layer.argmax.resize(size_t(rows) * layer.out.Size());
  }
  gradA_.resize(size_t(rows) * widest);
  gradB_.resize(size_t(rows) * widest);
}

ConvGeometry Trainer::Geometry(const Layer& layer, int32_t rows) const {
  const int32_t k = layer.spec.kernel;
  // TensorFlow's 'same' padding at stride 1: k - 1 in total, the smaller half before.
  const int32_t before = (k - 1) / 2;
  return ConvGeometry{rows, layer.in.h, layer.in.w, layer.in.c, k, k, layer.spec.units,
                      layer.out.h, layer.out.w, 1, 1, 1, 1, before, before};
}

void Trainer::ForwardLayers(int32_t rows) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    const float* in = acts_[i].data();
    float* out = acts_[i + 1].data();
    const LayerSpec& s = layer.spec;
    switch (s.kind) {
      case kDenseLayer: {
        const float* w = params_[layer.param].data();
        FillRows(out, rows, s.units, params_[layer.param + 1].data());
        Sgemm(false, false, rows, s.units, layer.in.c, 1.f, in, layer.in.c, w, s.units, 1.f, out,
              s.units);
        const int64_t n = int64_t(rows) * s.units;
        if (s.activation == kActRelu) {
          for (int64_t j = 0; j < n; ++j) out[j] = out[j] > 0.f ? out[j] : 0.f;
        } else if (s.activation == kActTanh) {
          ApplyTanh(out, n);
        } else if (s.activation == kActSigmoid) {
          for (int64_t j = 0; j < n; ++j) out[j] = 1.f / (1.f + std::exp(-out[j]));
        } else if (s.activation == kActElu) {
          for (int64_t j = 0; j < n; ++j) out[j] = out[j] >= 0.f ? out[j] : std::expm1(out[j]);
        }
        break;
      }
      case kConvLayer: {
        Epilogue e;
        e.bias = params_[layer.param + 1].data();
        e.biasLen = s.units;
        e.activation = EpilogueActivation(s.activation);
        Conv2D(Geometry(layer, rows), in, params_[layer.param].data(), out, e);
        if (s.activation == kActTanh) ApplyTanh(out, int64_t(rows) * layer.out.Size());
        break;
      }
      case kMaxPoolLayer:
        MaxPoolForward(layer.in, layer.out, s.kernel, s.stride, rows, in, out,
                       layer.argmax.data());
        break;
      case kGlobalAvgPoolLayer:
        GlobalAveragePool(layer.in, rows, in, out);
        break;
    }
  }
}

void Trainer::Forward(const float* x, int32_t rows, float* logits) {
  Reserve(rows);
  std::copy(x, x + int64_t(rows) * input_.Size(), acts_[0].data());
  ForwardLayers(rows);
  const float* out = acts_.back().data();
  std::copy(out, out + int64_t(rows) * Classes(), logits);
}

void Trainer::Step(const float* x, const int32_t* labels, int32_t rows, double* loss,
                   int32_t* hits) {
  Reserve(rows);
  std::copy(x, x + int64_t(rows) * input_.Size(), acts_[0].data());
  ForwardLayers(rows);

  // Softmax cross-entropy, mean over the batch; its gradient (softmax - one-hot) / rows.
  const int32_t classes = Classes();
  const float* logits = acts_.back().data();
  float* g = gradA_.data();
  double lossSum = 0;
  int32_t correct = 0;
  const float inverseRows = 1.f / static_cast<float>(rows);
  for (int32_t r = 0; r < rows; ++r) {
    const float* z = logits + int64_t(r) * classes;
    float* gz = g + int64_t(r) * classes;
    int32_t best = 0;
    for (int32_t j = 1; j < classes; ++j)
      if (z[j] > z[best]) best = j;
    const float top = z[best];
    float sum = 0.f;
    for (int32_t j = 0; j < classes; ++j) {
      gz[j] = std::exp(z[j] - top);
      sum += gz[j];
    }
    const int32_t label = labels[r];
    lossSum += double(std::log(sum)) - double(z[label] - top);
    if (best == label) ++correct;
    for (int32_t j = 0; j < classes; ++j)
      gz[j] = (gz[j] / sum - (j == label ? 1.f : 0.f)) * inverseRows;
  }
  *loss = lossSum / rows;
  *hits = correct;

  // Backward down to the first trainable layer: frozen leading blocks need no gradient at all.
  int32_t first = -1;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (Weighted(layers_[i].spec) && layers_[i].spec.trainable) {
      first = static_cast<int32_t>(i);
      break;
    }
  }
  if (first < 0) return;
  float* gOut = gradA_.data();
  float* gIn = gradB_.data();
  for (int32_t i = static_cast<int32_t>(layers_.size()) - 1; i >= first; --i) {
    Layer& layer = layers_[i];
    const LayerSpec& s = layer.spec;
    const float* in = acts_[i].data();
    const float* out = acts_[i + 1].data();
    const bool needInput = i > first;
    switch (s.kind) {
      case kDenseLayer: {
        ActivationGrad(s.activation, out, gOut, int64_t(rows) * s.units);
        const float* w = params_[layer.param].data();
        if (s.trainable) {
          Sgemm(true, false, layer.in.c, s.units, rows, 1.f, in, layer.in.c, gOut, s.units, 0.f,
                grads_[layer.param].data(), s.units);
          SumLeadingAxes(rows, s.units, gOut, grads_[layer.param + 1].data());
        }
        if (needInput)
          Sgemm(false, true, rows, layer.in.c, s.units, 1.f, gOut, s.units, w, s.units, 0.f, gIn,
                layer.in.c);
        break;
      }
      case kConvLayer: {
        ActivationGrad(s.activation, out, gOut, int64_t(rows) * layer.out.Size());
        const ConvGeometry geometry = Geometry(layer, rows);
        if (s.trainable) {
          Conv2DBackpropFilter(geometry, in, gOut, grads_[layer.param].data());
          SumLeadingAxes(int64_t(rows) * layer.out.h * layer.out.w, s.units, gOut,
                         grads_[layer.param + 1].data());
        }
        if (needInput) Conv2DBackpropInput(geometry, gOut, params_[layer.param].data(), gIn);
        break;
      }
      case kMaxPoolLayer: {
        std::fill(gIn, gIn + int64_t(rows) * layer.in.Size(), 0.f);
        const int64_t n = int64_t(rows) * layer.out.Size();
        const int32_t* where = layer.argmax.data();
        for (int64_t j = 0; j < n; ++j)
          if (where[j] >= 0) gIn[where[j]] += gOut[j];
        break;
      }
      case kGlobalAvgPoolLayer: {
        const int64_t pixels = int64_t(layer.in.h) * layer.in.w;
        const int32_t c = layer.in.c;
        const float scale = 1.f / static_cast<float>(pixels);
        for (int32_t n = 0; n < rows; ++n) {
          const float* src = gOut + int64_t(n) * c;
          float* dst = gIn + int64_t(n) * pixels * c;
          for (int64_t p = 0; p < pixels; ++p)
            for (int32_t j = 0; j < c; ++j) dst[p * c + j] = src[j] * scale;
        }
        break;
      }
    }
    std::swap(gOut, gIn);
  }
  Update();
}

// TensorFlow.js's update rules in float32 (tf.train.sgd / momentum / adam), so a network trained
// here follows the same recipe as one trained by the optimizer classes.
// A layer's learning-rate multiplier scales its learning rate (1: the recipe's rate, bit for bit);
// its pull adds pull * (w - anchor) to the gradient first (0: nothing is added).
void Trainer::Update() {
  const OptimizerSpec& o = optimizer_;
  for (size_t p = 0; p < params_.size(); ++p) {
    if (!paramTrainable_[p]) continue;
    const float negLr = paramRate_[p] == 1.f ? -o.learningRate : -(o.learningRate * paramRate_[p]);
    AdamScalars adam{o.beta1, 1.f - o.beta1, o.beta2, 1.f - o.beta2,
                     1.f - accBeta1_, 1.f - accBeta2_, o.epsilon, negLr};
    float* value = params_[p].data();
    float* grad = grads_[p].data();
    const int64_t n = static_cast<int64_t>(params_[p].size());
    if (paramPull_[p] != 0.f) {
      const float pull = paramPull_[p];
      const float* anchor = Anchor(static_cast<int32_t>(p));
      for (int64_t i = 0; i < n; ++i) grad[i] = grad[i] + pull * (value[i] - anchor[i]);
    }
    switch (o.kind) {
      case kSgd:
        for (int64_t i = 0; i < n; ++i) value[i] = negLr * grad[i] + value[i];
        break;
      case kMomentum: {
        float* acc = slot1_[p].data();
        for (int64_t i = 0; i < n; ++i) {
          acc[i] = o.momentum * acc[i] + grad[i];
          value[i] = negLr * acc[i] + value[i];
        }
        break;
      }
      case kAdam:
        AdamInPlace(n, value, grad, slot1_[p].data(), slot2_[p].data(), adam);
        break;
    }
  }
  if (o.kind == kAdam) {
    accBeta1_ = accBeta1_ * o.beta1;
    accBeta2_ = accBeta2_ * o.beta2;
  }
}

}  // namespace defrost
