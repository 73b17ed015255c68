/**
 * The seeded training loop: it learns, it is bit-for-bit repeatable, frozen blocks do not move,
 * divergence fails the instance with a clear message, early stopping restores the best epoch, and
 * nothing leaks.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../pipeline/errors.js';
import { blockWeightValues, buildNetwork } from '../stages/lib/models/models.js';
import { evaluateNetwork, plannedEpochs, trainNetwork, type TrainRecipe } from '../stages/lib/models/training.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { CLASSES, RECIPE, TINY_MLP, linearTask, sameBytes, useCpuBackend } from './training-fixtures.js';

before(useCpuBackend);
const train = linearTask(200, 'train');
const test_ = linearTask(300, 'test');
const options = (recipe: TrainRecipe = RECIPE, seed = 0) => ({ recipe, seed, classes: CLASSES, label: 'test-run' });

test('a small task is learned: test accuracy far above chance (1/3)', async () => {
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  const before = evaluateNetwork(net, test_, CLASSES);
  const result = await trainNetwork(net, train, options({ ...RECIPE, epochs: 10 }));
  const after = evaluateNetwork(net, test_, CLASSES);
  assert.ok(after.accuracy > 0.75, `accuracy ${after.accuracy}`);
  assert.ok(after.loss < before.loss, `loss ${before.loss} -> ${after.loss}`);
  assert.equal(result.curve.length, 10);
  assert.ok(result.curve[9].loss < result.curve[0].loss);
  net.dispose();
});

test('min_steps adds epochs for small n; steps and epochs are reported', async () => {
  assert.deepEqual(plannedEpochs({ ...RECIPE, epochs: 2, min_steps: 30, batch_size: 32 }, 20), {
    epochs: 30,
    batchSize: 20,
    stepsPerEpoch: 1,
    checkEvery: 30,
  });
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  const r = await trainNetwork(net, linearTask(40, 'small'), options({ ...RECIPE, epochs: 1, min_steps: 9, batch_size: 16 }));
  assert.equal(r.trainSteps, 9);
  assert.equal(r.epochs, 3);
  assert.equal(r.stoppedBy, 'budget');
  assert.equal(r.validation, null);
  net.dispose();
});

test('same seed => bit-identical weights and metrics; another seed => different', async () => {
  const runOnce = async (seed: number) => {
    const net = buildNetwork(TINY_MLP, seed, 'target/init');
    const r = await trainNetwork(net, train, options(RECIPE, seed));
    const weights = [1, 2, 3, 'readout'].flatMap((b) => blockWeightValues(net, b as number | 'readout'));
    const e = evaluateNetwork(net, test_, CLASSES);
    net.dispose();
    return { weights, curve: r.curve, e };
  };
  const a = await runOnce(5);
  const b = await runOnce(5);
  const c = await runOnce(6);
  assert.ok(sameBytes(a.weights, b.weights));
  assert.deepEqual(a.curve, b.curve);
  assert.deepEqual(a.e, b.e);
  assert.ok(!sameBytes(a.weights, c.weights));
});

test('frozen blocks are bit-identical after training; the others and the readout move', async () => {
  const source = buildNetwork(TINY_MLP, 0, 'source/init');
  for (const mode of ['defrost', 'reinit'] as const) {
    const net = buildNetwork(TINY_MLP, 1, 'target/init');
    prepareTransfer(net, source, mode, 2);
    const initial = [1, 2, 3, 'readout'].map((b) => blockWeightValues(net, b as number | 'readout').map((w) => w.slice()));
    await trainNetwork(net, train, options({ ...RECIPE, optimizer: 'momentum', epochs: 2 }, 1));
    assert.ok(sameBytes(blockWeightValues(net, 1), initial[0]), `${mode}: block 1 frozen`);
    assert.ok(sameBytes(blockWeightValues(net, 2), initial[1]), `${mode}: block 2 frozen`);
    assert.ok(sameBytes(blockWeightValues(net, 1), blockWeightValues(source, 1)), `${mode}: block 1 is the source's`);
    assert.ok(!sameBytes(blockWeightValues(net, 3), initial[2]), `${mode}: block 3 trains`);
    assert.ok(!sameBytes(blockWeightValues(net, 'readout'), initial[3]), `${mode}: readout trains`);
    net.dispose();
  }
  source.dispose();
});

test('a diverging run (huge learning rate) fails with a StageFailure naming the epoch and the learning rate', async () => {
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  await assert.rejects(
    trainNetwork(net, train, options({ ...RECIPE, optimizer: 'sgd', learning_rate: 1e12, epochs: 5 })),
    (error: unknown) =>
      error instanceof StageFailure &&
      /test-run: training diverged at epoch \d+/.test(error.message) &&
      /learning_rate \(now 1000000000000\)/.test(error.message),
  );
  net.dispose();
});

const allWeights = (net: tf.LayersModel): Float32Array[] => ([1, 2, 3, 'readout'] as const).flatMap((b) => blockWeightValues(net, b));

const STOPPING = { patience: 3, max_epochs: 40, monitor: 'val_loss', check_steps: 1 } as const;

test('early stopping watches the given validation set, restores the best check and says why it stopped', async () => {
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  const validation = linearTask(100, 'es-validation');
  const r = await trainNetwork(net, linearTask(60, 'es'), {
    ...options({ ...RECIPE, learning_rate: 0.05, min_steps: 0, early_stopping: STOPPING }),
    validation,
  });
  assert.ok(r.curve.every((e) => e.val_loss !== null && e.val_accuracy !== null));
  const bestVal = Math.min(...r.curve.map((e) => e.val_loss as number));
  assert.equal(r.curve[r.bestEpoch - 1].val_loss, bestVal);
  assert.ok(r.epochs < 40, `stopped early: ${r.epochs} epochs`);
  assert.equal(r.epochs - r.bestEpoch, 3);
  assert.equal(r.stoppedBy, 'patience');
  // The restored weights are the best check's: the recorded validation result is theirs.
  const now = evaluateNetwork(net, validation, CLASSES);
  assert.equal(r.validation?.loss, bestVal);
  assert.ok(Math.abs(now.loss - bestVal) < 1e-6, `${now.loss} vs ${bestVal}`);
  net.dispose();
});

test('the budget ends training when patience does not; checks come every check_steps steps for short epochs', async () => {
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  // 20 rows at batch 32: one step per epoch, so a check every 5 epochs; patience 100 never fires.
  const recipe = {
    ...RECIPE,
    min_steps: 0,
    early_stopping: { patience: 100, max_epochs: 12, monitor: 'val_accuracy', check_steps: 5 },
  } as const;
  assert.deepEqual(plannedEpochs(recipe, 20), { epochs: 12, batchSize: 20, stepsPerEpoch: 1, checkEvery: 5 });
  const r = await trainNetwork(net, linearTask(20, 'budget'), { ...options(recipe), validation: linearTask(50, 'budget-validation') });
  assert.equal(r.stoppedBy, 'budget');
  assert.equal(r.epochs, 12);
  assert.deepEqual(
    r.curve.filter((e) => e.val_accuracy !== null).map((e) => e.epoch),
    [5, 10, 12],
  );
  net.dispose();
});

test('a list of learning rates: each starts from the same weights, the best on validation is kept', async () => {
  const data = linearTask(80, 'rates');
  const validation = linearTask(100, 'rates-validation');
  const recipe = { ...RECIPE, min_steps: 0, early_stopping: { ...STOPPING, max_epochs: 15 } };
  const single = async (rate: number) => {
    const net = buildNetwork(TINY_MLP, 0, 'target/init');
    const r = await trainNetwork(net, data, { ...options({ ...recipe, learning_rate: rate }), validation });
    const weights = allWeights(net);
    net.dispose();
    return { r, weights };
  };
  const slow = await single(1e-5);
  const fast = await single(0.03);
  assert.ok((fast.r.validation as { loss: number }).loss < (slow.r.validation as { loss: number }).loss);
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  const both = await trainNetwork(net, data, { ...options({ ...recipe, learning_rate: [1e-5, 0.03] }), validation });
  assert.equal(both.learningRate, 0.03);
  assert.deepEqual(both.validation, fast.r.validation);
  assert.ok(sameBytes(allWeights(net), fast.weights), 'the kept weights are those of the 0.03 run from the same start');
  net.dispose();
  await assert.rejects(
    trainNetwork(buildNetwork(TINY_MLP, 0, 'target/init'), data, options({ ...recipe, learning_rate: [0.01, 0.03] })),
    /need a validation set/,
  );
});

test('an aborted signal stops training between batches with a StageFailure', async () => {
  const net = buildNetwork(TINY_MLP, 0, 'target/init');
  const controller = new AbortController();
  const run = trainNetwork(net, train, {
    ...options({ ...RECIPE, epochs: 1000 }),
    signal: controller.signal,
    onEpoch: (r) => r.epoch === 2 && controller.abort(),
  });
  await assert.rejects(run, (e: unknown) => e instanceof StageFailure && /test-run: interrupted/.test(e.message));
  net.dispose();
});

test('no tensors leak over repeated trainings', async () => {
  const start = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const net = buildNetwork(TINY_MLP, i, 'target/init');
    await trainNetwork(net, train, {
      ...options({ ...RECIPE, learning_rate: [0.01, 0.02], min_steps: 0, early_stopping: { ...STOPPING, patience: 1, max_epochs: 2 } }, i),
      validation: test_,
    });
    evaluateNetwork(net, test_, CLASSES);
    net.dispose();
  }
  assert.equal(tf.memory().numTensors, start);
});
