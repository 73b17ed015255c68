// N-API glue of the native trainer (trainer.h): adds the trainer* functions to the addon.
#pragma once
#include <node_api.h>

namespace defrost {

void RegisterTrainer(napi_env env, napi_value exports);

}  // namespace defrost
