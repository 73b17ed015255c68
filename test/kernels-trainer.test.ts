/**
 * The native training step (stages/lib/kernels/native-trainer.ts, native/src/trainer.cc) against
 * the TensorFlow.js step on cpu: the same recipe gives the same loss curve and weights up to
 * floating-point order, for MLPs and CNNs, frozen leading blocks, every optimizer and every
 * activation it implements. It is what wasm-blas uses for the study's networks, it falls back
 * (saying why) for what it does not implement, and it is deterministic.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../stages/lib/models/backend.js';
import { buildNetwork, type Activation, type NetworkSpec } from '../stages/lib/models/models.js';
import { Rng } from '../stages/lib/random.js';
import { createStepper, type StepperOptions } from '../stages/lib/models/train-step.js';
import { evaluateNetwork } from '../stages/lib/models/training.js';
import { assertMatchesCpu, nativeCalls, randomArray, requireAddon, valuesOn } from './kernels-helpers.js';

before(() => requireAddon());

const mlp = (activation: Activation): NetworkSpec => ({
  kind: 'mlp',
  hidden: [24, 16, 16],
  activation,
  kernelSize: 3,
  poolAfter: [],
  inputShape: [20],
  classes: 3,
});

const cnn: NetworkSpec = {
  kind: 'cnn',
  hidden: [4, 8, 8],
  activation: 'relu',
  kernelSize: 3,
  poolAfter: [1],
  inputShape: [9, 9, 1],
  classes: 3,
};

/**
 * `steps` steps on seeded batches of 16 with the first `frozen` layers not trainable; returns
 * the loss curve, the hit counts and every weight afterwards.
 */
function training(
  spec: NetworkSpec,
  options: StepperOptions,
  frozen: number,
  steps: number,
  tuningOf?: (model: tf.LayersModel) => StepperOptions['tuning'],
): () => tf.Tensor[] {
  const dim = spec.inputShape.reduce((a, b) => a * b, 1);
  const rng = new Rng(5, 'test/trainer');
  const batches = Array.from({ length: steps }, () => ({
    x: randomArray(rng, 16 * dim),
    y: Int32Array.from({ length: 16 }, () => Math.floor(rng.uniform() * spec.classes)),
  }));
  return () => {
    const model = buildNetwork(spec, 3, 'test/init');
    model.layers.filter((l) => l.getWeights().length > 0).forEach((l, i) => (l.trainable = i >= frozen));
    const stepper = createStepper(model, { ...options, tuning: tuningOf?.(model) });
    const losses: number[] = [];
    const hits: number[] = [];
    for (const b of batches) {
      const r = stepper.step(b.x, b.y, 16);
      losses.push(r.loss);
      hits.push(r.hits);
    }
    stepper.sync();
    const weights = model.getWeights().map((w) => tf.clone(w));
    stepper.dispose();
    model.dispose();
    return [tf.tensor1d(losses), tf.tensor1d(hits), ...weights];
  };
}

const adam: StepperOptions = { kind: 'adam', learningRate: 0.01, momentum: 0, classes: 3 };

test('the native step follows the TensorFlow.js step on cpu: MLP, every activation, frozen blocks', async () => {
  for (const activation of ['relu', 'tanh', 'sigmoid', 'elu', 'linear'] as const) {
    await assertMatchesCpu(`MLP ${activation}`, training(mlp(activation), adam, 1, 12), 'wasm-blas', 1e-3, 'trainerStep');
  }
  await assertMatchesCpu('MLP, all hidden blocks frozen', training(mlp('relu'), adam, 3, 6), 'wasm-blas', 1e-3, 'trainerStep');
});

test('the native step follows the TensorFlow.js step on cpu: sgd and momentum', async () => {
  await assertMatchesCpu(
    'MLP sgd',
    training(mlp('relu'), { ...adam, kind: 'sgd', learningRate: 0.1 }, 0, 10),
    'wasm-blas',
    1e-3,
    'trainerStep',
  );
  await assertMatchesCpu(
    'MLP momentum',
    training(mlp('relu'), { ...adam, kind: 'momentum', learningRate: 0.05, momentum: 0.9 }, 0, 10),
    'wasm-blas',
    1e-3,
    'trainerStep',
  );
});

test('the native step follows the TensorFlow.js step on cpu: CNN with pooling, frozen first block', async () => {
  await assertMatchesCpu('CNN', training(cnn, adam, 0, 8), 'wasm-blas', 1e-3, 'trainerStep');
  await assertMatchesCpu('CNN, block 1 frozen', training(cnn, adam, 1, 8), 'wasm-blas', 1e-3, 'trainerStep');
});

/**
 * The protocols' tuning (docs/science.md#beyond-freezing-a-prefix): per-layer learning-rate
 * multipliers and L2 pulls, towards an anchor or towards zero, on a frozen first block.
 */
function protocolTuning(model: tf.LayersModel): StepperOptions['tuning'] {
  const rng = new Rng(11, 'test/anchor');
  const anchor = (name: string) =>
    model
      .getLayer(name)
      .getWeights()
      .map((w) => randomArray(rng, w.size, 0.3));
  return new Map([
    ['block2_dense', { rateScale: 0.25, pull: 0.5, anchor: anchor('block2_dense') }],
    ['block3_dense', { rateScale: 0.5, pull: 0, anchor: null }],
    ['readout', { rateScale: 1, pull: 0.1, anchor: null }],
  ]);
}

test('the native step follows the TensorFlow.js step on cpu with learning-rate multipliers and L2 pulls', async () => {
  for (const optimizer of [adam, { ...adam, kind: 'sgd', learningRate: 0.1 }, { ...adam, kind: 'momentum', momentum: 0.9 }] as const)
    await assertMatchesCpu(
      `MLP ${optimizer.kind}, tuned`,
      training(mlp('relu'), optimizer, 1, 10, protocolTuning),
      'wasm-blas',
      1e-3,
      'trainerSetAnchor',
    );
});

test('wasm-blas takes the native step for the study networks and is deterministic; other cases fall back', async () => {
  const first = await valuesOn('wasm-blas', training(cnn, adam, 1, 4));
  const second = await valuesOn('wasm-blas', training(cnn, adam, 1, 4));
  first.forEach((values, i) => assert.deepEqual(values, second[i], `output ${i} differs between two identical runs`));

  await selectBackend('wasm-blas', 1);
  const model = buildNetwork(mlp('relu'), 1, 'test/init');
  assert.equal(createStepper(model, adam).kind, 'native');
  assert.equal(createStepper(model, { ...adam, native: false }).kind, 'tfjs');
  model.dispose();
  const selu = buildNetwork(mlp('selu'), 1, 'test/init');
  assert.equal(createStepper(selu, adam).kind, 'tfjs', 'selu is not implemented natively');
  selu.dispose();
  await selectBackend('cpu', 1);
  const onCpu = buildNetwork(mlp('relu'), 1, 'test/init');
  assert.equal(createStepper(onCpu, adam).kind, 'tfjs');
  onCpu.dispose();
  nativeCalls.clear();
});

test('evaluation through the native forward pass matches TensorFlow.js on cpu (MLP and CNN)', async () => {
  for (const spec of [mlp('tanh'), cnn]) {
    const dim = spec.inputShape.reduce((a, b) => a * b, 1);
    const rng = new Rng(8, 'test/evaluate');
    const rows = 300;
    const data = {
      features: randomArray(rng, rows * dim),
      labels: Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * 3)),
      rows,
    };
    const compute = () => {
      const model = buildNetwork(spec, 4, 'test/init');
      const result = evaluateNetwork(model, data, 3);
      model.dispose();
      return tf.tensor1d([result.accuracy, result.loss]);
    };
    await assertMatchesCpu(`${spec.kind} evaluation`, compute, 'wasm-blas', 1e-5, 'trainerForward');
  }
});

test("the native step's own evaluation equals evaluating the synced network", async () => {
  await selectBackend('wasm-blas', 1);
  const rng = new Rng(9, 'test/own-evaluation');
  const rows = 200;
  const data = {
    features: randomArray(rng, rows * 81),
    labels: Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * 3)),
    rows,
  };
  const model = buildNetwork(cnn, 2, 'test/init');
  const stepper = createStepper(model, adam);
  assert.equal(stepper.kind, 'native');
  for (let i = 0; i < 3; i++) stepper.step(data.features, data.labels, 16);
  const own = stepper.evaluate(data);
  stepper.sync();
  assert.deepEqual(own, evaluateNetwork(model, data, 3));
  model.dispose();
});
