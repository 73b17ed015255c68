/**
 * Shared by the kernel tests: run the same computation on the `cpu` backend (the reference) and
 * on wasm-blas / wasm, with inputs drawn from a seeded stream, and compare results.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../stages/lib/models/backend.js';
import { loadNativeKernels, type NativeKernels } from '../stages/lib/kernels/native-addon.js';
import { installBlasKernels } from '../stages/lib/kernels/register.js';
import { Rng } from '../stages/lib/random.js';

/**
 * The addon must be there: CI installs OpenBLAS and builds it, so a missing addon is a failure
 * with the reason, never a skip.
 */
export function requireAddon(): void {
  const load = loadNativeKernels();
  assert.ok(load.ok, load.ok ? '' : `the OpenBLAS addon is required by these tests: ${load.reason}`);
}

export function randomArray(rng: Rng, size: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (rng.uniform() * 2 - 1) * scale;
  return out;
}

export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.uniform() * (hi - lo + 1));
}

/** Calls of each addon function since the last `selectBackend` in `valuesOn` (wasm-blas only). */
export const nativeCalls = new Map<string, number>();

/**
 * The real addon behind a counting wrapper, installed as the wasm-blas kernels: lets a test prove
 * that the native kernel ran rather than a stock fallback.
 */
function installCountingAddon(): void {
  const load = loadNativeKernels();
  if (!load.ok) throw new Error(load.reason);
  const real = load.addon;
  const counting = {} as Record<string, unknown>;
  // The addon's properties are non-enumerable (N-API defaults), hence the explicit list.
  const names: Array<keyof NativeKernels> = [
    'matMul',
    'conv2d',
    'conv2dBackpropInput',
    'conv2dBackpropFilter',
    'maxPoolGrad',
    'sumLeadingAxes',
    'adam',
    'setThreads',
    'info',
    'trainerCreate',
    'trainerSetParam',
    'trainerGetParam',
    'trainerSetAnchor',
    'trainerStep',
    'trainerForward',
  ];
  for (const name of names) {
    const fn = real[name] as (...args: unknown[]) => unknown;
    counting[name] = (...args: unknown[]) => {
      nativeCalls.set(name, (nativeCalls.get(name) ?? 0) + 1);
      return fn.apply(real, args);
    };
  }
  installBlasKernels(counting as unknown as NativeKernels);
}

/** Runs `compute` with `backend` active and returns the result's values (tensors disposed). */
export async function valuesOn(backend: BackendName, compute: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await selectBackend(backend, 1);
  nativeCalls.clear();
  if (backend === 'wasm-blas') installCountingAddon();
  const result = tf.tidy(compute);
  const list = Array.isArray(result) ? result : [result];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return values;
}

/** max |actual - expected| / max(|expected|, tiny): the norm-wise relative error. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, 'result sizes differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i]) !== Number.isNaN(expected[i])) return Infinity;
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Compares `compute` on `backend` against cpu; `what` names the case in failures. */
export async function assertMatchesCpu(
  what: string,
  compute: () => tf.Tensor | tf.Tensor[],
  backend: BackendName = 'wasm-blas',
  tolerance = 1e-4,
  nativeKernel?: string,
): Promise<void> {
  const expected = await valuesOn('cpu', compute);
  const actual = await valuesOn(backend, compute);
  if (nativeKernel) {
    assert.ok((nativeCalls.get(nativeKernel) ?? 0) > 0, `${what}: the native ${nativeKernel} kernel did not run`);
  }
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    const error = relativeError(actual[i], e);
    assert.ok(error <= tolerance, `${what} (output ${i}) on ${backend}: relative error ${error} > ${tolerance}`);
  });
}
