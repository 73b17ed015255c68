/**
 * Imported ONNX networks train (docs/your-data.md#batchnorm): each fixture's loss falls on
 * wasm-blas (depthwise, grouped and dilated convolutions have gradients there); after a transfer
 * at depth l and training, every weight and BatchNorm statistic of blocks 1..l is bit-identical to
 * the source, while the trainable blocks' weights and running statistics moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../stages/lib/models/backend.js';
import { DefrostBatchNormalization } from '../stages/lib/models/layers/batch-normalization.js';
import { blockCount, blockLayers, blockWeightValues } from '../stages/lib/models/models.js';
import { canonicalSourceNetwork, targetNetworkLike } from '../stages/lib/models/source-network/canonical.js';
import { deriveBlocks, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { trainNetwork } from '../stages/lib/models/training.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { Rng } from '../stages/lib/random.js';
import { FIXTURES } from './onnx-fixtures.js';

async function sourceOf(file: string): Promise<tf.LayersModel> {
  const path = join(FIXTURES, file);
  const model = readSourceModel(path);
  return canonicalSourceNetwork(model, deriveBlocks(path, model.topology, null));
}

function task(
  rows: number,
  shape: readonly number[],
  classes: number,
  stream: string,
): { features: Float32Array; labels: Int32Array; rows: number } {
  const rng = new Rng(4, stream);
  const dim = shape.reduce((a, b) => a * b, 1);
  const labels = Int32Array.from({ length: rows }, (_, i) => i % classes);
  const features = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) for (let k = 0; k < dim; k++) features[i * dim + k] = rng.normal() + (k % classes === labels[i] ? 1 : 0);
  return { features, labels, rows };
}

const recipe = {
  optimizer: 'adam' as const,
  learning_rate: 0.01,
  momentum: 0.9,
  batch_size: 16,
  epochs: 2,
  min_steps: 0,
  early_stopping: null,
};

test('every imported fixture trains on wasm-blas: the loss falls', async () => {
  await selectBackend('wasm-blas', 1);
  for (const file of ['resnet8-opset13.onnx', 'mobile-opset17.onnx', 'mixed-opset13.onnx']) {
    const source = await sourceOf(file);
    const model = await targetNetworkLike(source, 3, 1, 'target/init');
    prepareTransfer(model, source, 'defrost', 0);
    const shape = (model.inputs[0].shape as number[]).slice(1);
    const result = await trainNetwork(model, task(48, shape, 3, file), {
      recipe: { ...recipe, epochs: 4 },
      seed: 1,
      classes: 3,
      label: file,
    });
    assert.ok(
      result.curve[result.curve.length - 1].loss < result.curve[0].loss,
      `${file}: ${result.curve.map((r) => r.loss.toFixed(3)).join(' ')}`,
    );
    source.dispose();
    model.dispose();
  }
});

test('after a transfer at depth l, blocks 1..l (weights and BatchNorm statistics) are bit-identical to the source', async () => {
  await selectBackend('wasm-blas', 1);
  const source = await sourceOf('resnet8-opset13.onnx');
  const L = blockCount(source);
  assert.equal(L, 4);
  const data = task(32, [32, 32, 3], 3, 'freeze');
  for (const depth of [1, 3]) {
    const model = await targetNetworkLike(source, 3, 2, 'target/init');
    prepareTransfer(model, source, 'defrost', depth);
    await trainNetwork(model, data, { recipe, seed: 2, classes: 3, label: `depth ${depth}` });
    for (let b = 1; b <= L; b++) {
      const same = blockWeightValues(model, b).every((w, i) =>
        Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(
          Buffer.from(blockWeightValues(source, b)[i].buffer, blockWeightValues(source, b)[i].byteOffset, w.byteLength),
        ),
      );
      assert.equal(same, b <= depth, `depth ${depth}, block ${b}: ${b <= depth ? 'frozen, must be unchanged' : 'trainable, must move'}`);
      // The running statistics themselves: kept when frozen, updated when trainable.
      for (const layer of blockLayers(model, b).filter((l) => l.getClassName() === 'BatchNormalization')) {
        const mean = layer.getWeights()[2].dataSync();
        const original = source.getLayer(layer.name).getWeights()[2].dataSync();
        assert.equal(
          mean.every((v, k) => v === original[k]),
          b <= depth,
          `${layer.name} moving mean at depth ${depth}`,
        );
      }
    }
    model.dispose();
  }
  source.dispose();
});

test('the JavaScript depthwise convolution gradients of wasm equal the cpu backend', async () => {
  const gradients = (): Float32Array[] => {
    const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 3, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
    const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf
        .depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')
        .square()
        .sum();
    return tf
      .grads(loss)([x, f])
      .map((g) => g.dataSync() as Float32Array);
  };
  await selectBackend('wasm', 1);
  const wasm = gradients();
  await selectBackend('cpu', 1);
  const cpu = gradients();
  wasm.forEach((g, i) =>
    assert.ok(
      g.every((v, k) => Math.abs(v - cpu[i][k]) <= 1e-4 * (1 + Math.abs(cpu[i][k]))),
      `gradient ${i}`,
    ),
  );
});

test("a trainable BatchNorm's output, gradients and running statistics equal TensorFlow.js's batchNorm differentiated automatically", async () => {
  const [n, h, w, c] = [4, 5, 3, 6];
  const epsilon = 1e-5;
  const momentum = 0.9;
  const x = (): tf.Tensor4D => tf.randomNormal([n, h, w, c], 1.5, 2, 'float32', 3);
  const weights = (): tf.Tensor4D => tf.randomNormal([n, h, w, c], 0, 1, 'float32', 4);
  const gamma = Float32Array.from({ length: c }, (_, k) => 0.5 + k / 4);
  const beta = Float32Array.from({ length: c }, (_, k) => k / 10 - 0.2);
  const runningMean = Float32Array.from({ length: c }, (_, k) => k / 3);
  const runningVariance = Float32Array.from({ length: c }, (_, k) => 1 + k);

  // The reference: the layer's formula in plain TensorFlow.js operations, gradients by the tape.
  await selectBackend('cpu', 1);
  const reference = tf.tidy(() => {
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b, g, epsilon), weights()));
    };
    const { mean, variance } = tf.moments(x(), [0, 1, 2]);
    const count = n * h * w;
    return {
      output: tf.batchNorm(x(), mean, variance, tf.tensor1d(beta), tf.tensor1d(gamma), epsilon).dataSync(),
      gradients: tf
        .grads(loss)([x(), tf.tensor1d(gamma), tf.tensor1d(beta)])
        .map((g) => g.dataSync()),
      movingMean: tf.add(tf.mul(runningMean, momentum), tf.mul(mean, 1 - momentum)).dataSync(),
      movingVariance: tf.add(tf.mul(runningVariance, momentum), tf.mul(variance, ((1 - momentum) * count) / (count - 1))).dataSync(),
    };
  });

  for (const backend of ['cpu', 'wasm-blas'] as const) {
    await selectBackend(backend, 1);
    const layer = new DefrostBatchNormalization({ momentum, epsilon });
    layer.build([null, h, w, c]);
    layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(runningMean), tf.tensor1d(runningVariance)]);
    const output = tf.tidy(() => (layer.apply(x(), { training: true }) as tf.Tensor).dataSync());
    const [movingMean, movingVariance] = layer
      .getWeights()
      .slice(2)
      .map((t) => t.dataSync());
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x(), { training: true }) as tf.Tensor, weights())));
    const dx = tf
      .grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a, { training: true }) as tf.Tensor, weights())))(x())
      .dataSync();
    const [dgamma, dbeta] = layer.trainableWeights.map((v) => grads[v.name].dataSync());
    const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
      assert.equal(got.length, want.length, what);
      for (let k = 0; k < want.length; k++)
        assert.ok(Math.abs(got[k] - want[k]) <= 1e-4 * (1 + Math.abs(want[k])), `${backend} ${what}[${k}]: ${got[k]} vs ${want[k]}`);
    };
    close(output, reference.output, 'output');
    close(movingMean, reference.movingMean, 'moving mean');
    close(movingVariance, reference.movingVariance, 'moving variance');
    close(dx, reference.gradients[0], 'dx');
    close(dgamma, reference.gradients[1], 'dgamma');
    close(dbeta, reference.gradients[2], 'dbeta');
  }
});
