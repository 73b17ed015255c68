// The libtorch addon (defrost_torch.node, built by scripts/build-native-torch.mjs): a graph
// trainer (graph-trainer.h) in a JS external, freed with it. Arrays cross as typed arrays and are
// copied. libtorch reports errors as C++ exceptions; every entry point turns them into a JS
// error, so a bad spec never takes the process down.
//
//   info() -> { torch: "1.13.0", threads: 1 }
//   graphCreate(spec: Int32Array, scalars: Float32Array) -> handle
//     spec: inH, inW, inC, optimizer, nodeCount, then kNodeWords words per node
//     scalars: learningRate, beta1, beta2, epsilon, momentum, then kNodeScalars per node
//   graphParamSizes(handle) -> Float64Array (element count of each parameter)
//   graphSetParam(handle, index, values)  graphGetParam(handle, index, out)
//   graphSetAnchor(handle, index, values)
//   graphStep(handle, x: Float32Array, labels: Int32Array, rows, out: Float64Array [loss, hits])
//   graphForward(handle, x: Float32Array, rows, logits: Float32Array)
#include <ATen/Parallel.h>
#include <malloc.h>
#include <node_api.h>
#include <torch/csrc/api/include/torch/version.h>

#include <exception>
#include <string>
#include <vector>

#include "graph-trainer.h"

namespace defrost {
namespace {

napi_value Throw(napi_env env, const std::string& message) {
  napi_throw_error(env, "DEFROST_TORCH", message.c_str());
  return nullptr;
}

template <typename T>
bool Typed(napi_env env, napi_value value, napi_typedarray_type want, T** data, size_t* length) {
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  if (!isTyped) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value backing;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &backing, &offset) != napi_ok ||
      type != want)
    return false;
  *data = static_cast<T*>(raw);
  return true;
}

bool Args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc >= want;
}

GraphTrainer* HandleOf(napi_env env, napi_value value) {
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) return nullptr;
  return static_cast<GraphTrainer*>(data);
}

// Runs `body`, turning a C++ exception (libtorch's c10::Error among them) into a JS error.
template <typename F>
napi_value Guarded(napi_env env, const char* what, F body) {
  try {
    return body();
  } catch (const std::exception& error) {
    return Throw(env, std::string(what) + ": " + error.what());
  }
}

// glibc returns large freed blocks to the kernel (mmap'd blocks at once, the heap's top beyond
// 128 KiB), so every step's activations (megabytes each) come back as fresh pages the kernel
// must fault in and zero: a quarter of a step's time (docs/performance.md#imported-networks).
// Keeping up to 32 MiB blocks on the heap and trimming it only beyond 256 MiB lets each step
// reuse the last one's memory. Set once, when the first graph trainer is made, so a process
// that trains no graph keeps glibc's defaults.
void KeepFreedMemory() {
  static bool done = false;
  if (done) return;
  done = true;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, version, threads;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, TORCH_VERSION, NAPI_AUTO_LENGTH, &version);
  napi_create_int32(env, at::get_num_threads(), &threads);
  napi_set_named_property(env, out, "torch", version);
  napi_set_named_property(env, out, "threads", threads);
  return out;
}

napi_value Create(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t* spec = nullptr;
  float* scalars = nullptr;
  size_t specLength = 0, scalarCount = 0;
  if (!Args(env, info, 2, argv) || !Typed(env, argv[0], napi_int32_array, &spec, &specLength) ||
      !Typed(env, argv[1], napi_float32_array, &scalars, &scalarCount) || specLength < 5 ||
      scalarCount < 5)
    return Throw(env, "graphCreate: expected (spec: Int32Array, scalars: Float32Array)");
  const int32_t count = spec[4];
  if (count < 1 || specLength != size_t(5 + kNodeWords * count) ||
      scalarCount != size_t(5 + kNodeScalars * count))
    return Throw(env, "graphCreate: the spec's or the scalars' length does not match its node count");
  std::vector<NodeSpec> nodes;
  for (int32_t i = 0; i < count; ++i) {
    const int32_t* n = spec + 5 + kNodeWords * i;
    const float* f = scalars + 5 + kNodeScalars * i;
    NodeSpec node{n[0], n[1], n[2], n[3] != 0, n[4], n[5] != 0, {}, f[0], f[1], f[2], f[3]};
    for (int k = 0; k < 12; ++k) node.attr[k] = n[6 + k];
    nodes.push_back(node);
  }
  const GraphOptimizerSpec optimizer{spec[3], scalars[0], scalars[1], scalars[2], scalars[3], scalars[4]};
  return Guarded(env, "graphCreate", [&]() -> napi_value {
    KeepFreedMemory();
    std::string error;
    GraphTrainer* trainer = GraphTrainer::Create(spec[0], spec[1], spec[2], nodes, optimizer, &error);
    if (trainer == nullptr) return Throw(env, "graphCreate: " + error);
    napi_value handle;
    napi_create_external(
        env, trainer, [](napi_env, void* data, void*) { delete static_cast<GraphTrainer*>(data); },
        nullptr, &handle);
    return handle;
  });
}

napi_value ParamSizes(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  GraphTrainer* trainer = Args(env, info, 1, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr) return Throw(env, "graphParamSizes: expected (handle)");
  napi_value buffer, array;
  void* data = nullptr;
  const size_t count = size_t(trainer->ParamCount());
  napi_create_arraybuffer(env, count * sizeof(double), &data, &buffer);
  for (size_t i = 0; i < count; ++i)
    static_cast<double*>(data)[i] = double(trainer->ParamSize(int32_t(i)));
  napi_create_typedarray(env, napi_float64_array, count, buffer, 0, &array);
  return array;
}

enum class ParamAccess { kGet, kSet, kSetAnchor };

napi_value Param(napi_env env, napi_callback_info info, ParamAccess access) {
  napi_value argv[3];
  int32_t index = -1;
  float* values = nullptr;
  size_t length = 0;
  GraphTrainer* trainer = Args(env, info, 3, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr || napi_get_value_int32(env, argv[1], &index) != napi_ok ||
      !Typed(env, argv[2], napi_float32_array, &values, &length))
    return Throw(env, "graph param: expected (handle, index, Float32Array)");
  if (index < 0 || index >= trainer->ParamCount() || int64_t(length) != trainer->ParamSize(index))
    return Throw(env, "graph param: no parameter of that index and size");
  return Guarded(env, "graph param", [&]() -> napi_value {
    if (access == ParamAccess::kGet) trainer->GetParam(index, values);
    else if (access == ParamAccess::kSet) trainer->SetParam(index, values);
    else trainer->SetAnchor(index, values);
    return nullptr;
  });
}

napi_value SetParam(napi_env env, napi_callback_info info) { return Param(env, info, ParamAccess::kSet); }
napi_value GetParam(napi_env env, napi_callback_info info) { return Param(env, info, ParamAccess::kGet); }
napi_value SetAnchor(napi_env env, napi_callback_info info) {
  return Param(env, info, ParamAccess::kSetAnchor);
}

napi_value Step(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float* x = nullptr;
  int32_t* labels = nullptr;
  double* out = nullptr;
  size_t xLength = 0, labelCount = 0, outLength = 0;
  int32_t rows = 0;
  GraphTrainer* trainer = Args(env, info, 5, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr || !Typed(env, argv[1], napi_float32_array, &x, &xLength) ||
      !Typed(env, argv[2], napi_int32_array, &labels, &labelCount) ||
      napi_get_value_int32(env, argv[3], &rows) != napi_ok ||
      !Typed(env, argv[4], napi_float64_array, &out, &outLength) || outLength < 2)
    return Throw(env, "graphStep: expected (handle, x, labels, rows, out)");
  if (rows < 1 || xLength < size_t(rows) * trainer->InputSize() || labelCount < size_t(rows))
    return Throw(env, "graphStep: the batch is smaller than its row count");
  for (int32_t r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= trainer->Classes())
      return Throw(env, "graphStep: a label is outside 0..classes-1");
  return Guarded(env, "graphStep", [&]() -> napi_value {
    double loss = 0;
    int32_t hits = 0;
    trainer->Step(x, labels, rows, &loss, &hits);
    out[0] = loss;
    out[1] = hits;
    return nullptr;
  });
}

napi_value Forward(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  float* x = nullptr;
  float* logits = nullptr;
  size_t xLength = 0, logitCount = 0;
  int32_t rows = 0;
  GraphTrainer* trainer = Args(env, info, 4, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr || !Typed(env, argv[1], napi_float32_array, &x, &xLength) ||
      napi_get_value_int32(env, argv[2], &rows) != napi_ok ||
      !Typed(env, argv[3], napi_float32_array, &logits, &logitCount))
    return Throw(env, "graphForward: expected (handle, x, rows, logits)");
  if (rows < 1 || xLength < size_t(rows) * trainer->InputSize() ||
      logitCount < size_t(rows) * trainer->Classes())
    return Throw(env, "graphForward: arrays smaller than the row count");
  return Guarded(env, "graphForward", [&]() -> napi_value {
    trainer->Forward(x, rows, logits);
    return nullptr;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  // One thread, always: the results are then a function of the inputs alone (no reduction
  // split by thread count), and `--jobs` workers each own a core (docs/backends.md).
  at::set_num_threads(1);
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphCreate", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphParamSizes", nullptr, ParamSizes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphSetParam", nullptr, SetParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphGetParam", nullptr, GetParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphSetAnchor", nullptr, SetAnchor, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphStep", nullptr, Step, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphForward", nullptr, Forward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace
}  // namespace defrost

NAPI_MODULE(NODE_GYP_MODULE_NAME, defrost::Init)
