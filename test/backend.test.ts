/**
 * Backend selection (docs/backends.md): auto's choice and notes, explicit choices, errors for
 * unknown or unavailable backends, thread control, and that importing the module stays light.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { UsageError } from '../pipeline/errors.js';
import { ProgressView } from '../pipeline/progress.js';
import { initRuntime, parseBackendChoice, selectBackend } from '../stages/lib/models/backend.js';
import { loadNativeKernels } from '../stages/lib/kernels/native-addon.js';

/**
 * Whether @tensorflow/tfjs-node loads, not merely resolves: an install whose native binding was
 * never fetched (its install script skipped or failed offline) leaves a package folder that
 * resolves and then fails to load, and auto must then pick wasm-blas like when it is absent.
 */
const tfjsNodeLoads = (() => {
  try {
    execFileSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('auto picks wasm-blas when tfjs-node is absent or does not load; why tensorflow was not used is said only with --verbose', async () => {
  const info = await selectBackend('auto', 1);
  if (tfjsNodeLoads) {
    assert.equal(info.backend, 'tensorflow');
    return;
  }
  const addon = loadNativeKernels();
  assert.ok(addon.ok, addon.ok ? '' : addon.reason);
  assert.equal(info.backend, 'wasm-blas');
  // The optional dependency absent is the normal path: a detail, not a note every run prints.
  assert.doesNotMatch(info.notes.join('\n'), /tensorflow/);
  assert.match((info.details ?? []).join('\n'), /tensorflow.*@tensorflow\/tfjs-node/);
  const shown = (verbose: boolean): string => {
    let text = '';
    const out = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WritableStream;
    new ProgressView(out, { verbose }).runtime({ backend: info.backend, notes: info.notes, details: info.details });
    return text;
  };
  assert.equal(shown(false), 'compute backend: wasm-blas\n');
  assert.match(shown(true), /^compute backend: wasm-blas \(compute backend 'tensorflow' unavailable: /);
  assert.equal(info.versions.tfjs, '4.22.0');
  assert.match(info.versions.openblas ?? '', /OpenBLAS/);
  const tf = await import('@tensorflow/tfjs');
  assert.equal(tf.getBackend(), 'wasm');
});

test('explicit backends: wasm and cpu switch the tfjs backend; unavailable ones are errors with the reason', async () => {
  const tf = await import('@tensorflow/tfjs');
  assert.equal((await selectBackend('cpu', 1)).backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const wasm = await selectBackend('wasm', 1);
  assert.equal(wasm.backend, 'wasm');
  assert.deepEqual(wasm.notes, []);
  assert.equal(tf.getBackend(), 'wasm');
  if (!tfjsNodeLoads) {
    await assert.rejects(selectBackend('tensorflow', 1), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /'tensorflow' is unavailable: @tensorflow\/tfjs-node .*(not installed|failed to load)/);
      return true;
    });
  }
});

test('initRuntime reads DEFROST_BACKEND and DEFROST_THREADS; bad values are usage errors naming what is allowed', async () => {
  const saved = { backend: process.env.DEFROST_BACKEND, threads: process.env.DEFROST_THREADS };
  try {
    process.env.DEFROST_BACKEND = 'cpu';
    delete process.env.DEFROST_THREADS;
    assert.equal((await initRuntime(1)).backend, 'cpu');
    process.env.DEFROST_BACKEND = 'wasm-blas';
    process.env.DEFROST_THREADS = '2';
    assert.equal((await initRuntime(1)).backend, 'wasm-blas');
    const addon = loadNativeKernels();
    assert.ok(addon.ok);
    assert.equal(addon.addon.info().threads, 2);
    delete process.env.DEFROST_THREADS;
    await initRuntime(1);
    assert.equal(addon.addon.info().threads, 1, 'one BLAS thread per worker by default');
    process.env.DEFROST_THREADS = 'many';
    await assert.rejects(initRuntime(1), /DEFROST_THREADS: got "many"; allowed: a positive integer/);
    process.env.DEFROST_BACKEND = 'gpu';
    await assert.rejects(initRuntime(1), /DEFROST_BACKEND: got "gpu"; allowed: auto, tensorflow, wasm-blas, wasm, cpu/);
  } finally {
    for (const [key, value] of [
      ['DEFROST_BACKEND', saved.backend],
      ['DEFROST_THREADS', saved.threads],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  assert.throws(() => parseBackendChoice('wasm_blas', '--backend'), UsageError);
  assert.equal(parseBackendChoice(undefined, '--backend'), 'auto');
});

test('importing stages/backend.js does not load TensorFlow.js (the scheduler imports it)', () => {
  const script =
    "import('./dist/stages/lib/models/backend.js').then(() => { const loaded = Object.keys(require.cache).some((p) => p.includes('@tensorflow')); console.log(loaded ? 'loaded' : 'light'); })";
  const output = execFileSync(process.execPath, ['-e', script], { cwd: process.cwd(), encoding: 'utf8' });
  assert.equal(output.trim(), 'light');
});
