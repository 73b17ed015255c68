// A trainer lives in a JS external (freed with it). Arrays cross as typed arrays and are copied:
// a batch (a few hundred kilobytes at most) costs microseconds against the step itself. The
// arguments are those of napi-trainer-args.h with the prefix "trainer"; per layer, the spec has
//   kind, units, kernel, stride, activation, trainable   (codes of trainer.h)
// and the scalars
//   rateScale, pull   (the learning-rate multiplier and L2 pull of trainer.h)
// trainerSetAnchor sets the point parameter index is pulled to.
#include "trainer-napi.h"

#include <algorithm>
#include <string>
#include <vector>

#include "napi-trainer-args.h"
#include "trainer.h"

namespace defrost {
namespace {

const NapiGlue kGlue{"DEFROST_NATIVE", "trainer", "layer"};
constexpr int32_t kLayerWords = 6;    // spec words per layer
constexpr int32_t kLayerScalars = 2;  // scalars per layer

napi_value Create(napi_env env, napi_callback_info info) {
  CreateArgs args;
  if (!ReadCreate(env, info, kGlue, kLayerWords, kLayerScalars, &args)) return nullptr;
  const int32_t* spec = args.spec;
  const float* scalars = args.scalars;
  std::vector<LayerSpec> layers;
  for (int32_t i = 0; i < args.count; ++i) {
    const int32_t* l = args.Words(i, kLayerWords);
    const float* f = args.Scalars(i, kLayerScalars);
    layers.push_back(LayerSpec{l[0], l[1], l[2], l[3], l[4], l[5] != 0, f[0], f[1]});
  }
  const OptimizerSpec optimizer{spec[3], scalars[0], scalars[1], scalars[2], scalars[3], scalars[4]};
  std::string error;
  Trainer* trainer = Trainer::Create(Shape{spec[0], spec[1], spec[2]}, layers, optimizer, &error);
  if (trainer == nullptr) return Throw(env, kGlue, "trainerCreate: " + error);
  return NewHandle(env, trainer);
}

napi_value Param(napi_env env, napi_callback_info info, ParamAccess access) {
  ParamArgs<Trainer> args;
  if (!ReadParam(env, info, kGlue, &args)) return nullptr;
  float* mine = access == ParamAccess::kSetAnchor ? args.trainer->Anchor(args.index)
                                                  : args.trainer->Param(args.index);
  if (access == ParamAccess::kGet) std::copy(mine, mine + args.length, args.values);
  else std::copy(args.values, args.values + args.length, mine);
  return nullptr;
}

napi_value Step(napi_env env, napi_callback_info info) {
  StepArgs<Trainer> args;
  if (!ReadStep(env, info, kGlue, &args)) return nullptr;
  RunStep(args);
  return nullptr;
}

napi_value Forward(napi_env env, napi_callback_info info) {
  ForwardArgs<Trainer> args;
  if (!ReadForward(env, info, kGlue, &args)) return nullptr;
  args.trainer->Forward(args.x, args.rows, args.logits);
  return nullptr;
}

}  // namespace

void RegisterTrainer(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"trainerCreate", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerSetParam", nullptr, ParamEntry<Param, ParamAccess::kSet>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerGetParam", nullptr, ParamEntry<Param, ParamAccess::kGet>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerSetAnchor", nullptr, ParamEntry<Param, ParamAccess::kSetAnchor>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerStep", nullptr, Step, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerForward", nullptr, Forward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace defrost
