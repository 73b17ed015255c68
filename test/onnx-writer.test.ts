/**
 * A TensorFlow.js layers network written as ONNX (docs/your-data.md#the-model-out): for networks
 * holding every layer and activation the TensorFlow.js source path accepts (dense chains, strided
 * 'same'/'valid' convolutions, depthwise, separable, grouped and dilated ones, pooling, BatchNorm,
 * zero padding, flatten, reshape, 1-D layers, residual merges and concatenation), onnxruntime's
 * output on a batch equals TensorFlow.js's to 1e-4, opset 13, the input NHWC with a dynamic batch; a
 * layer with no ONNX form is refused naming it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import '../stages/lib/models/layers/register.js';
import { selectBackend } from '../stages/lib/models/backend.js';
import { GroupedConv2D } from '../stages/lib/models/layers/grouped-conv2d.js';
import { decodeOnnx } from '../stages/lib/models/onnx/proto.js';
import { onnxWriteProblem } from '../stages/lib/models/source-network/onnx-writer.js';
import { layersModelToOnnx } from '../stages/lib/models/source-network/write-back.js';
import { Rng } from '../stages/lib/random.js';
import { maxAbsDiff } from './onnx-fixtures.js';

/** Every weight of `model` drawn from `rng` (variances positive), so no layer is an identity. */
function randomize(model: tf.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const variance = w.originalName.endsWith('moving_variance');
      return tf.tensor(
        Float32Array.from({ length: size }, () => (variance ? 0.5 + rng.uniform() : rng.uniform() - 0.5)),
        w.shape as number[],
      );
    });
    if (values.length > 0) layer.setWeights(values);
    tf.dispose(values);
  }
}

/** Max abs difference between onnxruntime on the written ONNX and TensorFlow.js, on `batch` inputs. */
async function disagreement(model: tf.LayersModel, batch: number, seed: number, t: TestContext): Promise<number> {
  const rng = new Rng(seed, 'onnx-writer');
  randomize(model, rng);
  const shape = [batch, ...(model.inputs[0].shape.slice(1) as number[])];
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.uniform() - 1);
  const bytes = layersModelToOnnx(model);
  assert.equal(decodeOnnx(bytes).opsets.get(''), 13);
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['logits']);
  const out = (await session.run({ input: new ort.Tensor('float32', x, shape) })).logits;
  const expected = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
  assert.deepEqual(out.dims, [batch, ...(model.outputs[0].shape.slice(1) as number[])]);
  const diff = maxAbsDiff(out.data as Float32Array, expected);
  t.diagnostic(`max abs diff onnxruntime vs TensorFlow.js: ${diff.toExponential(2)}`);
  return diff;
}

/** `layers` applied in order from an input of `shape`, functional. */
function chain(shape: number[], layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape, name: 'x' });
  const output = layers.reduce<tf.SymbolicTensor>((t, l) => l.apply(t) as tf.SymbolicTensor, input);
  return tf.model({ inputs: input, outputs: output });
}

test('a dense network with every activation, BatchNorm, noise layers and reshape: onnxruntime equals TensorFlow.js', async (t) => {
  await selectBackend('cpu', 1);
  const activations = [
    'relu6',
    'elu',
    'selu',
    'sigmoid',
    'hardSigmoid',
    'softplus',
    'softsign',
    'tanh',
    'swish',
    'mish',
    'gelu',
    'gelu_new',
  ] as const;
  const model = chain(
    [12],
    [
      tf.layers.dense({ units: 16, activation: 'relu', name: 'd1' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.batchNormalization({ name: 'bn' }),
      ...activations.flatMap((a) => [tf.layers.dense({ units: 16, name: `d_${a}` }), tf.layers.activation({ activation: a })]),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.elu({}),
      tf.layers.reLU({ maxValue: 0.4 }),
      tf.layers.gaussianNoise({ stddev: 1 }),
      tf.layers.gaussianDropout({ rate: 0.3 }),
      tf.layers.dense({ units: 16, activation: 'softmax', useBias: false }),
      tf.layers.softmax({}),
      tf.layers.reshape({ targetShape: [4, 4] }),
      tf.layers.dense({ units: 3, activation: 'tanh' }),
      tf.layers.flatten({}),
      tf.layers.batchNormalization({ scale: false, center: false }),
      tf.layers.dense({ units: 5, name: 'readout' }),
    ],
  );
  const diff = await disagreement(model, 16, 1, t);
  assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  model.dispose();
});

test('a CNN with strided, valid, dilated, depthwise and separable convolutions, pooling, BatchNorm and flatten: onnxruntime equals TensorFlow.js', async (t) => {
  await selectBackend('cpu', 1);
  const model = chain(
    [12, 12, 2],
    [
      tf.layers.zeroPadding2d({
        padding: [
          [1, 0],
          [2, 1],
        ],
      }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.batchNormalization({}),
      tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], padding: 'valid' }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, dilationRate: 2, padding: 'same', useBias: false }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'elu' }),
      tf.layers.separableConv2d({ filters: 6, kernelSize: 3, strides: 1, padding: 'same', depthMultiplier: 2 }),
      tf.layers.conv2d({ filters: 4, kernelSize: [2, 1], strides: [1, 2], padding: 'valid' }),
      tf.layers.averagePooling2d({ poolSize: [1, 2], strides: 1, padding: 'valid' }),
      tf.layers.maxPooling2d({ poolSize: [1, 1] }),
      tf.layers.flatten({}),
      tf.layers.dense({ units: 7, activation: 'relu' }),
      tf.layers.dense({ units: 3, name: 'readout' }),
    ],
  );
  const diff = await disagreement(model, 8, 2, t);
  assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  model.dispose();
});

test('a residual graph with every merge, concatenation along channels and height, and global pooling: onnxruntime equals TensorFlow.js', async (t) => {
  await selectBackend('cpu', 1);
  const input = tf.input({ shape: [6, 6, 3] });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add({}).apply([a, b]) as tf.SymbolicTensor;
  const merged = [
    sum,
    tf.layers.multiply({}).apply([a, b, sum]) as tf.SymbolicTensor,
    tf.layers.average({}).apply([a, b, sum]) as tf.SymbolicTensor,
    tf.layers.maximum({}).apply([a, b]) as tf.SymbolicTensor,
    tf.layers.minimum({}).apply([a, sum]) as tf.SymbolicTensor,
  ];
  const channels = tf.layers.concatenate({ axis: -1 }).apply(merged) as tf.SymbolicTensor;
  const rows = tf.layers.concatenate({ axis: 1 }).apply([a, tf.layers.reLU({}).apply(b) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const pooled = tf.layers
    .concatenate({})
    .apply([
      tf.layers.globalAveragePooling2d({}).apply(channels) as tf.SymbolicTensor,
      tf.layers.globalMaxPooling2d({}).apply(rows) as tf.SymbolicTensor,
      tf.layers.flatten({}).apply(rows) as tf.SymbolicTensor,
    ]) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 4 }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  const diff = await disagreement(model, 8, 3, t);
  assert.ok(diff < 1e-4, `max abs diff ${diff}`);
  model.dispose();
});

test('1-D layers, a dense layer on a sequence, and a grouped dilated convolution: onnxruntime equals TensorFlow.js', async (t) => {
  await selectBackend('cpu', 1);
  const sequence = chain(
    [10, 3],
    [
      tf.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling1d({ poolSize: 2 }),
      tf.layers.averagePooling1d({ poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.batchNormalization({}),
      tf.layers.conv1d({ filters: 5, kernelSize: 2, strides: 2, padding: 'valid' }),
      tf.layers.spatialDropout1d({ rate: 0.5 }),
      tf.layers.dense({ units: 3, activation: 'sigmoid' }),
      tf.layers.flatten({}),
      tf.layers.dense({ units: 2 }),
    ],
  );
  const diff1 = await disagreement(sequence, 8, 4, t);
  assert.ok(diff1 < 1e-4, `1-D: max abs diff ${diff1}`);
  sequence.dispose();

  const input = tf.input({ shape: [7, 7, 4] });
  const grouped = new GroupedConv2D({ filters: 6, groups: 2, kernelSize: [3, 3], dilationRate: [2, 1], padding: 'same', strides: [2, 1] });
  const global = tf.layers.globalAveragePooling2d({}).apply(grouped.apply(input)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(global) as tf.SymbolicTensor });
  const diff2 = await disagreement(model, 4, 5, t);
  assert.ok(diff2 < 1e-4, `grouped: max abs diff ${diff2}`);
  model.dispose();
});

test('a layer with no ONNX form is refused naming it; every layer of a checked network passes', () => {
  const layer = (name: string, className: string, config: Record<string, unknown>, inbound: string[]) => ({
    name,
    className,
    config,
    inbound,
  });
  const network = {
    inputName: 'in',
    inputShape: [4],
    output: 'out',
    layers: [
      layer('hidden', 'Dense', { units: 4 }, ['in']),
      layer('over_batch', 'Softmax', { axis: 0 }, ['hidden']),
      layer('out', 'Dense', { units: 2 }, ['over_batch']),
    ],
  };
  assert.match(onnxWriteProblem(network) ?? '', /layer "over_batch" \(Softmax\) cannot be written as ONNX: .*batch axis/);
  assert.equal(onnxWriteProblem({ ...network, layers: [network.layers[0], { ...network.layers[2], inbound: ['hidden'] }] }), null);
});
