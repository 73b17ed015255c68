/**
 * Loads the OpenBLAS N-API addon (`native/`, built by `make native`). Loading never throws: a
 * missing or broken addon yields the reason, so backend selection can fall back to plain wasm
 * and say why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon reports about the OpenBLAS it is linked against. */
export interface BlasInfo {
  readonly config: string;
  readonly corename: string;
  readonly threads: number;
}

/**
 * The addon's functions. Each kernel takes the wasm heap (an ArrayBuffer, fetched fresh per call
 * since memory can grow), an Int32Array of sizes and float-element offsets into the heap (layout
 * documented in native/src/addon.cc), and for activations with a parameter the leaky-relu alpha.
 */
export interface NativeKernels {
  matMul(heap: ArrayBuffer, params: Int32Array, alpha?: number): void;
  conv2d(heap: ArrayBuffer, params: Int32Array, alpha?: number): void;
  conv2dBackpropInput(heap: ArrayBuffer, params: Int32Array): void;
  conv2dBackpropFilter(heap: ArrayBuffer, params: Int32Array): void;
  maxPoolGrad(heap: ArrayBuffer, params: Int32Array): void;
  sumLeadingAxes(heap: ArrayBuffer, params: Int32Array): void;
  /** params: n and 7 offsets (value, grad, m, v, new value, new m, new v); scalars: see adam.h. */
  adam(heap: ArrayBuffer, params: Int32Array, scalars: Float32Array): void;
  /** Records the process's thread budget (reported by `info()`); products still use one thread (native/src/blas.h). */
  setThreads(threads: number): void;
  info(): BlasInfo;
  /** A native trainer (native/src/trainer.h); spec and scalars as in native/src/trainer-napi.cc. */
  trainerCreate(spec: Int32Array, scalars: Float32Array): NativeTrainerHandle;
  trainerSetParam(handle: NativeTrainerHandle, index: number, values: Float32Array): void;
  trainerGetParam(handle: NativeTrainerHandle, index: number, out: Float32Array): void;
  /** The point parameter `index` is pulled to (its layer's pull > 0; zero until set). */
  trainerSetAnchor(handle: NativeTrainerHandle, index: number, values: Float32Array): void;
  /** Writes [mean loss, correct predictions] of the batch (before the update) into `out`. */
  trainerStep(handle: NativeTrainerHandle, x: Float32Array, labels: Int32Array, rows: number, out: Float64Array): void;
  trainerForward(handle: NativeTrainerHandle, x: Float32Array, rows: number, logits: Float32Array): void;
}

/** An opaque native trainer (a JS external); freed when garbage-collected. */
export interface NativeTrainerHandle {
  readonly __nativeTrainer: unique symbol;
}

export type AddonLoad =
  { readonly ok: true; readonly addon: NativeKernels; readonly path: string } | { readonly ok: false; readonly reason: string };

/** `native/build/Release/defrost_kernels.node`, from `stages/lib/kernels` or `dist/stages/lib/kernels`. */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const inDist = here.endsWith(join('dist', 'stages', 'lib', 'kernels'));
  const root = join(here, inDist ? '../../../..' : '../../..');
  return join(root, 'native', 'build', 'Release', 'defrost_kernels.node');
}

let cached: AddonLoad | undefined;

export function loadNativeKernels(): AddonLoad {
  if (cached) return cached;
  const path = process.env.DEFROST_NATIVE_ADDON ?? addonPath();
  if (!existsSync(path)) {
    cached = {
      ok: false,
      reason: `the OpenBLAS kernels are not built (${path} is missing; run \`make native\`, which needs libopenblas-dev)`,
    };
    return cached;
  }
  // OpenBLAS reads this when it loads: idle pool threads spin on sched_yield for 2^N cycles
  // before sleeping (default N = 28, a tenth of a second). The addon never hands work to the pool
  // (one thread per product, native/src/blas.h), so this only shortens the spin of the threads
  // OpenBLAS starts when it loads.
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '20';
  try {
    const addon = createRequire(import.meta.url)(path) as NativeKernels;
    cached = { ok: true, addon, path };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    cached = { ok: false, reason: `the OpenBLAS kernels at ${path} failed to load: ${message}` };
  }
  return cached;
}
