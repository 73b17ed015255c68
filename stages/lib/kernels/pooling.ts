/**
 * `MaxPoolGrad` and the leading-axes case of `Sum` for wasm-blas. Neither is a matrix multiply,
 * but on stock wasm they were most of the reference CNN's step: the max-pool gradient alone about
 * half, and `Sum` over [N, H, W] (every conv bias gradient) transposes its whole input first.
 * Other cases go to the stock kernels.
 */
import type { KernelFunc, MaxPoolGradAttrs, NamedTensorInfoMap, SumAttrs } from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native-addon.js';
import { asWasmBackend, floatOffset, heapBuffer, input, sizeOf } from './wasm-heap.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}

function delegate(stock: KernelFunc | undefined, name: string, args: KernelArgs) {
  if (!stock) throw new Error(`${name}: unsupported inputs for the native kernel`);
  return stock(args as Parameters<KernelFunc>[0]);
}

export function makeMaxPoolGrad(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs) => {
    const dy = input(args.inputs, 'dy');
    const x = input(args.inputs, 'input');
    const attrs = args.attrs as unknown as MaxPoolGradAttrs;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') return delegate(stock, 'MaxPoolGrad', args);
    const backend = asWasmBackend(args.backend);
    const info = backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const dx = backend.makeOutput([...x.shape], 'float32');
    if (sizeOf(x.shape) === 0) return dx;
    const params = Int32Array.from([
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
      info.effectiveFilterHeight,
      info.effectiveFilterWidth,
      info.padInfo.top,
      info.padInfo.left,
      floatOffset(backend, x),
      floatOffset(backend, dy),
      floatOffset(backend, dx),
    ]);
    addon.maxPoolGrad(heapBuffer(backend), params);
    return dx;
  }) as KernelFunc;
}

export function makeSum(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs) => {
    const x = input(args.inputs, 'x');
    const attrs = args.attrs as unknown as SumAttrs;
    const rank = x.shape.length;
    const axes = util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((axis, i) => axis === i);
    if (x.dtype !== 'float32' || !leading) return delegate(stock, 'Sum', args);
    const backend = asWasmBackend(args.backend);
    const kept = x.shape.slice(axes.length);
    const outShape = attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
    const out = backend.makeOutput(outShape, 'float32');
    const rows = sizeOf(x.shape.slice(0, axes.length));
    const cols = sizeOf(kept);
    if (cols === 0) return out;
    const params = Int32Array.from([rows, cols, floatOffset(backend, x), floatOffset(backend, out)]);
    addon.sumLeadingAxes(heapBuffer(backend), params);
    return out;
  }) as KernelFunc;
}
