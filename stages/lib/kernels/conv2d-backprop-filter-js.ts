/**
 * `Conv2DBackpropFilter` in plain JavaScript for the wasm backend, which ships without one: it
 * makes CNN gradients work on plain wasm when the OpenBLAS addon is missing (and serves NCHW
 * inputs, which the addon does not take). Reads both operands in place in the wasm heap.
 */
import type { Conv2DBackpropFilterAttrs, KernelFunc, NamedTensorInfoMap } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { asWasmBackend, floatView, input, sizeOf } from './wasm-heap.js';

/** The convolution geometry of a filter gradient, shared with the native kernel. */
export function filterGradientInfo(xShape: readonly number[], attrs: Conv2DBackpropFilterAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

interface FilterArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}

/**
 * dW[kh, kw, ci, co] = sum over (n, oh, ow) of x[n, ih, iw, ci] * dy[n, oh, ow, co]; loops run
 * over output pixels outermost so the inner loop walks `dy`'s channels contiguously (NHWC).
 */
export const conv2DBackpropFilterJs: KernelFunc = ((args: FilterArgs) => {
  const x = input(args.inputs, 'x');
  const dy = input(args.inputs, 'dy');
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const backend = asWasmBackend(args.backend);
  const info = filterGradientInfo(x.shape, attrs);
  const out = backend.makeOutput([...attrs.filterShape], 'float32');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const last = info.dataFormat === 'channelsLast';
  // Element strides of x and dy along (batch, row, column, channel) in either layout.
  const xs = last
    ? [inHeight * inWidth * inChannels, inWidth * inChannels, inChannels, 1]
    : [inChannels * inHeight * inWidth, inWidth, 1, inHeight * inWidth];
  const ys = last
    ? [outHeight * outWidth * outChannels, outWidth * outChannels, outChannels, 1]
    : [outChannels * outHeight * outWidth, outWidth, 1, outHeight * outWidth];
  const acc = new Float64Array(sizeOf(attrs.filterShape));
  // Views are taken after makeOutput, which may have grown (and so detached) the heap.
  const xv = floatView(backend, x);
  const dyv = floatView(backend, dy);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyBase = b * ys[0] + oh * ys[1] + ow * ys[2];
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight - top + kh;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - left + kw;
            if (iw < 0 || iw >= inWidth) continue;
            const xBase = b * xs[0] + ih * xs[1] + iw * xs[2];
            const wBase = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xval = xv[xBase + ci * xs[3]];
              if (xval === 0) continue;
              const row = wBase + ci * outChannels;
              for (let co = 0; co < outChannels; co++) acc[row + co] += xval * dyv[dyBase + co * ys[3]];
            }
          }
        }
      }
    }
  }
  floatView(backend, out).set(acc);
  return out;
}) as KernelFunc;
