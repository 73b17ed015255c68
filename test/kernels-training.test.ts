/**
 * End to end on wasm-blas (and plain wasm for the CNN, through the JavaScript
 * Conv2DBackpropFilter): gradients of a small MLP and CNN match cpu, the fused Adam step matches
 * tfjs's own Adam, and a short training run follows the same loss curve as on cpu.
 */
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../stages/lib/random.js';
import { assertMatchesCpu, randomArray, requireAddon } from './kernels-helpers.js';

before(() => requireAddon());

function smallMlp(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [20], units: 16, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 16, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 3 }));
  return model;
}

function smallCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 3 }));
  return model;
}

/** The same seeded weights on every backend (layers' own initialisers use Math.random). */
function seeded(model: tf.Sequential, seed: number): tf.Sequential {
  const rng = new Rng(seed, 'test/weights');
  model.setWeights(model.getWeights().map((w) => tf.tensor(randomArray(rng, w.size, 0.5), w.shape)));
  return model;
}

interface Batch {
  x: Float32Array;
  labels: Int32Array;
}

function batchFor(shape: number[], rows: number, seed: number): Batch {
  const rng = new Rng(seed, 'test/batch');
  const x = randomArray(rng, rows * shape.reduce((a, b) => a * b, 1));
  const labels = Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * 3));
  return { x, labels };
}

function lossOf(model: tf.Sequential, batch: Batch, shape: number[]): tf.Scalar {
  const x = tf.tensor(batch.x, [batch.labels.length, ...shape]);
  const target = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), 3);
  return tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
}

function gradientsOf(build: () => tf.Sequential, shape: number[]): () => tf.Tensor[] {
  const batch = batchFor(shape, 24, 1);
  return () => {
    const model = seeded(build(), 2);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => lossOf(model, batch, shape), variables);
    const result = [value, ...variables.map((v) => grads[v.name])];
    model.dispose();
    return result;
  };
}

function lossCurve(build: () => tf.Sequential, shape: number[], steps: number): () => tf.Tensor {
  const batch = batchFor(shape, 32, 3);
  return () => {
    const model = seeded(build(), 4);
    const optimizer = tf.train.adam(0.01);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      losses.push(tf.tidy(() => (optimizer.minimize(() => lossOf(model, batch, shape), true, variables) as tf.Scalar).dataSync()[0]));
    }
    optimizer.dispose();
    model.dispose();
    return tf.tensor1d(losses);
  };
}

test('gradients of a small MLP and CNN match cpu on wasm-blas', async () => {
  await assertMatchesCpu('MLP gradients', gradientsOf(smallMlp, [20]), 'wasm-blas', 1e-4, 'matMul');
  await assertMatchesCpu('CNN gradients', gradientsOf(smallCnn, [8, 8, 1]), 'wasm-blas', 1e-4, 'conv2dBackpropFilter');
});

test('CNN gradients match cpu on plain wasm (JavaScript Conv2DBackpropFilter)', async () => {
  await assertMatchesCpu('CNN gradients on wasm', gradientsOf(smallCnn, [8, 8, 1]), 'wasm', 1e-4);
});

test('the fused Adam step matches tfjs Adam (cpu and stock wasm)', async () => {
  const rng = new Rng(6, 'test/adam');
  const w0 = randomArray(rng, 300 * 7);
  const grads = Array.from({ length: 4 }, () => randomArray(rng, 300 * 7));
  const run = () => {
    const w = tf.variable(tf.tensor2d(w0, [300, 7]));
    const optimizer = tf.train.adam(0.05, 0.8, 0.95, 1e-6);
    for (const g of grads)
      optimizer.applyGradients({ [w.name]: tf.tensor2d(g, [300, 7]) } as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    const result = tf.clone(w);
    optimizer.dispose();
    w.dispose();
    return result;
  };
  await assertMatchesCpu('Adam updates (fused)', run, 'wasm-blas', 1e-6, 'adam');
  await assertMatchesCpu('Adam updates (stock wasm)', run, 'wasm', 1e-6);
});

test('a short training run follows the cpu loss curve (MLP and CNN, Adam)', async () => {
  await assertMatchesCpu('MLP loss curve', lossCurve(smallMlp, [20], 15), 'wasm-blas', 1e-3, 'adam');
  await assertMatchesCpu('CNN loss curve', lossCurve(smallCnn, [8, 8, 1], 10), 'wasm-blas', 1e-3, 'conv2d');
});
