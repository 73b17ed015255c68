// N-API glue for the kernels in kernels.h. Every call receives the wasm heap (the backend's
// WebAssembly.Memory buffer, fetched fresh by the caller because memory can grow), an Int32Array
// of sizes and element offsets into that heap, and optionally one float parameter. Tensors are
// read and written in place: nothing is copied across the JS/native boundary.
#include <node_api.h>
#include <cblas.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "adam.h"
#include "blas.h"
#include "kernels.h"
#include "napi-args.h"
#include "pooling.h"
#include "trainer-napi.h"

namespace {

struct Args {
  float* heap = nullptr;
  size_t heapFloats = 0;
  const int32_t* p = nullptr;
  size_t count = 0;
  double scalar = 0;
};

bool Fail(napi_env env, const char* message) {
  napi_throw_error(env, "DEFROST_NATIVE", message);
  return false;
}

// Reads (heap: ArrayBuffer, params: Int32Array, scalar?: number).
bool ReadArgs(napi_env env, napi_callback_info info, size_t minParams, Args* out) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2) {
    return Fail(env, "expected (heap, params[, scalar])");
  }
  void* data = nullptr;
  size_t bytes = 0;
  bool isArrayBuffer = false;
  napi_is_arraybuffer(env, argv[0], &isArrayBuffer);
  if (!isArrayBuffer || napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) {
    return Fail(env, "heap must be an ArrayBuffer");
  }
  size_t length = 0;
  int32_t* params = nullptr;
  if (!defrost::Typed(env, argv[1], napi_int32_array, &params, &length) || length < minParams) {
    return Fail(env, "params must be an Int32Array of the expected length");
  }
  out->heap = static_cast<float*>(data);
  out->heapFloats = bytes / sizeof(float);
  out->p = params;
  out->count = length;
  if (argc >= 3) napi_get_value_double(env, argv[2], &out->scalar);
  return true;
}

// Bounds check of [offset, offset + floats) against the heap, so a wrong offset is an error
// rather than memory corruption.
bool InHeap(const Args& a, int64_t offset, int64_t floats) {
  return offset >= 0 && floats >= 0 && uint64_t(offset + floats) <= a.heapFloats;
}

defrost::Epilogue ReadEpilogue(const Args& a, const int32_t* e, int64_t cols, bool* ok) {
  defrost::Epilogue epilogue;
  *ok = true;
  if (e[0] >= 0) {
    if (!InHeap(a, e[0], e[1]) || (e[1] != 1 && e[1] != cols)) *ok = false;
    epilogue.bias = a.heap + e[0];
    epilogue.biasLen = e[1];
  }
  epilogue.activation = e[2];
  if (e[2] < defrost::kLinear || e[2] > defrost::kElu) *ok = false;
  if (e[2] == defrost::kPrelu) {
    if (e[3] < 0 || !InHeap(a, e[3], e[4]) || (e[4] != 1 && e[4] != cols)) *ok = false;
    epilogue.prelu = a.heap + e[3];
    epilogue.preluLen = e[4];
  }
  epilogue.leakyAlpha = static_cast<float>(a.scalar);
  return epilogue;
}

// params: batch, transA, transB, m, n, k, aOff, aStride, bOff, bStride, cOff, cStride,
//         biasOff (-1 none), biasLen, activation, preluOff (-1 none), preluLen; scalar: alpha.
napi_value MatMul(napi_env env, napi_callback_info info) {
  Args a;
  if (!ReadArgs(env, info, 17, &a)) return nullptr;
  const int32_t* p = a.p;
  const int32_t batch = p[0], m = p[3], n = p[4], k = p[5];
  const int64_t aStride = p[7], bStride = p[9], cStride = p[11];
  const int64_t last = batch > 0 ? batch - 1 : 0;
  if (batch < 0 || m < 0 || n < 0 || k < 0 || !InHeap(a, p[6], last * aStride + int64_t(m) * k) ||
      !InHeap(a, p[8], last * bStride + int64_t(k) * n) ||
      !InHeap(a, p[10], last * cStride + int64_t(m) * n)) {
    Fail(env, "matMul: operand outside the wasm heap");
    return nullptr;
  }
  bool ok = false;
  const defrost::Epilogue epilogue = ReadEpilogue(a, p + 12, n, &ok);
  if (!ok) {
    Fail(env, "matMul: invalid bias or activation");
    return nullptr;
  }
  defrost::BatchMatMul(batch, p[1] != 0, p[2] != 0, m, n, k, a.heap + p[6], aStride, a.heap + p[8],
                       bStride, a.heap + p[10], cStride, epilogue);
  return nullptr;
}

constexpr size_t kGeometryParams = 15;

bool ReadGeometry(const Args& a, defrost::ConvGeometry* g) {
  const int32_t* p = a.p;
  *g = defrost::ConvGeometry{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7],
                             p[8], p[9], p[10], p[11], p[12], p[13], p[14]};
  for (size_t i = 0; i < kGeometryParams; ++i) {
    if (p[i] < 0) return false;
  }
  return g->strideH > 0 && g->strideW > 0 && g->dilationH > 0 && g->dilationW > 0;
}

int64_t InputFloats(const defrost::ConvGeometry& g) {
  return int64_t(g.batch) * g.inH * g.inW * g.inC;
}
int64_t OutputFloats(const defrost::ConvGeometry& g) {
  return int64_t(g.batch) * g.outH * g.outW * g.outC;
}
int64_t FilterFloats(const defrost::ConvGeometry& g) {
  return int64_t(g.filterH) * g.filterW * g.inC * g.outC;
}

// params: geometry (15), xOff, filterOff, yOff, then the epilogue (5) as for matMul.
napi_value Conv2D(napi_env env, napi_callback_info info) {
  Args a;
  if (!ReadArgs(env, info, kGeometryParams + 8, &a)) return nullptr;
  defrost::ConvGeometry g;
  const int32_t* o = a.p + kGeometryParams;
  if (!ReadGeometry(a, &g) || !InHeap(a, o[0], InputFloats(g)) ||
      !InHeap(a, o[1], FilterFloats(g)) || !InHeap(a, o[2], OutputFloats(g))) {
    Fail(env, "conv2d: invalid geometry or operand outside the wasm heap");
    return nullptr;
  }
  bool ok = false;
  const defrost::Epilogue epilogue = ReadEpilogue(a, o + 3, g.outC, &ok);
  if (!ok) {
    Fail(env, "conv2d: invalid bias or activation");
    return nullptr;
  }
  defrost::Conv2D(g, a.heap + o[0], a.heap + o[1], a.heap + o[2], epilogue);
  return nullptr;
}

// params: geometry (15), dyOff, filterOff, dxOff.
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  Args a;
  if (!ReadArgs(env, info, kGeometryParams + 3, &a)) return nullptr;
  defrost::ConvGeometry g;
  const int32_t* o = a.p + kGeometryParams;
  if (!ReadGeometry(a, &g) || !InHeap(a, o[0], OutputFloats(g)) ||
      !InHeap(a, o[1], FilterFloats(g)) || !InHeap(a, o[2], InputFloats(g))) {
    Fail(env, "conv2dBackpropInput: invalid geometry or operand outside the wasm heap");
    return nullptr;
  }
  defrost::Conv2DBackpropInput(g, a.heap + o[0], a.heap + o[1], a.heap + o[2]);
  return nullptr;
}

// params: geometry (15), xOff, dyOff, dwOff.
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  Args a;
  if (!ReadArgs(env, info, kGeometryParams + 3, &a)) return nullptr;
  defrost::ConvGeometry g;
  const int32_t* o = a.p + kGeometryParams;
  if (!ReadGeometry(a, &g) || !InHeap(a, o[0], InputFloats(g)) ||
      !InHeap(a, o[1], OutputFloats(g)) || !InHeap(a, o[2], FilterFloats(g))) {
    Fail(env, "conv2dBackpropFilter: invalid geometry or operand outside the wasm heap");
    return nullptr;
  }
  defrost::Conv2DBackpropFilter(g, a.heap + o[0], a.heap + o[1], a.heap + o[2]);
  return nullptr;
}

// params: n, valueOff, gradOff, mOff, vOff, newValueOff, newMOff, newVOff; scalars: a
// Float32Array of beta1, 1-beta1, beta2, 1-beta2, 1-accBeta1, 1-accBeta2, epsilon, -lr.
napi_value Adam(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Args a;
  if (argc < 3 || !ReadArgs(env, info, 8, &a)) {
    if (argc < 3) Fail(env, "adam: expected (heap, params, scalars)");
    return nullptr;
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value backing;
  size_t offset = 0;
  bool isTyped = false;
  napi_is_typedarray(env, argv[2], &isTyped);
  if (!isTyped ||
      napi_get_typedarray_info(env, argv[2], &type, &length, &data, &backing, &offset) != napi_ok ||
      type != napi_float32_array || length < 8) {
    Fail(env, "adam: scalars must be a Float32Array of 8");
    return nullptr;
  }
  const float* f = static_cast<const float*>(data);
  const defrost::AdamScalars s{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
  const int32_t* p = a.p;
  const int64_t n = p[0];
  for (int i = 1; i < 8; ++i) {
    if (!InHeap(a, p[i], n)) {
      Fail(env, "adam: operand outside the wasm heap");
      return nullptr;
    }
  }
  float* h = a.heap;
  defrost::AdamUpdate(n, h + p[1], h + p[2], h + p[3], h + p[4], h + p[5], h + p[6], h + p[7], s);
  return nullptr;
}

// params: batch, inH, inW, channels, outH, outW, strideH, strideW, dilationH, dilationW,
//         effectiveFilterH, effectiveFilterW, padTop, padLeft, xOff, dyOff, dxOff.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!ReadArgs(env, info, 17, &a)) return nullptr;
  const int32_t* p = a.p;
  const defrost::PoolGeometry g{p[0], p[1], p[2], p[3], p[4], p[5], p[6],
                                p[7], p[8], p[9], p[10], p[11], p[12], p[13]};
  bool ok = g.strideH > 0 && g.strideW > 0 && g.dilationH > 0 && g.dilationW > 0;
  for (int i = 0; i < 14; ++i) ok = ok && p[i] >= 0;
  const int64_t inFloats = int64_t(g.batch) * g.inH * g.inW * g.channels;
  const int64_t outFloats = int64_t(g.batch) * g.outH * g.outW * g.channels;
  if (!ok || !InHeap(a, p[14], inFloats) || !InHeap(a, p[15], outFloats) ||
      !InHeap(a, p[16], inFloats)) {
    Fail(env, "maxPoolGrad: invalid geometry or operand outside the wasm heap");
    return nullptr;
  }
  defrost::MaxPoolGrad(g, a.heap + p[14], a.heap + p[15], a.heap + p[16]);
  return nullptr;
}

// params: rows, cols, xOff, outOff.
napi_value SumLeadingAxes(napi_env env, napi_callback_info info) {
  Args a;
  if (!ReadArgs(env, info, 4, &a)) return nullptr;
  const int32_t* p = a.p;
  if (p[0] < 0 || p[1] < 0 || !InHeap(a, p[2], int64_t(p[0]) * p[1]) || !InHeap(a, p[3], p[1])) {
    Fail(env, "sumLeadingAxes: operand outside the wasm heap");
    return nullptr;
  }
  defrost::SumLeadingAxes(p[0], p[1], a.heap + p[2], a.heap + p[3]);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t threads = 1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1) {
    Fail(env, "setThreads expects a positive integer");
    return nullptr;
  }
  defrost::SetThreadBudget(threads);
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value result, config, core, threads;
  napi_create_object(env, &result);
  const char* cfg = openblas_get_config();
  const char* name = openblas_get_corename();
  napi_create_string_utf8(env, cfg ? cfg : "", NAPI_AUTO_LENGTH, &config);
  napi_create_string_utf8(env, name ? name : "", NAPI_AUTO_LENGTH, &core);
  napi_create_int32(env, defrost::ThreadBudget(), &threads);
  napi_set_named_property(env, result, "config", config);
  napi_set_named_property(env, result, "corename", core);
  napi_set_named_property(env, result, "threads", threads);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2D, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2DBackpropInput, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2DBackpropFilter, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumLeadingAxes", nullptr, SumLeadingAxes, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  defrost::RegisterTrainer(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
