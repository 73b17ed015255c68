// A whole training step of an imported network graph (docs/backends.md, "Imported networks") on
// libtorch, PyTorch's C++ library: forward through the graph, softmax cross-entropy, backward by
// libtorch's autograd, and the optimizer update with TensorFlow.js's formulas (native/src/adam.h),
// the update the other steps apply. Pure compute: no N-API here (see graph-napi.cc).
//
// The graph arrives as a list of nodes in topological order, each reading one or two earlier
// values (value 0 is the input, value i + 1 the output of node i); the last node's output is
// the logits. Weights cross in TensorFlow.js's layouts (NHWC images, conv kernels
// [kh, kw, in / groups, out], dense kernels [in, out]) and are kept in libtorch's (NCHW, conv
// kernels [out, in / groups, kh, kw]); a Flatten orders features (h, w, c) as TensorFlow.js does.
//
// Freezing (docs/your-data.md#batchnorm): a node that is not trainable has parameters that need
// no gradient, so autograd records nothing for a frozen prefix (no input gradients, as in
// PyTorch under no_grad), and its BatchNorm normalises with its running statistics and leaves
// them untouched; a trainable BatchNorm normalises with the batch's statistics and updates its
// running ones as PyTorch's train() does. A frozen BatchNorm is a fixed affine map, so one that
// follows a frozen convolution is folded into it (one pass over the activations fewer).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace defrost {

enum GraphOp : int32_t {
  kConvOp = 0,           // attrs: filters, kh, kw, sh, sw, dh, dw, groups, pad t, b, l, r
  kDenseOp = 1,          // attrs: units
  kBatchNormOp = 2,      // scalars: epsilon, momentum (PyTorch's: the weight of the batch)
  kActivationOp = 3,     // activation; scalar: leaky relu's alpha
  kAddOp = 4,            // two inputs
  kConcatOp = 5,         // two inputs, along the channels (features)
  kMaxPoolOp = 6,        // attrs: kh, kw, sh, sw, pad t, b, l, r (symmetric: t = b, l = r)
  kAveragePoolOp = 7,    // the same; padding is left out of the average
  kGlobalAveragePoolOp = 8,  // image -> features
  kFlattenOp = 9,        // image -> features in (h, w, c) order
  kToImageOp = 10,       // features [c] -> image [c, 1, 1]
  kZeroPadOp = 11,       // attrs: pad t, b, l, r
};
enum GraphActivation : int32_t {
  kLinear = 0, kRelu = 1, kSigmoid = 2, kTanh = 3, kElu = 4, kLeakyRelu = 5, kGelu = 6,  // erf's
};
enum GraphOptimizer : int32_t { kSgd = 0, kMomentum = 1, kAdam = 2 };

// Int32 words per node: op, input 0, input 1 (-1: none), trainable, activation, has bias,
// then 12 attributes. Float scalars per node: learning-rate multiplier, pull, then 2 scalars.
constexpr int kNodeWords = 18;
constexpr int kNodeScalars = 4;

struct NodeSpec {
  int32_t op, in0, in1;
  bool trainable;
  int32_t activation;
  bool bias;
  int32_t attr[12];
  float rateScale, pull, scalar0, scalar1;
};

struct GraphOptimizerSpec {
  int32_t kind;
  float learningRate, beta1, beta2, epsilon, momentum;
};

class GraphTrainer {
 public:
  // Checks the nodes against the input shape [h, w, c]; on error returns null and says why.
  static GraphTrainer* Create(int32_t h, int32_t w, int32_t c, const std::vector<NodeSpec>& nodes,
                              const GraphOptimizerSpec& optimizer, std::string* error);

  // Parameters in node order, each node's in TensorFlow.js's getWeights() order: conv and dense
  // kernel then bias; BatchNorm gamma, beta, running mean, running variance.
  int32_t ParamCount() const { return static_cast<int32_t>(params_.size()); }
  int64_t ParamSize(int32_t i) const { return params_[i].value.numel(); }
  void SetParam(int32_t i, const float* values);
  void GetParam(int32_t i, float* out) const;
  void SetAnchor(int32_t i, const float* values);
  int32_t Classes() const { return classes_; }
  int64_t InputSize() const { return int64_t(h_) * w_ * c_; }

  // One optimizer step on `rows` NHWC samples; the batch's mean loss and correct predictions
  // before the update.
  void Step(const float* x, const int32_t* labels, int32_t rows, double* loss, int32_t* hits);
  // Logits of `rows` samples, every BatchNorm in inference mode (no training).
  void Forward(const float* x, int32_t rows, float* logits);

 private:
  struct Param {
    at::Tensor value;       // libtorch's layout
    bool convKernel = false;  // [out, in/g, kh, kw] here, [kh, kw, in/g, out] outside
    bool trainable = false;
    float rateScale = 1.f, pull = 0.f;
    at::Tensor anchor, slot1, slot2;  // libtorch's layout; defined when used
  };
  struct Node {
    NodeSpec spec;
    int32_t param = -1;  // first parameter of the node
    bool foldedPad = false;  // a zero padding this node's convolution applies itself
    int32_t padT = 0, padB = 0, padL = 0, padR = 0;
    // A frozen convolution whose output only a frozen BatchNorm reads: the BatchNorm (node
    // `batchNorm`, then skipped) is folded into its kernel and bias, computed once.
    int32_t batchNorm = -1;
    bool foldedBatchNorm = false;
    at::Tensor foldedKernel, foldedBias;
  };

  at::Tensor Run(const float* x, int32_t rows, bool training);
  void Fold(Node& conv);
  void Update();

  int32_t h_ = 0, w_ = 0, c_ = 0, classes_ = 0;
  std::vector<Node> nodes_;
  std::vector<Param> params_;
  GraphOptimizerSpec optimizer_{};
  float accBeta1_ = 0.f, accBeta2_ = 0.f;
  bool foldsStale_ = true;  // a parameter was set since the folds were computed
};

}  // namespace defrost
