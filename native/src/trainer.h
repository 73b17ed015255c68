// A whole training step of a small sequential network in one native call: forward, softmax
// cross-entropy, backward and the optimizer update, on buffers this object owns. For the
// networks of the study (4 blocks of 128 units, batch 64) TensorFlow.js spends most of a step
// dispatching ~100 kernels and allocating their outputs; here a step is a dozen sgemm calls and
// a few fused loops (docs/performance.md). Pure compute: no N-API here (see trainer-napi.cc).
//
// Supported layers: dense, conv2d ('same' padding, stride 1), max pooling ('valid'), global
// average pooling; activations linear, relu, tanh, sigmoid, elu; optimizers sgd, momentum, Adam
// with TensorFlow.js's update formulas. Anything else stays on the TensorFlow.js path.
//
// Per weighted layer, two settings of the transfer protocols (docs/protocols.md): a learning-rate
// multiplier (layer-wise decay) and a pull strength: the gradient gains pull * (w - anchor), the
// gradient of (pull / 2) ||w - anchor||^2 (L2-SP; the anchor is zero unless set). A multiplier of 1
// and a pull of 0 leave the step exactly as without them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels.h"

namespace defrost {

enum LayerKind : int32_t { kDenseLayer = 0, kConvLayer = 1, kMaxPoolLayer = 2, kGlobalAvgPoolLayer = 3 };
enum OptimizerKind : int32_t { kSgd = 0, kMomentum = 1, kAdam = 2 };
// Activation codes of the trainer (not the tfjs fusable-activation numbering of kernels.h).
enum TrainerActivation : int32_t { kActLinear = 0, kActRelu = 1, kActTanh = 2, kActSigmoid = 3, kActElu = 4 };

struct LayerSpec {
  int32_t kind;
  int32_t units;       // dense units or conv filters
  int32_t kernel;      // conv kernel size, pooling window
  int32_t stride;      // pooling stride
  int32_t activation;  // TrainerActivation (dense and conv)
  bool trainable;
  float rateScale = 1.f;  // learning-rate multiplier of the layer's kernel and bias
  float pull = 0.f;       // strength of the pull to the anchor (0: none)
};

struct OptimizerSpec {
  int32_t kind;
  float learningRate, beta1, beta2, epsilon, momentum;
};

struct Shape {
  int32_t h, w, c;
  int64_t Size() const { return int64_t(h) * w * c; }
};

class Trainer {
 public:
  // Validates the layer list against the input shape; on error returns null and says why.
  static Trainer* Create(Shape input, const std::vector<LayerSpec>& layers,
                         const OptimizerSpec& optimizer, std::string* error);

  // Parameter tensors in layer order: kernel then bias of every dense/conv layer.
  int32_t ParamCount() const { return static_cast<int32_t>(params_.size()); }
  int64_t ParamSize(int32_t i) const { return static_cast<int64_t>(params_[i].size()); }
  float* Param(int32_t i) { return params_[i].data(); }
  // The point parameter i is pulled to (its layer's pull > 0); zero until set.
  float* Anchor(int32_t i) {
    if (anchors_[i].empty()) anchors_[i].assign(params_[i].size(), 0.f);
    return anchors_[i].data();
  }
  int32_t Classes() const { return layers_.back().out.c; }
  int64_t InputSize() const { return input_.Size(); }

  // One optimizer step on `rows` samples; reports the batch's mean loss and correct predictions
  // (both measured before the update, like the TensorFlow.js loop).
  void Step(const float* x, const int32_t* labels, int32_t rows, double* loss, int32_t* hits);

  // Logits of `rows` samples (no training).
  void Forward(const float* x, int32_t rows, float* logits);

 private:
  struct Layer {
    LayerSpec spec;
    Shape in, out;
    int32_t param = -1;  // index of the kernel in params_ (bias at param + 1)
    std::vector<int32_t> argmax;  // max pooling: flat input index of each output's maximum
  };

  void Reserve(int32_t rows);
  void ForwardLayers(int32_t rows);
  ConvGeometry Geometry(const Layer& layer, int32_t rows) const;
  void Update();

  Shape input_{};
  std::vector<Layer> layers_;
  OptimizerSpec optimizer_{};
  int32_t capacity_ = 0;
  std::vector<std::vector<float>> acts_;  // acts_[0] = input, acts_[i + 1] = output of layer i
  std::vector<float> gradA_, gradB_;      // gradient w.r.t. a layer's output / input (ping-pong)
  std::vector<std::vector<float>> params_, grads_, slot1_, slot2_;
  std::vector<std::vector<float>> anchors_;
  std::vector<bool> paramTrainable_;
  std::vector<float> paramRate_, paramPull_;
  float accBeta1_ = 0.f, accBeta2_ = 0.f;
};

}  // namespace defrost
