/**
 * wasm-blas BatchMatMul and _FusedMatMul against the cpu backend on randomised shapes: every
 * transpose combination, batch broadcasting, odd and size-1 dims, bias and every activation.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../stages/lib/random.js';
import { assertMatchesCpu, randomArray, randomInt, requireAddon } from './kernels-helpers.js';

before(() => requireAddon());

const rng = new Rng(3, 'test/kernels-matmul');

function operandShapes(batchA: number[], batchB: number[], m: number, n: number, k: number, tA: boolean, tB: boolean) {
  return {
    a: [...batchA, ...(tA ? [k, m] : [m, k])],
    b: [...batchB, ...(tB ? [n, k] : [k, n])],
  };
}

test('BatchMatMul matches cpu: transposes, odd and size-1 dims, batches', async () => {
  const batchPairs: Array<[number[], number[]]> = [
    [[], []],
    [[3], [3]],
    [[1], [4]],
    [[4], [1]],
    [
      [2, 3],
      [2, 3],
    ],
  ];
  for (const [batchA, batchB] of batchPairs) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const m = randomInt(rng, 1, 37);
        const n = randomInt(rng, 1, 29);
        const k = randomInt(rng, 1, 41);
        const { a, b } = operandShapes(batchA, batchB, m, n, k, tA, tB);
        const av = randomArray(
          rng,
          a.reduce((x, y) => x * y, 1),
        );
        const bv = randomArray(
          rng,
          b.reduce((x, y) => x * y, 1),
        );
        await assertMatchesCpu(
          `matMul [${a}]x[${b}] tA=${tA} tB=${tB}`,
          () => tf.matMul(tf.tensor(av, a), tf.tensor(bv, b), tA, tB),
          'wasm-blas',
          1e-4,
          'matMul',
        );
      }
    }
  }
  // Size-1 everywhere and a large inner dimension.
  for (const [m, n, k] of [
    [1, 1, 1],
    [1, 7, 1],
    [5, 1, 300],
    [128, 10, 512],
  ]) {
    const av = randomArray(rng, m * k);
    const bv = randomArray(rng, k * n);
    await assertMatchesCpu(
      `matMul ${m}x${k} . ${k}x${n}`,
      () => tf.matMul(tf.tensor(av, [m, k]), tf.tensor(bv, [k, n])),
      'wasm-blas',
      1e-4,
      'matMul',
    );
  }
});

test('BatchMatMul broadcasts batch dims across axes ([2,1] x [1,3])', async () => {
  const av = randomArray(rng, 2 * 1 * 4 * 5);
  const bv = randomArray(rng, 1 * 3 * 5 * 6);
  // The cpu kernel maps batches by modulo; the reference broadcasts explicitly first.
  const { valuesOn, relativeError, nativeCalls } = await import('./kernels-helpers.js');
  const [expected] = await valuesOn('cpu', () =>
    tf.matMul(tf.broadcastTo(tf.tensor(av, [2, 1, 4, 5]), [2, 3, 4, 5]), tf.broadcastTo(tf.tensor(bv, [1, 3, 5, 6]), [2, 3, 5, 6])),
  );
  const [actual] = await valuesOn('wasm-blas', () => tf.matMul(tf.tensor(av, [2, 1, 4, 5]), tf.tensor(bv, [1, 3, 5, 6])));
  assert.ok((nativeCalls.get('matMul') ?? 0) > 0);
  assert.ok(relativeError(actual, expected) <= 1e-4, `relative error ${relativeError(actual, expected)}`);
});

test('_FusedMatMul matches cpu with bias and every activation', async () => {
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  for (const activation of activations) {
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const m = randomInt(rng, 1, 33);
      const n = randomInt(rng, 1, 19);
      const k = randomInt(rng, 1, 27);
      const { a, b } = operandShapes([], [], m, n, k, tA, tB);
      const av = randomArray(rng, m * k);
      const bv = randomArray(rng, k * n);
      const scalarBias = rng.uniform() < 0.3;
      const biasValues = randomArray(rng, scalarBias ? 1 : n);
      const alphaValues = randomArray(rng, n, 0.5);
      await assertMatchesCpu(
        `fused matMul ${activation} [${a}]x[${b}] tA=${tA} tB=${tB} bias=${scalarBias ? 'scalar' : n}`,
        () =>
          tf.fused.matMul({
            a: tf.tensor2d(av, a as [number, number]),
            b: tf.tensor2d(bv, b as [number, number]),
            transposeA: tA,
            transposeB: tB,
            bias: tf.tensor(biasValues, scalarBias ? [1] : [n]),
            activation,
            preluActivationWeights: activation === 'prelu' ? tf.tensor(alphaValues, [n]) : undefined,
            leakyreluAlpha: 0.15,
          }),
        'wasm-blas',
        1e-4,
        'matMul',
      );
    }
  }
});

test('_FusedMatMul without bias, and its gradient, match cpu', async () => {
  const av = randomArray(rng, 9 * 13);
  const bv = randomArray(rng, 13 * 6);
  const biasValues = randomArray(rng, 6);
  await assertMatchesCpu(
    'fused matMul relu, no bias',
    () => tf.fused.matMul({ a: tf.tensor2d(av, [9, 13]), b: tf.tensor2d(bv, [13, 6]), activation: 'relu' }),
    'wasm-blas',
    1e-4,
    'matMul',
  );
  await assertMatchesCpu('fused matMul gradients', () => {
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
      tf.fused
        .matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'elu' })
        .square()
        .sum(),
    );
    return grads([tf.tensor2d(av, [9, 13]), tf.tensor2d(bv, [13, 6]), tf.tensor1d(biasValues)]);
  });
});

test('kernels use the current wasm heap after it grows', async () => {
  const av = randomArray(rng, 64 * 96);
  const bv = randomArray(rng, 96 * 80);
  await assertMatchesCpu(
    'matMul after heap growth',
    () => {
      const a = tf.tensor2d(av, [64, 96]);
      const b = tf.tensor2d(bv, [96, 80]);
      // ~256 MB: more than the heap holds at this point, so wasm memory grows and the old
      // ArrayBuffer is detached; the kernels must fetch the new one.
      const big = tf.zeros([64 * 1024 * 1024]);
      const product = tf.matMul(a, b);
      big.dispose();
      return product;
    },
    'wasm-blas',
    1e-4,
    'matMul',
  );
});
