#include "graph-trainer.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "../../src/adam.h"

namespace defrost {
namespace {

// The shape of a value: an NCHW image (c, h, w) or features [f] (image = false).
struct ValueShape {
  bool image;
  int64_t c, h, w;
  int64_t Features() const { return image ? c * h * w : c; }
};

// Output size of a window of `k` taps spread by `d`, stride `s`, over `n` padded by `pad`.
int64_t Windows(int64_t n, int64_t pad, int64_t k, int64_t s, int64_t d) {
  const int64_t span = (k - 1) * d + 1;
  return n + pad < span ? 0 : (n + pad - span) / s + 1;
}

at::Tensor Activate(const at::Tensor& x, int32_t activation, float alpha) {
  switch (activation) {
    case kRelu:
      return at::relu(x);
    case kSigmoid:
      return at::sigmoid(x);
    case kTanh:
      return at::tanh(x);
    case kElu:
      return at::elu(x);
    case kLeakyRelu:
      return at::leaky_relu(x, alpha);
    case kGelu:
      return at::gelu(x);
    default:
      return x;
  }
}

}  // namespace

GraphTrainer* GraphTrainer::Create(int32_t h, int32_t w, int32_t c,
                                   const std::vector<NodeSpec>& specs,
                                   const GraphOptimizerSpec& optimizer, std::string* error) {
  auto fail = [&](size_t i, const std::string& why) -> GraphTrainer* {
    *error = "node " + std::to_string(i) + ": " + why;
    return nullptr;
  };
  if (h < 1 || w < 1 || c < 1 || specs.empty()) {
    *error = "an empty network or input";
    return nullptr;
  }
  auto* t = new GraphTrainer();
  std::unique_ptr<GraphTrainer> owner(t);
  t->h_ = h, t->w_ = w, t->c_ = c;
  t->optimizer_ = optimizer;
  t->accBeta1_ = optimizer.beta1;
  t->accBeta2_ = optimizer.beta2;
  std::vector<ValueShape> shapes{{true, c, h, w}};
  std::vector<int32_t> readers(specs.size() + 1, 0);
  for (const NodeSpec& s : specs) {
    if (s.in0 >= 0 && s.in0 < int32_t(readers.size())) ++readers[s.in0];
    if (s.in1 >= 0 && s.in1 < int32_t(readers.size())) ++readers[s.in1];
  }
  auto addParam = [&](std::vector<int64_t> sizes, bool trainable, bool convKernel, const NodeSpec& s) {
    Param p;
    p.value = at::zeros(sizes, at::kFloat);
    p.trainable = trainable;
    p.convKernel = convKernel;
    p.rateScale = s.rateScale;
    p.pull = s.pull;
    if (trainable) p.value.requires_grad_(true);
    t->params_.push_back(std::move(p));
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    const NodeSpec& s = specs[i];
    Node node;
    node.spec = s;
    const int32_t values = static_cast<int32_t>(shapes.size());
    const bool binary = s.op == kAddOp || s.op == kConcatOp;
    if (s.in0 < 0 || s.in0 >= values || (binary && (s.in1 < 0 || s.in1 >= values)))
      return fail(i, "reads a value no earlier node produces");
    const ValueShape in = shapes[s.in0];
    ValueShape out = in;
    const int32_t* a = s.attr;
    node.param = static_cast<int32_t>(t->params_.size());
    switch (s.op) {
      case kConvOp: {
        if (!in.image) return fail(i, "a convolution of features");
        const int64_t filters = a[0], kh = a[1], kw = a[2], sh = a[3], sw = a[4], dh = a[5],
                      dw = a[6], groups = a[7];
        node.padT = a[8], node.padB = a[9], node.padL = a[10], node.padR = a[11];
        // A zero padding read only by this convolution is applied by it (PyTorch's own padding
        // when symmetric): one copy of the activations fewer.
        if (s.in0 > 0 && specs[s.in0 - 1].op == kZeroPadOp && readers[s.in0] == 1) {
          const NodeSpec& pad = specs[s.in0 - 1];
          t->nodes_[s.in0 - 1].foldedPad = true;
          node.spec.in0 = pad.in0;
          node.padT += pad.attr[0], node.padB += pad.attr[1];
          node.padL += pad.attr[2], node.padR += pad.attr[3];
        }
        if (filters < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 ||
            groups < 1 || in.c % groups != 0 || filters % groups != 0 ||
            std::min({node.padT, node.padB, node.padL, node.padR}) < 0)
          return fail(i, "a convolution's settings do not fit its input");
        const ValueShape src = shapes[node.spec.in0];
        out = {true, filters, Windows(src.h, node.padT + node.padB, kh, sh, dh),
               Windows(src.w, node.padL + node.padR, kw, sw, dw)};
        if (out.h < 1 || out.w < 1) return fail(i, "a convolution's window does not fit its input");
        addParam({filters, in.c / groups, kh, kw}, s.trainable, true, s);
        if (s.bias) addParam({filters}, s.trainable, false, s);
        break;
      }
      case kDenseOp:
        if (in.image || a[0] < 1) return fail(i, "a dense layer needs features");
        out = {false, a[0], 1, 1};
        addParam({in.c, a[0]}, s.trainable, false, s);
        if (s.bias) addParam({a[0]}, s.trainable, false, s);
        break;
      case kBatchNormOp:
        for (int k = 0; k < 4; ++k) addParam({in.c}, s.trainable && k < 2, false, s);
        break;
      case kActivationOp:
        if (s.activation < kLinear || s.activation > kGelu) return fail(i, "unknown activation");
        break;
      case kAddOp:
      case kConcatOp: {
        const ValueShape other = shapes[s.in1];
        if (other.image != in.image || other.h != in.h || other.w != in.w ||
            (s.op == kAddOp && other.c != in.c))
          return fail(i, "inputs of different shapes");
        if (s.op == kConcatOp) out.c = in.c + other.c;
        break;
      }
      case kMaxPoolOp:
      case kAveragePoolOp:
        if (!in.image || a[0] < 1 || a[1] < 1 || a[2] < 1 || a[3] < 1 || a[4] != a[5] ||
            a[6] != a[7] || a[4] < 0 || a[6] < 0 || 2 * a[4] > a[0] || 2 * a[6] > a[1])
          return fail(i, "a pooling's settings do not fit its input");
        out.h = Windows(in.h, 2 * a[4], a[0], a[2], 1);
        out.w = Windows(in.w, 2 * a[6], a[1], a[3], 1);
        if (out.h < 1 || out.w < 1) return fail(i, "a pooling window does not fit its input");
        break;
      case kGlobalAveragePoolOp:
        if (!in.image) return fail(i, "global pooling of features");
        out = {false, in.c, 1, 1};
        break;
      case kFlattenOp:
        out = {false, in.Features(), 1, 1};
        break;
      case kToImageOp:
        if (in.image) return fail(i, "an image reshaped");
        out = {true, in.c, 1, 1};
        break;
      case kZeroPadOp:
        if (!in.image || std::min({a[0], a[1], a[2], a[3]}) < 0) return fail(i, "a padding of features");
        out.h = in.h + a[0] + a[1];
        out.w = in.w + a[2] + a[3];
        break;
      default:
        return fail(i, "unknown operation " + std::to_string(s.op));
    }
    shapes.push_back(out);
    t->nodes_.push_back(node);
  }
  if (shapes.back().image) {
    *error = "the last node's output is an image, not class scores";
    return nullptr;
  }
  t->classes_ = static_cast<int32_t>(shapes.back().c);
  for (size_t i = 0; i < t->nodes_.size(); ++i) {
    Node& bn = t->nodes_[i];
    if (bn.spec.op != kBatchNormOp || bn.spec.trainable || bn.spec.in0 < 1) continue;
    Node& conv = t->nodes_[bn.spec.in0 - 1];
    if (conv.spec.op == kConvOp && !conv.spec.trainable && conv.spec.activation == kLinear &&
        readers[bn.spec.in0] == 1) {
      conv.batchNorm = static_cast<int32_t>(i);
      bn.foldedBatchNorm = true;
    }
  }
  for (Param& p : t->params_) {
    if (!p.trainable) continue;
    if (optimizer.kind != kSgd) p.slot1 = at::zeros_like(p.value, at::MemoryFormat::Contiguous);
    if (optimizer.kind == kAdam) p.slot2 = at::zeros_like(p.value, at::MemoryFormat::Contiguous);
  }
  return owner.release();
}

namespace {

// A TensorFlow.js-layout array as a tensor of the parameter's libtorch layout (a view or a copy).
at::Tensor FromOutside(const float* values, const at::Tensor& like, bool convKernel) {
  auto* data = const_cast<float*>(values);
  if (!convKernel) return at::from_blob(data, like.sizes(), at::kFloat);
  const auto s = like.sizes();  // [out, in/g, kh, kw]
  return at::from_blob(data, {s[2], s[3], s[1], s[0]}, at::kFloat).permute({3, 2, 0, 1});
}

}  // namespace

void GraphTrainer::SetParam(int32_t i, const float* values) {
  at::NoGradGuard noGrad;
  foldsStale_ = true;
  Param& p = params_[i];
  p.value.copy_(FromOutside(values, p.value, p.convKernel));
}

void GraphTrainer::SetAnchor(int32_t i, const float* values) {
  Param& p = params_[i];
  p.anchor = FromOutside(values, p.value, p.convKernel).contiguous().clone();
}

void GraphTrainer::GetParam(int32_t i, float* out) const {
  at::NoGradGuard noGrad;
  const Param& p = params_[i];
  const at::Tensor outside = (p.convKernel ? p.value.permute({2, 3, 1, 0}) : p.value).contiguous();
  std::memcpy(out, outside.data_ptr<float>(), sizeof(float) * size_t(outside.numel()));
}

// The kernel and bias of `conv` with its BatchNorm applied: BatchNorm in inference mode is
// y = (x - mean) * gamma / sqrt(var + eps) + beta per channel.
void GraphTrainer::Fold(Node& conv) {
  at::NoGradGuard noGrad;
  const Node& bn = nodes_[conv.batchNorm];
  const Param* p = &params_[bn.param];
  const at::Tensor scale = p[0].value / at::sqrt(p[3].value + bn.spec.scalar0);
  const at::Tensor& kernel = params_[conv.param].value;
  conv.foldedKernel = (kernel * scale.reshape({-1, 1, 1, 1})).contiguous();
  const at::Tensor bias = conv.spec.bias ? params_[conv.param + 1].value : at::zeros_like(p[2].value);
  conv.foldedBias = (bias - p[2].value) * scale + p[1].value;
}

at::Tensor GraphTrainer::Run(const float* x, int32_t rows, bool training) {
  if (foldsStale_) {
    for (Node& node : nodes_)
      if (node.batchNorm >= 0) Fold(node);
    foldsStale_ = false;
  }
  std::vector<at::Tensor> v(nodes_.size() + 1);
  // NHWC samples are an NCHW tensor in libtorch's channels-last memory format: no copy, and the
  // format its oneDNN convolutions run fastest in (docs/performance.md); libtorch keeps it
  // through the graph.
  v[0] = at::from_blob(const_cast<float*>(x), {rows, h_, w_, c_}, at::kFloat)
             .permute({0, 3, 1, 2})
             .contiguous(at::MemoryFormat::ChannelsLast);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if (node.foldedPad) continue;
    const NodeSpec& s = node.spec;
    const int32_t* a = s.attr;
    const at::Tensor& in = v[s.in0];
    at::Tensor y;
    switch (s.op) {
      case kConvOp: {
        const bool folded = node.batchNorm >= 0;
        const at::Tensor& kernel = folded ? node.foldedKernel : params_[node.param].value;
        const at::Tensor bias =
            folded ? node.foldedBias : s.bias ? params_[node.param + 1].value : at::Tensor();
        at::Tensor src = in;
        int64_t ph = node.padT, pw = node.padL;
        if (node.padT != node.padB || node.padL != node.padR) {
          src = at::constant_pad_nd(in, {node.padL, node.padR, node.padT, node.padB}, 0);
          ph = pw = 0;
        }
        y = at::conv2d(src, kernel, bias, {a[3], a[4]}, {ph, pw}, {a[5], a[6]}, a[7]);
        y = Activate(y, s.activation, s.scalar0);
        break;
      }
      case kDenseOp: {
        const at::Tensor& kernel = params_[node.param].value;
        y = s.bias ? at::addmm(params_[node.param + 1].value, in, kernel) : at::mm(in, kernel);
        y = Activate(y, s.activation, s.scalar0);
        break;
      }
      case kBatchNormOp: {
        if (node.foldedBatchNorm) {  // applied by the convolution it follows
          y = in;
          break;
        }
        const Param* p = &params_[node.param];
        y = at::batch_norm(in, p[0].value, p[1].value, p[2].value, p[3].value,
                           training && s.trainable, s.scalar1, s.scalar0, false);
        break;
      }
      case kActivationOp:
        y = Activate(in, s.activation, s.scalar0);
        break;
      case kAddOp:
        y = at::add(in, v[s.in1]);
        break;
      case kConcatOp:
        y = at::cat({in, v[s.in1]}, 1);
        break;
      case kMaxPoolOp:
        y = at::max_pool2d(in, {a[0], a[1]}, {a[2], a[3]}, {a[4], a[6]});
        break;
      case kAveragePoolOp:
        y = at::avg_pool2d(in, {a[0], a[1]}, {a[2], a[3]}, {a[4], a[6]}, false, false);
        break;
      case kGlobalAveragePoolOp:
        y = at::mean(in, {2, 3});
        break;
      case kFlattenOp:
        // TensorFlow.js flattens NHWC: features in (h, w, c) order.
        y = in.dim() == 4 ? in.permute({0, 2, 3, 1}).reshape({rows, -1}) : in;
        break;
      case kToImageOp:
        y = in.reshape({rows, in.size(1), 1, 1});
        break;
      case kZeroPadOp:
        y = at::constant_pad_nd(in, {a[2], a[3], a[0], a[1]}, 0);
        break;
    }
    v[i + 1] = y;
  }
  return v.back();
}

void GraphTrainer::Step(const float* x, const int32_t* labels, int32_t rows, double* loss,
                        int32_t* hits) {
  const at::Tensor logits = Run(x, rows, true);
  const at::Tensor target =
      at::from_blob(const_cast<int32_t*>(labels), {rows}, at::kInt).to(at::kLong);
  const at::Tensor cost = at::cross_entropy_loss(logits, target);
  {
    at::NoGradGuard noGrad;
    *hits = static_cast<int32_t>(logits.argmax(1).eq(target).sum().item<int64_t>());
    *loss = cost.item<float>();
  }
  if (cost.requires_grad()) cost.backward();
  Update();
}

void GraphTrainer::Forward(const float* x, int32_t rows, float* logits) {
  at::NoGradGuard noGrad;
  const at::Tensor out = Run(x, rows, false).contiguous();
  std::memcpy(logits, out.data_ptr<float>(), sizeof(float) * size_t(out.numel()));
}

void GraphTrainer::Update() {
  const GraphOptimizerSpec& o = optimizer_;
  for (Param& p : params_) {
    if (!p.trainable) continue;
    at::Tensor grad = p.value.grad();
    // A parameter the loss does not reach has a zero gradient (TensorFlow.js's too).
    grad = grad.defined() ? grad.contiguous() : at::zeros_like(p.value);
    float* value = p.value.data_ptr<float>();
    float* g = grad.data_ptr<float>();
    const int64_t n = p.value.numel();
    const float negLr = p.rateScale == 1.f ? -o.learningRate : -(o.learningRate * p.rateScale);
    if (p.pull != 0.f) {
      const float* anchor = p.anchor.defined() ? p.anchor.data_ptr<float>() : nullptr;
      for (int64_t i = 0; i < n; ++i) g[i] = g[i] + p.pull * (value[i] - (anchor ? anchor[i] : 0.f));
    }
    switch (o.kind) {
      case kSgd:
        for (int64_t i = 0; i < n; ++i) value[i] = negLr * g[i] + value[i];
        break;
      case kMomentum: {
        float* acc = p.slot1.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i) {
          acc[i] = o.momentum * acc[i] + g[i];
          value[i] = negLr * acc[i] + value[i];
        }
        break;
      }
      case kAdam: {
        const AdamScalars adam{o.beta1, 1.f - o.beta1, o.beta2, 1.f - o.beta2,
                               1.f - accBeta1_, 1.f - accBeta2_, o.epsilon, negLr};
        AdamInPlace(n, value, g, p.slot1.data_ptr<float>(), p.slot2.data_ptr<float>(), adam);
        break;
      }
    }
    p.value.mutable_grad() = at::Tensor();
  }
  if (o.kind == kAdam) {
    accBeta1_ = accBeta1_ * o.beta1;
    accBeta2_ = accBeta2_ * o.beta2;
  }
}

}  // namespace defrost
