/**
 * A result must not depend on the thread budget (docs/performance.md, "Threads"): the budget
 * follows `--jobs`, which is not part of an instance's key. OpenBLAS's own threading changes the
 * summation order of a product, so the addon computes on one thread whatever the budget; these
 * products are large enough that OpenBLAS would otherwise share them among its threads.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../stages/lib/models/backend.js';
import { loadNativeKernels, type NativeKernels } from '../stages/lib/kernels/native-addon.js';
import { Rng } from '../stages/lib/random.js';
import { randomArray, requireAddon } from './kernels-helpers.js';

let addon: NativeKernels;
before(() => {
  requireAddon();
  const load = loadNativeKernels();
  if (load.ok) addon = load.addon;
});

const rng = new Rng(5, 'test/kernels-threads');

async function bytesWithBudget(threads: number, compute: () => tf.Tensor): Promise<Buffer> {
  await selectBackend('wasm-blas', threads);
  addon.setThreads(threads);
  const t = tf.tidy(compute);
  const bytes = Buffer.from(t.dataSync().buffer);
  t.dispose();
  return bytes;
}

test('sgemm and convolution give identical bytes with a budget of 1, 2 and 4 threads', async () => {
  const a = randomArray(rng, 2048 * 256);
  const b = randomArray(rng, 256 * 256);
  const product = () => tf.matMul(tf.tensor2d(a, [2048, 256]), tf.tensor2d(b, [256, 256])); // 134 M multiply-adds
  const images = randomArray(rng, 16 * 28 * 28 * 32);
  const filters = randomArray(rng, 3 * 3 * 32 * 32, 0.2);
  const conv = () => tf.conv2d(tf.tensor4d(images, [16, 28, 28, 32]), tf.tensor4d(filters, [3, 3, 32, 32]), 1, 'same'); // 115 M
  for (const [what, compute] of [
    ['2048 x 256 x 256 product', product],
    ['3 x 3 x 32 -> 32 convolution of 16 28 x 28 images', conv],
  ] as const) {
    const one = await bytesWithBudget(1, compute);
    for (const threads of [2, 4])
      assert.ok((await bytesWithBudget(threads, compute)).equals(one), `${what}: ${threads} threads changed the bytes`);
  }
});
