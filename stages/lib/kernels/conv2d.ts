/**
 * `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter` for the wasm backend:
 * im2col + OpenBLAS sgemm on the wasm heap (the column matrix lives in the addon's own memory).
 * NHWC only, which is what tfjs-layers uses; NCHW goes to the stock/fallback kernel. Padding
 * (same/valid/explicit), strides and dilations come from tfjs's own `computeConv2DInfo`, so they
 * mean exactly what they mean on the cpu backend.
 */
import type {
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  FusedConv2DAttrs,
  KernelFunc,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { encodeEpilogue } from './epilogue.js';
import { filterGradientInfo } from './conv2d-backprop-filter-js.js';
import type { NativeKernels } from './native-addon.js';
import { asWasmBackend, floatOffset, heapBuffer, input, sizeOf } from './wasm-heap.js';

interface ConvArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}

type ConvInfo = backend_util.Conv2DInfo;

/** The 15 geometry params of native/src/addon.cc, in order. */
export function geometryParams(info: ConvInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

function isNhwc(dataFormat: string | undefined): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

function delegate(stock: KernelFunc | undefined, name: string, args: ConvArgs): TensorInfo | TensorInfo[] {
  if (!stock) throw new Error(`${name}: unsupported inputs for the OpenBLAS kernel`);
  return stock(args as Parameters<KernelFunc>[0]);
}

function runConv(
  addon: NativeKernels,
  args: ConvArgs,
  attrs: Conv2DAttrs,
  epilogue: { activation?: string; bias?: TensorInfo; prelu?: TensorInfo; alpha: number },
): TensorInfo | null {
  const x = input(args.inputs, 'x');
  const filter = input(args.inputs, 'filter');
  if (!isNhwc(attrs.dataFormat) || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const backend = asWasmBackend(args.backend);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const tail = encodeEpilogue(backend, info.outChannels, epilogue.activation, epilogue.bias, epilogue.prelu);
  if (tail === null) return null;
  const out = backend.makeOutput(info.outShape, 'float32');
  if (sizeOf(info.outShape) === 0) return out;
  const params = Int32Array.from([
    ...geometryParams(info),
    floatOffset(backend, x),
    floatOffset(backend, filter),
    floatOffset(backend, out),
    ...tail,
  ]);
  addon.conv2d(heapBuffer(backend), params, epilogue.alpha);
  return out;
}

export function makeConv2D(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: ConvArgs) => {
    const attrs = args.attrs as unknown as Conv2DAttrs;
    return runConv(addon, args, attrs, { alpha: 0 }) ?? delegate(stock, 'Conv2D', args);
  }) as KernelFunc;
}

export function makeFusedConv2D(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: ConvArgs) => {
    const attrs = args.attrs as unknown as FusedConv2DAttrs;
    const { bias, preluActivationWeights } = args.inputs;
    const out = runConv(addon, args, attrs, {
      activation: attrs.activation,
      bias,
      prelu: preluActivationWeights,
      alpha: attrs.leakyreluAlpha ?? 0.2,
    });
    return out ?? delegate(stock, 'FusedConv2D', args);
  }) as KernelFunc;
}

export function makeConv2DBackpropInput(addon: NativeKernels, stock: KernelFunc | undefined): KernelFunc {
  return ((args: ConvArgs) => {
    const dy = input(args.inputs, 'dy');
    const filter = input(args.inputs, 'filter');
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (!isNhwc(attrs.dataFormat) || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      return delegate(stock, 'Conv2DBackpropInput', args);
    }
    const backend = asWasmBackend(args.backend);
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const out = backend.makeOutput([...attrs.inputShape], 'float32');
    if (sizeOf(attrs.inputShape) === 0) return out;
    const params = Int32Array.from([
      ...geometryParams(info),
      floatOffset(backend, dy),
      floatOffset(backend, filter),
      floatOffset(backend, out),
    ]);
    addon.conv2dBackpropInput(heapBuffer(backend), params);
    return out;
  }) as KernelFunc;
}

export function makeConv2DBackpropFilter(addon: NativeKernels, fallback: KernelFunc): KernelFunc {
  return ((args: ConvArgs) => {
    const x = input(args.inputs, 'x');
    const dy = input(args.inputs, 'dy');
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    if (!isNhwc(attrs.dataFormat) || x.dtype !== 'float32' || dy.dtype !== 'float32') {
      return delegate(fallback, 'Conv2DBackpropFilter', args);
    }
    const backend = asWasmBackend(args.backend);
    const info = filterGradientInfo(x.shape, attrs);
    const out = backend.makeOutput([...attrs.filterShape], 'float32');
    if (sizeOf(attrs.filterShape) === 0) return out;
    const params = Int32Array.from([...geometryParams(info), floatOffset(backend, x), floatOffset(backend, dy), floatOffset(backend, out)]);
    addon.conv2dBackpropFilter(heapBuffer(backend), params);
    return out;
  }) as KernelFunc;
}
