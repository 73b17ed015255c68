/**
 * The few internals of TensorFlow.js's wasm backend that the native kernels need: the heap
 * buffer and each tensor's byte offset in it. Declared structurally here (rather than importing
 * the package's types, which drag in Emscripten's) so the contract we rely on is explicit.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

interface WasmTensorData {
  readonly memoryOffset: number;
  readonly shape: number[];
  readonly dtype: DataType;
}

export interface WasmBackendInternals {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
}

export function asWasmBackend(backend: unknown): WasmBackendInternals {
  const candidate = backend as Partial<WasmBackendInternals> | null;
  if (candidate == null || candidate.wasm == null || candidate.dataIdMap == null) {
    throw new Error('defrost kernels: expected the TensorFlow.js wasm backend');
  }
  return candidate as WasmBackendInternals;
}

/** The wasm heap as it is now. Call after every allocation (makeOutput may grow memory). */
export function heapBuffer(backend: WasmBackendInternals): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** A float32 tensor's position in the heap, in float elements (the addon's unit). */
export function floatOffset(backend: WasmBackendInternals, tensor: TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (data == null) throw new Error('defrost kernels: tensor is not on the wasm backend');
  if (data.memoryOffset % 4 !== 0) throw new Error('defrost kernels: misaligned float32 tensor');
  return data.memoryOffset / 4;
}

/** A float32 view of a tensor's data in the heap (valid until the next allocation). */
export function floatView(backend: WasmBackendInternals, tensor: TensorInfo): Float32Array {
  const size = tensor.shape.reduce((a, b) => a * b, 1);
  return new Float32Array(heapBuffer(backend), floatOffset(backend, tensor) * 4, size);
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A kernel input that tfjs guarantees by the kernel's signature (typed as optional there). */
export function input(inputs: Readonly<Record<string, TensorInfo | undefined>>, name: string): TensorInfo {
  const tensor = inputs[name];
  if (tensor == null) throw new Error(`defrost kernels: missing input '${name}'`);
  return tensor;
}
