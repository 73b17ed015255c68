// Reading N-API arguments, for every entry point of both addons (addon.cc, trainer-napi.cc,
// native/torch/src/graph-napi.cc): a value of the wrong kind reads as false, never as memory.
#pragma once
#include <node_api.h>

#include <cstddef>

namespace defrost {

// The data of `value` when it is a typed array of type `want`; false otherwise.
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

// The first `want` arguments into argv; false when fewer were passed.
inline bool Args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc >= want;
}

}  // namespace defrost
