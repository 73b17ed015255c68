/**
 * The two gradients of a depthwise convolution in plain JavaScript for the wasm backend, which
 * ships without them (`DepthwiseConv2dNativeBackpropInput`, `...Filter`): they make depthwise
 * separable networks (MobileNet-like ONNX imports, docs/your-data.md#onnx) train on wasm and
 * wasm-blas. NHWC, any strides, dilations and padding tfjs computes; both operands read in place
 * in the wasm heap, sums in float64.
 *
 * Forward, for reference: y[b, oh, ow, c*k + q] = sum over (i, j) of
 * x[b, oh*s - top + i*d, ow*s - left + j*d, c] * f[i, j, c, q].
 */
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelFunc,
  NamedTensorInfoMap,
} from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { asWasmBackend, floatView, input } from './wasm-heap.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}

type Geometry = backend_util.Conv2DInfo;

function geometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: DepthwiseConv2dNativeBackpropInputAttrs | DepthwiseConv2dNativeBackpropFilterAttrs,
): Geometry {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/** Calls `visit(xIndex, yIndex, filterIndex)` for every (input, output, tap) triple of the convolution. */
function eachTap(g: Geometry, visit: (xi: number, yi: number, fi: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = g;
  const k = outChannels / inChannels;
  for (let b = 0; b < batchSize; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++) {
        const yBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let i = 0; i < filterHeight; i++) {
          const ih = oh * g.strideHeight - g.padInfo.top + i * g.dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const iw = ow * g.strideWidth - g.padInfo.left + j * g.dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const fBase = (i * filterWidth + j) * inChannels * k;
            for (let c = 0; c < inChannels; c++) for (let q = 0; q < k; q++) visit(xBase + c, yBase + c * k + q, fBase + c * k + q);
          }
        }
      }
}

/** dx[b, ih, iw, c] = sum of dy[b, oh, ow, c*k + q] * f[i, j, c, q] over the taps reaching it. */
export const depthwiseBackpropInputJs: KernelFunc = ((args: KernelArgs) => {
  const dy = input(args.inputs, 'dy');
  const filter = input(args.inputs, 'filter');
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const backend = asWasmBackend(args.backend);
  const g = geometry(attrs.inputShape, filter.shape, attrs);
  const out = backend.makeOutput([...attrs.inputShape], 'float32');
  const acc = new Float64Array(attrs.inputShape.reduce((a, b) => a * b, 1));
  const dyv = floatView(backend, dy);
  const fv = floatView(backend, filter);
  eachTap(g, (xi, yi, fi) => (acc[xi] += dyv[yi] * fv[fi]));
  floatView(backend, out).set(acc);
  return out;
}) as KernelFunc;

/** df[i, j, c, q] = sum of x[b, ih, iw, c] * dy[b, oh, ow, c*k + q] over batch and positions. */
export const depthwiseBackpropFilterJs: KernelFunc = ((args: KernelArgs) => {
  const x = input(args.inputs, 'x');
  const dy = input(args.inputs, 'dy');
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const backend = asWasmBackend(args.backend);
  const g = geometry(x.shape, attrs.filterShape, attrs);
  const out = backend.makeOutput([...attrs.filterShape], 'float32');
  const acc = new Float64Array(attrs.filterShape.reduce((a, b) => a * b, 1));
  const xv = floatView(backend, x);
  const dyv = floatView(backend, dy);
  eachTap(g, (xi, yi, fi) => (acc[fi] += xv[xi] * dyv[yi]));
  floatView(backend, out).set(acc);
  return out;
}) as KernelFunc;
