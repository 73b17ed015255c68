/**
 * Compute backend selection (docs/backends.md): `auto` picks the fastest available of
 * `tensorflow` (@tensorflow/tfjs-node, optional), `wasm-blas` (tfjs's wasm backend with its
 * matrix multiply and convolutions on OpenBLAS, see native/ and stages/lib/kernels/), `wasm`, `cpu`.
 *
 * This module is imported by the scheduler (through stages/project.ts) on every `defrost run`,
 * so it must stay light: TensorFlow.js, the wasm backend and the addon are loaded inside the
 * functions, only in the worker processes that train.
 */
import type { RuntimeInfo } from '../../../pipeline/project.js';
import { UsageError } from '../../../pipeline/errors.js';

export const backendNames = ['tensorflow', 'wasm-blas', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];
export type BackendChoice = BackendName | 'auto';

/** Why a backend could not be used, in words for the user. */
class Unavailable extends Error {}

function isBackendChoice(value: string): value is BackendChoice {
  return value === 'auto' || (backendNames as readonly string[]).includes(value);
}

/** Parses a backend name from the environment or command line; anything else is a usage error. */
export function parseBackendChoice(value: string | undefined, source: string): BackendChoice {
  const name = (value ?? 'auto').trim() || 'auto';
  if (!isBackendChoice(name)) {
    throw new UsageError(`${source}: got ${JSON.stringify(name)}; allowed: auto, ${backendNames.join(', ')}`);
  }
  return name;
}

function parseThreads(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UsageError(`DEFROST_THREADS: got ${JSON.stringify(value)}; allowed: a positive integer`);
  }
  return threads;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function loadTf(): Promise<typeof import('@tensorflow/tfjs')> {
  return import('@tensorflow/tfjs');
}

async function activate(tf: typeof import('@tensorflow/tfjs'), name: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new Unavailable(`tfjs backend '${name}' failed to initialise: ${reasonOf(error)}`);
  }
  if (!ok) throw new Unavailable(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

async function useTensorflow(threads: number): Promise<Record<string, string>> {
  // TensorFlow reads its thread pools' sizes when the native library loads.
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  // A variable specifier: the package is optional and may be absent at compile time too.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Unavailable(
      code === 'ERR_MODULE_NOT_FOUND'
        ? '@tensorflow/tfjs-node (an optional dependency) is not installed'
        : `@tensorflow/tfjs-node failed to load: ${reasonOf(error)}`,
    );
  }
  const tf = await loadTf();
  await activate(tf, 'tensorflow');
  return { tfjs: tf.version.tfjs };
}

/**
 * OpenBLAS picks its kernels by CPU model; on CPUs newer than the library (Debian's 0.3.21 on
 * Sapphire/Emerald Rapids, say) it falls back to its generic SSE3 'Prescott' kernels, which are
 * several times slower. We leave OPENBLAS_CORETYPE to the user (it is read when the library
 * loads), but say so.
 */
function genericCoreNote(corename: string): string | null {
  if (!/^(prescott|core2|katmai|coppermine|northwood|banias|atom|nehalem)$/i.test(corename)) return null;
  if (process.env.OPENBLAS_CORETYPE) return null;
  return (
    `OpenBLAS chose its generic '${corename}' kernels for this CPU (it predates the CPU model); ` +
    'if the CPU has AVX-512 or AVX2, setting OPENBLAS_CORETYPE=SkylakeX or Haswell in the environment makes wasm-blas faster'
  );
}

async function useWasm(withBlas: boolean, threads: number, notes: string[]): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  let addon: import('../kernels/native-addon.js').NativeKernels | null = null;
  if (withBlas) {
    const { loadNativeKernels } = await import('../kernels/native-addon.js');
    const loaded = loadNativeKernels();
    if (!loaded.ok) throw new Unavailable(loaded.reason);
    addon = loaded.addon;
    addon.setThreads(threads);
    const info = addon.info();
    versions.openblas = info.config;
    const note = genericCoreNote(info.corename);
    if (note) notes.push(note);
  }
  const tf = await loadTf();
  await import('@tensorflow/tfjs-backend-wasm');
  await activate(tf, 'wasm');
  const { installBlasKernels, installPlainWasmKernels } = await import('../kernels/register.js');
  if (addon) installBlasKernels(addon);
  else installPlainWasmKernels();
  if (addon) {
    // Imported graphs train on libtorch on this backend where its addon is built (train-step.ts);
    // without it they train on TensorFlow.js's step, which says so when a graph needs it.
    const { loadTorchAddon } = await import('../kernels/torch-addon.js');
    const torch = loadTorchAddon();
    if (torch.ok) versions.libtorch = torch.addon.info().torch;
  }
  versions.tfjs = tf.version.tfjs;
  // Which wasm binary tfjs loaded: Node gets the SIMD build but never the threaded one (tfjs
  // disables wasm threads under Node), so native kernels carry the heavy work.
  versions.wasm = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'simd' : 'plain';
  return versions;
}

async function useCpu(): Promise<Record<string, string>> {
  const tf = await loadTf();
  await activate(tf, 'cpu');
  return { tfjs: tf.version.tfjs };
}

async function tryBackend(name: BackendName, threads: number, notes: string[]): Promise<Record<string, string>> {
  switch (name) {
    case 'tensorflow':
      return useTensorflow(threads);
    case 'wasm-blas':
      return useWasm(true, threads, notes);
    case 'wasm':
      return useWasm(false, threads, notes);
    case 'cpu':
      return useCpu();
  }
}

/**
 * Makes `choice` the active TensorFlow.js backend with `threads` compute threads. `auto` walks
 * the list from the fastest and notes why each faster one was skipped; an explicitly named
 * backend that cannot be used is a UsageError carrying the reason.
 */
export async function selectBackend(choice: BackendChoice, threads = 1): Promise<RuntimeInfo> {
  const candidates: readonly BackendName[] = choice === 'auto' ? backendNames : [choice];
  const notes: string[] = [];
  const details: string[] = [];
  for (const name of candidates) {
    try {
      const versions = await tryBackend(name, threads, notes);
      return { backend: name, notes, details, versions };
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      if (choice !== 'auto') {
        throw new UsageError(`compute backend '${name}' is unavailable: ${error.message}`);
      }
      // tensorflow is an optional dependency: without it is the normal path (docs/backends.md),
      // said only with --verbose; a missing OpenBLAS is a slower fallback worth a note.
      (name === 'tensorflow' ? details : notes).push(`compute backend '${name}' unavailable: ${error.message}`);
    }
  }
  throw new UsageError(`no compute backend is available:\n  ${[...details, ...notes].join('\n  ')}`);
}

/**
 * Called once per worker process before its first stage instance, with the engine's thread
 * budget (one per worker by default). `DEFROST_BACKEND` (default `auto`) chooses the backend;
 * `DEFROST_THREADS`, when set, overrides the thread count.
 */
export async function initRuntime(threads: number): Promise<RuntimeInfo> {
  const choice = parseBackendChoice(process.env.DEFROST_BACKEND, 'DEFROST_BACKEND');
  const count = parseThreads(process.env.DEFROST_THREADS, Math.max(1, Math.floor(threads) || 1));
  return selectBackend(choice, count);
}
