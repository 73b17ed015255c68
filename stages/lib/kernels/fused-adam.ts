/**
 * Adam in one native pass per variable on wasm-blas. tfjs's AdamOptimizer runs ~13 elementwise
 * kernels per variable per step, each a full pass over memory; for the reference MLP that was
 * half of a training step. While wasm-blas is installed, `AdamOptimizer.prototype.applyGradients`
 * is replaced by a version that computes the same float32 operations in the same order in the
 * addon (native/src/adam.cc) and keeps the optimizer's state (moments, accBeta1/2, iterations)
 * exactly as the stock one does, so `tf.train.adam()` users (training stages, bench) need no
 * change and can switch backends freely. Other backends keep the stock method.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native-addon.js';
import { asWasmBackend, floatOffset, heapBuffer, input, sizeOf } from './wasm-heap.js';

export const fusedAdamKernelName = 'DefrostFusedAdam';

/** The parts of tfjs's AdamOptimizer this relies on (public at runtime, private in its typings). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

type ApplyGradients = (this: tf.AdamOptimizer, gradients: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>) => void;

interface AdamArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}

interface AdamAttrs {
  scalars: number[];
}

export function makeFusedAdamKernel(addon: NativeKernels): KernelFunc {
  return ((args: AdamArgs) => {
    const value = input(args.inputs, 'value');
    const grad = input(args.inputs, 'gradient');
    const m = input(args.inputs, 'm');
    const v = input(args.inputs, 'v');
    const backend = asWasmBackend(args.backend);
    const outs: TensorInfo[] = [value, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
    const n = sizeOf(value.shape);
    if (n > 0) {
      const params = Int32Array.from([n, ...[value, grad, m, v, ...outs].map((t) => floatOffset(backend, t))]);
      const scalars = Float32Array.from((args.attrs as unknown as AdamAttrs).scalars);
      addon.adam(heapBuffer(backend), params, scalars);
    }
    return outs;
  }) as KernelFunc;
}

let stockApply: ApplyGradients | null = null;

function isFusable(value: tf.Tensor, gradient: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && value.dtype === 'float32' && gradient.dtype === 'float32' && value.size === gradient.size;
}

/** The stock method's logic with the per-variable arithmetic replaced by the fused kernel. */
function fusedApplyGradients(this: tf.AdamOptimizer, gradients: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>): void {
  const self = this as unknown as AdamInternals;
  const names = Array.isArray(gradients) ? gradients.map((g) => g.name) : Object.keys(gradients);
  const registered = tf.engine().registeredVariables;
  const allFusable = names.every((name, i) => {
    const gradient = Array.isArray(gradients) ? gradients[i].tensor : gradients[name];
    const value = registered[name];
    return gradient == null || (value != null && isFusable(value, gradient));
  });
  if (!allFusable || stockApply === null) {
    (stockApply as ApplyGradients).call(this, gradients);
    return;
  }
  tf.tidy(() => {
    // As the stock optimizer: 1 - accBeta in float32 (the scalars below are rounded to float32).
    const oneMinusAccBeta1 = tf.sub(1, self.accBeta1).dataSync()[0];
    const oneMinusAccBeta2 = tf.sub(1, self.accBeta2).dataSync()[0];
    const scalars = [
      self.beta1,
      1 - self.beta1,
      self.beta2,
      1 - self.beta2,
      oneMinusAccBeta1,
      oneMinusAccBeta2,
      self.epsilon,
      -self.learningRate,
    ];
    names.forEach((name, i) => {
      const value = registered[name];
      if (self.accumulatedFirstMoment[i] == null) {
        self.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (self.accumulatedSecondMoment[i] == null) {
        self.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const gradient = Array.isArray(gradients) ? gradients[i].tensor : gradients[name];
      if (gradient == null) return;
      const m = (self.accumulatedFirstMoment[i] as { variable: tf.Variable }).variable;
      const v = (self.accumulatedSecondMoment[i] as { variable: tf.Variable }).variable;
      const [newValue, newM, newV] = tf
        .engine()
        .runKernel(fusedAdamKernelName, { value, gradient, m, v }, { scalars } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      m.assign(newM);
      v.assign(newV);
      value.assign(newValue);
    });
    self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
    self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
  });
  self.incrementIterations();
}

export function installFusedAdam(addon: NativeKernels): void {
  if (tf.getKernel(fusedAdamKernelName, 'wasm') !== undefined) tf.unregisterKernel(fusedAdamKernelName, 'wasm');
  tf.registerKernel({ kernelName: fusedAdamKernelName, backendName: 'wasm', kernelFunc: makeFusedAdamKernel(addon) });
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  if (stockApply === null) stockApply = proto.applyGradients;
  proto.applyGradients = fusedApplyGradients;
}

/** Back to tfjs's own AdamOptimizer (plain wasm and the other backends). */
export function uninstallFusedAdam(): void {
  if (stockApply === null) return;
  (tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients }).applyGradients = stockApply;
}
