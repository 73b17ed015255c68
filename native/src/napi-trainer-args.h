// The N-API arguments of a one-call trainer's entry points, read and checked once for both addons:
// the chain trainer (trainer-napi.cc, in defrost_kernels.node) and the libtorch graph trainer
// (native/torch/src/graph-napi.cc, in defrost_torch.node) take the same arguments —
//
//   <prefix>Create(spec: Int32Array, scalars: Float32Array)
//     spec: inH, inW, inC, optimizer, itemCount, then a fixed number of words per item
//     scalars: learningRate, beta1, beta2, epsilon, momentum, then a fixed number per item
//   <prefix>SetParam / GetParam / SetAnchor(handle, index, values: Float32Array)
//   <prefix>Step(handle, x: Float32Array, labels: Int32Array, rows, out: Float64Array [loss, hits])
//   <prefix>Forward(handle, x: Float32Array, rows, logits: Float32Array)
//
// A bad argument throws a JS error naming the call (never a crash, never a read past an array):
// each Read* returns false after throwing, and the entry point returns nullptr. `Trainer` is
// either trainer class: both answer InputSize(), Classes(), ParamCount() and ParamSize(i).
#pragma once
#include <node_api.h>

#include <cstdint>
#include <string>

#include "napi-args.h"

namespace defrost {

// Which addon's entry points these are, for error messages: its error code, the prefix of its
// functions ("trainer", "graph") and what its spec lists ("layer", "node").
struct NapiGlue {
  const char* code;
  const char* prefix;
  const char* item;
};

inline napi_value Throw(napi_env env, const NapiGlue& glue, const std::string& message) {
  napi_throw_error(env, glue.code, message.c_str());
  return nullptr;
}

// The trainer a handle (a JS external) holds, or nullptr.
template <typename Trainer>
Trainer* HandleOf(napi_env env, napi_value value) {
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) return nullptr;
  return static_cast<Trainer*>(data);
}

// A new handle owning `trainer`: deleted when the JS external is garbage-collected.
template <typename Trainer>
napi_value NewHandle(napi_env env, Trainer* trainer) {
  napi_value handle;
  napi_create_external(
      env, trainer, [](napi_env, void* data, void*) { delete static_cast<Trainer*>(data); },
      nullptr, &handle);
  return handle;
}

struct CreateArgs {
  int32_t* spec = nullptr;
  float* scalars = nullptr;
  int32_t count = 0;  // items (layers or nodes)
  // The words and scalars of item i.
  const int32_t* Words(int32_t i, int32_t perItem) const { return spec + 5 + perItem * i; }
  const float* Scalars(int32_t i, int32_t perItem) const { return scalars + 5 + perItem * i; }
};

inline bool ReadCreate(napi_env env, napi_callback_info info, const NapiGlue& glue,
                       int32_t wordsPerItem, int32_t scalarsPerItem, CreateArgs* args) {
  napi_value argv[2];
  size_t specLength = 0, scalarCount = 0;
  const std::string name = std::string(glue.prefix) + "Create";
  if (!Args(env, info, 2, argv) || !Typed(env, argv[0], napi_int32_array, &args->spec, &specLength) ||
      !Typed(env, argv[1], napi_float32_array, &args->scalars, &scalarCount) || specLength < 5 ||
      scalarCount < 5) {
    Throw(env, glue, name + ": expected (spec: Int32Array, scalars: Float32Array)");
    return false;
  }
  args->count = args->spec[4];
  if (args->count < 1 || specLength != size_t(5 + wordsPerItem * args->count) ||
      scalarCount != size_t(5 + scalarsPerItem * args->count)) {
    Throw(env, glue,
          name + ": the spec's or the scalars' length does not match its " + glue.item + " count");
    return false;
  }
  return true;
}

// What a <prefix>SetParam / GetParam / SetAnchor call does with its array.
enum class ParamAccess { kGet, kSet, kSetAnchor };

// The entry point of one access, from a glue file's `Param(env, info, access)`:
// `ParamEntry<Param, ParamAccess::kSet>` is <prefix>SetParam.
template <napi_value (*Param)(napi_env, napi_callback_info, ParamAccess), ParamAccess access>
napi_value ParamEntry(napi_env env, napi_callback_info info) {
  return Param(env, info, access);
}

template <typename Trainer>
struct ParamArgs {
  Trainer* trainer = nullptr;
  int32_t index = -1;
  float* values = nullptr;
  size_t length = 0;
};

template <typename Trainer>
bool ReadParam(napi_env env, napi_callback_info info, const NapiGlue& glue, ParamArgs<Trainer>* args) {
  napi_value argv[3];
  const std::string name = std::string(glue.prefix) + " param";
  args->trainer = Args(env, info, 3, argv) ? HandleOf<Trainer>(env, argv[0]) : nullptr;
  if (args->trainer == nullptr || napi_get_value_int32(env, argv[1], &args->index) != napi_ok ||
      !Typed(env, argv[2], napi_float32_array, &args->values, &args->length)) {
    Throw(env, glue, name + ": expected (handle, index, Float32Array)");
    return false;
  }
  if (args->index < 0 || args->index >= args->trainer->ParamCount() ||
      int64_t(args->length) != args->trainer->ParamSize(args->index)) {
    Throw(env, glue, name + ": no parameter of that index and size");
    return false;
  }
  return true;
}

template <typename Trainer>
struct StepArgs {
  Trainer* trainer = nullptr;
  float* x = nullptr;
  int32_t* labels = nullptr;
  int32_t rows = 0;
  double* out = nullptr;
};

template <typename Trainer>
bool ReadStep(napi_env env, napi_callback_info info, const NapiGlue& glue, StepArgs<Trainer>* args) {
  napi_value argv[5];
  size_t xLength = 0, labelCount = 0, outLength = 0;
  const std::string name = std::string(glue.prefix) + "Step";
  args->trainer = Args(env, info, 5, argv) ? HandleOf<Trainer>(env, argv[0]) : nullptr;
  if (args->trainer == nullptr || !Typed(env, argv[1], napi_float32_array, &args->x, &xLength) ||
      !Typed(env, argv[2], napi_int32_array, &args->labels, &labelCount) ||
      napi_get_value_int32(env, argv[3], &args->rows) != napi_ok ||
      !Typed(env, argv[4], napi_float64_array, &args->out, &outLength) || outLength < 2) {
    Throw(env, glue, name + ": expected (handle, x, labels, rows, out)");
    return false;
  }
  const int32_t rows = args->rows;
  if (rows < 1 || xLength < size_t(rows) * args->trainer->InputSize() || labelCount < size_t(rows)) {
    Throw(env, glue, name + ": the batch is smaller than its row count");
    return false;
  }
  for (int32_t r = 0; r < rows; ++r)
    if (args->labels[r] < 0 || args->labels[r] >= args->trainer->Classes()) {
      Throw(env, glue, name + ": a label is outside 0..classes-1");
      return false;
    }
  return true;
}

// Runs the step of checked arguments, writing [mean loss, correct predictions] into `out`.
template <typename Trainer>
void RunStep(const StepArgs<Trainer>& args) {
  double loss = 0;
  int32_t hits = 0;
  args.trainer->Step(args.x, args.labels, args.rows, &loss, &hits);
  args.out[0] = loss;
  args.out[1] = hits;
}

template <typename Trainer>
struct ForwardArgs {
  Trainer* trainer = nullptr;
  float* x = nullptr;
  int32_t rows = 0;
  float* logits = nullptr;
};

template <typename Trainer>
bool ReadForward(napi_env env, napi_callback_info info, const NapiGlue& glue,
                 ForwardArgs<Trainer>* args) {
  napi_value argv[4];
  size_t xLength = 0, logitCount = 0;
  const std::string name = std::string(glue.prefix) + "Forward";
  args->trainer = Args(env, info, 4, argv) ? HandleOf<Trainer>(env, argv[0]) : nullptr;
  if (args->trainer == nullptr || !Typed(env, argv[1], napi_float32_array, &args->x, &xLength) ||
      napi_get_value_int32(env, argv[2], &args->rows) != napi_ok ||
      !Typed(env, argv[3], napi_float32_array, &args->logits, &logitCount)) {
    Throw(env, glue, name + ": expected (handle, x, rows, logits)");
    return false;
  }
  const int32_t rows = args->rows;
  if (rows < 1 || xLength < size_t(rows) * args->trainer->InputSize() ||
      logitCount < size_t(rows) * args->trainer->Classes()) {
    Throw(env, glue, name + ": arrays smaller than the row count");
    return false;
  }
  return true;
}

}  // namespace defrost
