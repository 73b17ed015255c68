/**
 * `Identity` without a copy for wasm-blas. The stock wasm kernel copies the whole tensor (tfjs
 * runs Identity for clones and in gradient bookkeeping: ~30 calls per CNN training step); the
 * cpu backend, and wasm's own Reshape, instead share the data and count a reference. Tensor data
 * is never written in place (variables swap their data on assign), so sharing is safe.
 */
import type { KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { input } from './wasm-heap.js';

interface IdentityArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
}

interface RefCounting {
  incRef(dataId: object): void;
}

export function makeIdentity(stock: KernelFunc | undefined): KernelFunc {
  return ((args: IdentityArgs) => {
    const x = input(args.inputs, 'x');
    const backend = args.backend as Partial<RefCounting>;
    if (x.dtype === 'string' || typeof backend.incRef !== 'function') {
      if (!stock) throw new Error('Identity: unsupported input');
      return stock(args as Parameters<KernelFunc>[0]);
    }
    backend.incRef(x.dataId);
    const out: TensorInfo = { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    return out;
  }) as KernelFunc;
}
