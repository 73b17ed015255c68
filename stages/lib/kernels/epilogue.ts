/**
 * The fused part of `_FusedMatMul` / `FusedConv2D`: bias and activation applied to each output
 * row by the addon. Encoded as five int32 params (biasOff, biasLen, activation, preluOff,
 * preluLen), matching native/src/addon.cc. Shapes the addon does not cover (a bias or prelu
 * weight that varies along rows) return null so the caller can delegate to the stock kernel.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { floatOffset, sizeOf, type WasmBackendInternals } from './wasm-heap.js';

/** tfjs-backend-wasm's FusableActivation numbering, which native/src/kernels.h mirrors. */
export const activationCodes: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  prelu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  elu: 6,
};

/** Length the addon can broadcast along the last axis: 1 (scalar) or `cols`, else null. */
function rowBroadcastLength(tensor: TensorInfo, cols: number): number | null {
  const size = sizeOf(tensor.shape);
  if (size === 1) return 1;
  const last = tensor.shape[tensor.shape.length - 1];
  return size === cols && last === cols ? cols : null;
}

export function encodeEpilogue(
  backend: WasmBackendInternals,
  cols: number,
  activation: string | undefined,
  bias: TensorInfo | undefined,
  prelu: TensorInfo | undefined,
): number[] | null {
  const code = activationCodes[activation ?? 'linear'];
  if (code === undefined) return null;
  const params = [-1, 0, code, -1, 0];
  if (bias != null) {
    if (bias.dtype !== 'float32') return null;
    const length = rowBroadcastLength(bias, cols);
    if (length === null) return null;
    params[0] = floatOffset(backend, bias);
    params[1] = length;
  }
  if (code === activationCodes.prelu) {
    if (prelu == null || prelu.dtype !== 'float32') return null;
    const length = rowBroadcastLength(prelu, cols);
    if (length === null) return null;
    params[3] = floatOffset(backend, prelu);
    params[4] = length;
  }
  return params;
}
