/**
 * Installs defrost's kernels into TensorFlow.js's wasm backend. `wasm-blas` replaces the matrix
 * multiply and convolution kernels with the OpenBLAS ones; `wasm` restores the stock kernels.
 * Both add the JavaScript `Conv2DBackpropFilter`, which stock wasm lacks (CNNs cannot train
 * without it), and the depthwise convolution gradients (depthwise-backprop-js.ts). The stock kernels are remembered the first time, so switching back and forth
 * (as the tests do) is exact. tfjs keeps kernels per backend name, so this is process-wide.
 * wasm-blas also makes tfjs's Adam optimizer run one fused native pass per variable
 * (fused-adam.ts), which is what the elementwise-heavy optimizer step needs.
 *
 * The addon these kernels and the native training step call is compiled from native/, which no
 * import names, and the kernels are installed by the backend's initialisation, outside every
 * stage (`installBlasKernels`), yet compute what the training stages compute; this tag puts
 * both in the code fingerprint of every stage whose code reaches this module
 * (docs/architecture.md, "Code fingerprints"):
 * @fingerprint native/src native/binding.gyp stages/lib/kernels
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import {
  _FusedMatMul,
  BatchMatMul,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  FusedConv2D,
  getKernel,
  Identity,
  MaxPoolGrad,
  registerKernel,
  Sum,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterJs } from './conv2d-backprop-filter-js.js';
import { depthwiseBackpropFilterJs, depthwiseBackpropInputJs } from './depthwise-backprop-js.js';
import { makeConv2D, makeConv2DBackpropFilter, makeConv2DBackpropInput, makeFusedConv2D } from './conv2d.js';
import { installFusedAdam, uninstallFusedAdam } from './fused-adam.js';
import { makeIdentity } from './identity.js';
import { makeBatchMatMul, makeFusedMatMul } from './matmul.js';
import { makeMaxPoolGrad, makeSum } from './pooling.js';
import type { NativeKernels } from './native-addon.js';

/** The kernels replaced by wasm-blas: docs/backends.md's, plus three that weighed on the CNN step. */
export const blasKernelNames = [
  BatchMatMul,
  _FusedMatMul,
  Conv2D,
  FusedConv2D, // the kernel name is 'FusedConv2D' (the op is fused.conv2d)
  Conv2DBackpropInput,
  Conv2DBackpropFilter,
  MaxPoolGrad,
  Sum,
  Identity,
] as const;

const backendName = 'wasm';
let installedAddon: NativeKernels | null = null;
let stockKernels: Map<string, KernelConfig | undefined> | null = null;

function rememberStock(): Map<string, KernelConfig | undefined> {
  if (stockKernels === null) {
    stockKernels = new Map(blasKernelNames.map((name) => [name, getKernel(name, backendName)]));
  }
  return stockKernels;
}

function replace(name: string, kernelFunc: KernelFunc): void {
  if (getKernel(name, backendName) !== undefined) unregisterKernel(name, backendName);
  registerKernel({ kernelName: name, backendName, kernelFunc });
}

function stockFunc(name: string): KernelFunc | undefined {
  return rememberStock().get(name)?.kernelFunc;
}

/** Stock wasm kernels, plus the JavaScript Conv2DBackpropFilter. */
export function installPlainWasmKernels(): void {
  const stock = rememberStock();
  installedAddon = null;
  uninstallFusedAdam();
  for (const name of blasKernelNames) {
    const config = stock.get(name);
    if (config) {
      if (getKernel(name, backendName) !== undefined) unregisterKernel(name, backendName);
      registerKernel(config);
    }
  }
  if (stock.get(Conv2DBackpropFilter) === undefined) {
    replace(Conv2DBackpropFilter, conv2DBackpropFilterJs);
  }
  installMissingGradients();
}

/** The depthwise convolution gradients stock wasm lacks (JavaScript), on both wasm backends. */
function installMissingGradients(): void {
  if (getKernel(DepthwiseConv2dNativeBackpropInput, backendName) === undefined)
    replace(DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInputJs);
  if (getKernel(DepthwiseConv2dNativeBackpropFilter, backendName) === undefined)
    replace(DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilterJs);
}

/** OpenBLAS kernels; what they do not cover falls through to the stock (or JS) kernel. */
export function installBlasKernels(addon: NativeKernels): void {
  rememberStock();
  replace(BatchMatMul, makeBatchMatMul(addon, stockFunc(BatchMatMul)));
  replace(_FusedMatMul, makeFusedMatMul(addon, stockFunc(_FusedMatMul)));
  replace(Conv2D, makeConv2D(addon, stockFunc(Conv2D)));
  replace(FusedConv2D, makeFusedConv2D(addon, stockFunc(FusedConv2D)));
  replace(Conv2DBackpropInput, makeConv2DBackpropInput(addon, stockFunc(Conv2DBackpropInput)));
  replace(Conv2DBackpropFilter, makeConv2DBackpropFilter(addon, stockFunc(Conv2DBackpropFilter) ?? conv2DBackpropFilterJs));
  replace(MaxPoolGrad, makeMaxPoolGrad(addon, stockFunc(MaxPoolGrad)));
  replace(Sum, makeSum(addon, stockFunc(Sum)));
  replace(Identity, makeIdentity(stockFunc(Identity)));
  installMissingGradients();
  installFusedAdam(addon);
  installedAddon = addon;
}

/**
 * The OpenBLAS addon while the wasm-blas kernels are installed (null on plain wasm, or before
 * either is installed): the native training step (native-trainer.ts) is used only with it, so
 * which step a run takes is a function of its backend.
 */
export function installedBlasAddon(): NativeKernels | null {
  return installedAddon;
}
