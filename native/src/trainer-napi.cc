// A trainer lives in a JS external (freed with it). Arrays cross as typed arrays and are copied:
// a batch (a few hundred kilobytes at most) costs microseconds against the step itself.
//
//   trainerCreate(spec: Int32Array, scalars: Float32Array) -> handle
//     spec: inH, inW, inC, optimizer, layerCount, then per layer
//           kind, units, kernel, stride, activation, trainable   (codes of trainer.h)
//     scalars: learningRate, beta1, beta2, epsilon, momentum, then per layer
//           rateScale, pull   (the learning-rate multiplier and L2 pull of trainer.h)
//   trainerSetParam(handle, index, values: Float32Array)   trainerGetParam(handle, index, out)
//   trainerSetAnchor(handle, index, values: Float32Array)  (the point parameter index is pulled to)
//   trainerStep(handle, x: Float32Array, labels: Int32Array, rows, out: Float64Array [loss, hits])
//   trainerForward(handle, x: Float32Array, rows, logits: Float32Array)
#include "trainer-napi.h"

#include <string>
#include <vector>

#include "trainer.h"

namespace defrost {
namespace {

napi_value Throw(napi_env env, const std::string& message) {
  napi_throw_error(env, "DEFROST_NATIVE", message.c_str());
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

Trainer* HandleOf(napi_env env, napi_value value) {
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) return nullptr;
  return static_cast<Trainer*>(data);
}

napi_value Create(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t* spec = nullptr;
  float* scalars = nullptr;
  size_t specLength = 0, scalarCount = 0;
  if (!Args(env, info, 2, argv) || !Typed(env, argv[0], napi_int32_array, &spec, &specLength) ||
      !Typed(env, argv[1], napi_float32_array, &scalars, &scalarCount) || specLength < 5 ||
      scalarCount < 5)
    return Throw(env, "trainerCreate: expected (spec: Int32Array, scalars: Float32Array)");
  const int32_t count = spec[4];
  if (count < 1 || specLength != size_t(5 + 6 * count) || scalarCount != size_t(5 + 2 * count))
    return Throw(env, "trainerCreate: the spec's or the scalars' length does not match its layer count");
  std::vector<LayerSpec> layers;
  for (int32_t i = 0; i < count; ++i) {
    const int32_t* l = spec + 5 + 6 * i;
    const float* f = scalars + 5 + 2 * i;
    layers.push_back(LayerSpec{l[0], l[1], l[2], l[3], l[4], l[5] != 0, f[0], f[1]});
  }
  const OptimizerSpec optimizer{spec[3], scalars[0], scalars[1], scalars[2], scalars[3], scalars[4]};
  std::string error;
  Trainer* trainer = Trainer::Create(Shape{spec[0], spec[1], spec[2]}, layers, optimizer, &error);
  if (trainer == nullptr) return Throw(env, "trainerCreate: " + error);
  napi_value handle;
  napi_create_external(
      env, trainer, [](napi_env, void* data, void*) { delete static_cast<Trainer*>(data); },
      nullptr, &handle);
  return handle;
}

enum class ParamAccess { kGet, kSet, kSetAnchor };

napi_value Param(napi_env env, napi_callback_info info, ParamAccess access) {
  napi_value argv[3];
  int32_t index = -1;
  float* values = nullptr;
  size_t length = 0;
  Trainer* trainer = Args(env, info, 3, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr || napi_get_value_int32(env, argv[1], &index) != napi_ok ||
      !Typed(env, argv[2], napi_float32_array, &values, &length))
    return Throw(env, "trainer param: expected (handle, index, Float32Array)");
  if (index < 0 || index >= trainer->ParamCount() || int64_t(length) != trainer->ParamSize(index))
    return Throw(env, "trainer param: no parameter of that index and size");
  float* mine = access == ParamAccess::kSetAnchor ? trainer->Anchor(index) : trainer->Param(index);
  if (access == ParamAccess::kGet) std::copy(mine, mine + length, values);
  else std::copy(values, values + length, mine);
  return nullptr;
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
  Trainer* trainer = Args(env, info, 5, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr || !Typed(env, argv[1], napi_float32_array, &x, &xLength) ||
      !Typed(env, argv[2], napi_int32_array, &labels, &labelCount) ||
      napi_get_value_int32(env, argv[3], &rows) != napi_ok ||
      !Typed(env, argv[4], napi_float64_array, &out, &outLength) || outLength < 2)
    return Throw(env, "trainerStep: expected (handle, x, labels, rows, out)");
  if (rows < 1 || xLength < size_t(rows) * trainer->InputSize() || labelCount < size_t(rows))
    return Throw(env, "trainerStep: the batch is smaller than its row count");
  for (int32_t r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= trainer->Classes())
      return Throw(env, "trainerStep: a label is outside 0..classes-1");
  double loss = 0;
  int32_t hits = 0;
  trainer->Step(x, labels, rows, &loss, &hits);
  out[0] = loss;
  out[1] = hits;
  return nullptr;
}

napi_value Forward(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  float* x = nullptr;
  float* logits = nullptr;
  size_t xLength = 0, logitCount = 0;
  int32_t rows = 0;
  Trainer* trainer = Args(env, info, 4, argv) ? HandleOf(env, argv[0]) : nullptr;
  if (trainer == nullptr || !Typed(env, argv[1], napi_float32_array, &x, &xLength) ||
      napi_get_value_int32(env, argv[2], &rows) != napi_ok ||
      !Typed(env, argv[3], napi_float32_array, &logits, &logitCount))
    return Throw(env, "trainerForward: expected (handle, x, rows, logits)");
  if (rows < 1 || xLength < size_t(rows) * trainer->InputSize() ||
      logitCount < size_t(rows) * trainer->Classes())
    return Throw(env, "trainerForward: arrays smaller than the row count");
  trainer->Forward(x, rows, logits);
  return nullptr;
}

}  // namespace

void RegisterTrainer(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"trainerCreate", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerSetParam", nullptr, SetParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerGetParam", nullptr, GetParam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerSetAnchor", nullptr, SetAnchor, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerStep", nullptr, Step, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerForward", nullptr, Forward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace defrost
