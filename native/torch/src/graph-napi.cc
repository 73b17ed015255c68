// The libtorch addon (defrost_torch.node, built by scripts/build-native.mjs): a graph
// trainer (graph-trainer.h) in a JS external, freed with it. Arrays cross as typed arrays and are
// copied. libtorch reports errors as C++ exceptions; every entry point turns them into a JS
// error, so a bad spec never takes the process down.
//
//   info() -> { torch: "1.13.0", threads: 1 }
//   graphParamSizes(handle) -> Float64Array (element count of each parameter)
// and the trainer calls of native/src/napi-trainer-args.h with the prefix "graph" (the chain
// trainer's arguments): kNodeWords spec words and kNodeScalars scalars per node.
#include <ATen/Parallel.h>
#include <malloc.h>
#include <node_api.h>
#include <torch/csrc/api/include/torch/version.h>

#include <exception>
#include <string>
#include <vector>

#include "../../src/napi-trainer-args.h"
#include "graph-trainer.h"

namespace defrost {
namespace {

const NapiGlue kGlue{"DEFROST_TORCH", "graph", "node"};

// Runs `body`, turning a C++ exception (libtorch's c10::Error among them) into a JS error.
template <typename F>
napi_value Guarded(napi_env env, const char* what, F body) {
  try {
    return body();
  } catch (const std::exception& error) {
    return Throw(env, kGlue, std::string(what) + ": " + error.what());
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
  CreateArgs args;
  if (!ReadCreate(env, info, kGlue, kNodeWords, kNodeScalars, &args)) return nullptr;
  const int32_t* spec = args.spec;
  const float* scalars = args.scalars;
  std::vector<NodeSpec> nodes;
  for (int32_t i = 0; i < args.count; ++i) {
    const int32_t* n = args.Words(i, kNodeWords);
    const float* f = args.Scalars(i, kNodeScalars);
    NodeSpec node{n[0], n[1], n[2], n[3] != 0, n[4], n[5] != 0, {}, f[0], f[1], f[2], f[3]};
    for (int k = 0; k < 12; ++k) node.attr[k] = n[6 + k];
    nodes.push_back(node);
  }
  const GraphOptimizerSpec optimizer{spec[3], scalars[0], scalars[1], scalars[2], scalars[3], scalars[4]};
  return Guarded(env, "graphCreate", [&]() -> napi_value {
    KeepFreedMemory();
    std::string error;
    GraphTrainer* trainer = GraphTrainer::Create(spec[0], spec[1], spec[2], nodes, optimizer, &error);
    if (trainer == nullptr) return Throw(env, kGlue, "graphCreate: " + error);
    return NewHandle(env, trainer);
  });
}

napi_value ParamSizes(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  GraphTrainer* trainer = Args(env, info, 1, argv) ? HandleOf<GraphTrainer>(env, argv[0]) : nullptr;
  if (trainer == nullptr) return Throw(env, kGlue, "graphParamSizes: expected (handle)");
  napi_value buffer, array;
  void* data = nullptr;
  const size_t count = size_t(trainer->ParamCount());
  napi_create_arraybuffer(env, count * sizeof(double), &data, &buffer);
  for (size_t i = 0; i < count; ++i)
    static_cast<double*>(data)[i] = double(trainer->ParamSize(int32_t(i)));
  napi_create_typedarray(env, napi_float64_array, count, buffer, 0, &array);
  return array;
}

napi_value Param(napi_env env, napi_callback_info info, ParamAccess access) {
  ParamArgs<GraphTrainer> args;
  if (!ReadParam(env, info, kGlue, &args)) return nullptr;
  return Guarded(env, "graph param", [&]() -> napi_value {
    if (access == ParamAccess::kGet) args.trainer->GetParam(args.index, args.values);
    else if (access == ParamAccess::kSet) args.trainer->SetParam(args.index, args.values);
    else args.trainer->SetAnchor(args.index, args.values);
    return nullptr;
  });
}

napi_value Step(napi_env env, napi_callback_info info) {
  StepArgs<GraphTrainer> args;
  if (!ReadStep(env, info, kGlue, &args)) return nullptr;
  return Guarded(env, "graphStep", [&]() -> napi_value {
    RunStep(args);
    return nullptr;
  });
}

napi_value Forward(napi_env env, napi_callback_info info) {
  ForwardArgs<GraphTrainer> args;
  if (!ReadForward(env, info, kGlue, &args)) return nullptr;
  return Guarded(env, "graphForward", [&]() -> napi_value {
    args.trainer->Forward(args.x, args.rows, args.logits);
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
      {"graphSetParam", nullptr, ParamEntry<Param, ParamAccess::kSet>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphGetParam", nullptr, ParamEntry<Param, ParamAccess::kGet>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphSetAnchor", nullptr, ParamEntry<Param, ParamAccess::kSetAnchor>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphStep", nullptr, Step, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphForward", nullptr, Forward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace
}  // namespace defrost

NAPI_MODULE(NODE_GYP_MODULE_NAME, defrost::Init)
