/**
 * The transfer protocols beyond a frozen prefix (stages/lib/models/transfer-modes/,
 * docs/science.md#beyond-freezing-a-prefix), each pinned by its defining property through the real
 * training loop: surgical trains block b alone, LP-FT's first phase moves only the readout, LLRD
 * scales each block's update by its decay, L2-SP at zero strength is full fine-tuning bit for bit,
 * and gradual unfreezing leaves block k untouched before its stage. The ones that touch the train
 * step itself run on the native step (wasm-blas) as well as on TensorFlow.js (cpu).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../stages/lib/models/backend.js';
import { blockWeightValues, buildNetwork } from '../stages/lib/models/models.js';
import { createStepper } from '../stages/lib/models/train-step.js';
import { trainNetwork, type TrainRecipe } from '../stages/lib/models/training.js';
import { anchorsOf, phaseTuning } from '../stages/lib/models/phases.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import type { TransferMode } from '../stages/lib/models/transfer-modes/registry.js';
import { CLASSES, RECIPE, TINY_MLP, linearTask, sameBytes } from './training-fixtures.js';
import { requireAddon } from './kernels-helpers.js';

const train = linearTask(200, 'train');
const validation = linearTask(100, 'protocols-validation');
const STOPPING: TrainRecipe = {
  ...RECIPE,
  min_steps: 0,
  early_stopping: { patience: 3, max_epochs: 15, monitor: 'val_accuracy', check_steps: 1 },
};
const PARTS = [1, 2, 3, 'readout'] as const;
type Part = (typeof PARTS)[number];
const weightsOf = (net: tf.LayersModel, part: Part): Float32Array[] => blockWeightValues(net, part).map((w) => w.slice());

after(() => selectBackend('cpu', 1));

/** A fresh target network prepared from the source for `mode` at `setting`, and its schedule. */
function transferred(mode: TransferMode, setting: number, options: Record<string, number> = {}) {
  const source = buildNetwork(TINY_MLP, 0, 'source/init');
  const net = buildNetwork(TINY_MLP, 1, 'target/init');
  const schedule = prepareTransfer(net, source, mode, setting, options);
  source.dispose();
  return { net, schedule, initial: new Map(PARTS.map((p) => [p, weightsOf(net, p)])) };
}

const run = (net: tf.LayersModel, recipe: TrainRecipe, schedule: Parameters<typeof trainNetwork>[2]['schedule']) =>
  trainNetwork(net, train, { recipe, validation, seed: 1, classes: CLASSES, label: 'protocol', schedule });

test('surgical at b = 2: every block but block 2 is bit-identical after training; block 2 and the readout learn', async () => {
  await selectBackend('cpu', 1);
  const { net, schedule, initial } = transferred('surgical', 2);
  await run(net, STOPPING, schedule);
  for (const block of [1, 3] as const) assert.ok(sameBytes(weightsOf(net, block), initial.get(block) ?? []), `block ${block} untouched`);
  for (const part of [2, 'readout'] as const) assert.ok(!sameBytes(weightsOf(net, part), initial.get(part) ?? []), `${part} learns`);
  net.dispose();
  assert.throws(() => transferred('surgical', 0), /b is a whole number in 1\.\.3/);
  assert.throws(() => transferred('surgical', 3, { width: 2 }), /1\.\.2/);
});

test('LP-FT: phase 1 changes only the readout; phase 2 starts from it and fine-tunes every block', async () => {
  await selectBackend('cpu', 1);
  const probe = transferred('lp-ft', 0);
  assert.equal(probe.schedule.length, 2);
  const first = await run(probe.net, STOPPING, probe.schedule.slice(0, 1));
  for (const block of [1, 2, 3] as const)
    assert.ok(sameBytes(weightsOf(probe.net, block), probe.initial.get(block) ?? []), `block ${block}`);
  assert.ok(!sameBytes(weightsOf(probe.net, 'readout'), probe.initial.get('readout') ?? []), 'the readout learns in phase 1');

  const full = transferred('lp-ft', 0);
  const both = await run(full.net, STOPPING, full.schedule);
  assert.deepEqual(both.curve.slice(0, first.curve.length), first.curve, 'phase 1 of the full run is the probe');
  assert.ok(both.curve.length > first.curve.length, 'phase 2 trains');
  for (const block of [1, 2, 3] as const)
    assert.ok(!sameBytes(weightsOf(full.net, block), full.initial.get(block) ?? []), `block ${block} fine-tuned`);
  probe.net.dispose();
  full.net.dispose();
});

for (const backend of ['cpu', 'wasm-blas'] as const) {
  test(`LLRD on ${backend}: one SGD step moves block b by gamma^(L+1-b) times the step of plain fine-tuning`, async () => {
    if (backend === 'wasm-blas') requireAddon();
    await selectBackend(backend, 1);
    const oneStep: TrainRecipe = {
      ...RECIPE,
      optimizer: 'sgd',
      learning_rate: 0.1,
      batch_size: 200,
      epochs: 1,
      min_steps: 0,
      early_stopping: null,
    };
    const gamma = 0.5;
    const decayed = transferred('llrd', gamma);
    const plain = transferred('llrd', 1);
    const tuning = phaseTuning(decayed.net, decayed.schedule[0], new Map());
    const stepper = createStepper(decayed.net, { kind: 'sgd', learningRate: 0.1, momentum: 0, classes: CLASSES, tuning });
    assert.equal(stepper.kind, backend === 'cpu' ? 'tfjs' : 'native', 'the step that runs');
    stepper.dispose();
    await run(decayed.net, oneStep, decayed.schedule);
    await run(plain.net, oneStep, plain.schedule);
    for (const part of PARTS) {
      const expected = part === 'readout' ? 1 : gamma ** (3 + 1 - part);
      const start = decayed.initial.get(part) ?? [];
      const a = weightsOf(decayed.net, part);
      const b = weightsOf(plain.net, part);
      let worst = 0;
      let moved = 0;
      a.forEach((w, t) =>
        w.forEach((value, i) => {
          const step = b[t][i] - start[t][i];
          if (Math.abs(step) < 1e-3) return;
          moved++;
          worst = Math.max(worst, Math.abs((value - start[t][i]) / step - expected));
        }),
      );
      assert.ok(moved > 10, `${part}: ${moved} weights moved`);
      assert.ok(worst < 0.01 * expected, `${part}: update ratio off by ${worst} from ${expected}`);
    }
    decayed.net.dispose();
    plain.net.dispose();
  });

  test(`L2-SP on ${backend}: zero penalty is plain fine-tuning bit for bit; a strong one stays nearer the source`, async () => {
    if (backend === 'wasm-blas') requireAddon();
    await selectBackend(backend, 1);
    const zero = transferred('l2sp', 0);
    const fine = transferred('defrost', 0);
    const strong = transferred('l2sp', 1);
    const a = await run(zero.net, STOPPING, zero.schedule);
    const b = await run(fine.net, STOPPING, fine.schedule);
    await run(strong.net, STOPPING, strong.schedule);
    assert.deepEqual(a, b);
    for (const part of PARTS) assert.ok(sameBytes(weightsOf(zero.net, part), weightsOf(fine.net, part)), `${part} bit-identical`);
    const distance = (net: tf.LayersModel) =>
      [1, 2, 3].reduce((sum, block) => {
        const start = zero.initial.get(block as Part) ?? [];
        return sum + weightsOf(net, block as Part).reduce((s, w, t) => s + w.reduce((q, v, i) => q + (v - start[t][i]) ** 2, 0), 0);
      }, 0);
    assert.ok(distance(strong.net) < distance(zero.net), `alpha = 1 moved ${distance(strong.net)}, alpha = 0 ${distance(zero.net)}`);
    for (const t of [zero, fine, strong]) t.net.dispose();
  });
}

test('gradual: block k is untouched before its stage (readout first, then block 3, 2, 1)', async () => {
  await selectBackend('cpu', 1);
  // 200 rows at batch 100: 2 steps per epoch, so a stage of 3 steps is 2 epochs.
  const recipe: TrainRecipe = { ...STOPPING, batch_size: 100 };
  const { net, schedule, initial } = transferred('gradual', 0, { stage_steps: 3 });
  assert.deepEqual(
    schedule.map((p) => [p.trained, p.length]),
    [
      [[], { steps: 3 }],
      [[3], { steps: 3 }],
      [[2, 3], { steps: 3 }],
      [[1, 2, 3], 'converge'],
    ],
  );
  const firstMoved = new Map<Part, number>();
  await trainNetwork(net, train, {
    recipe,
    validation,
    seed: 1,
    classes: CLASSES,
    label: 'gradual',
    schedule,
    // On cpu the TensorFlow.js step updates the network in place: its weights are current here.
    onEpoch: (record) => {
      for (const part of PARTS)
        if (!firstMoved.has(part) && !sameBytes(weightsOf(net, part), initial.get(part) ?? [])) firstMoved.set(part, record.epoch);
    },
  });
  assert.deepEqual(Object.fromEntries(firstMoved), { readout: 1, 3: 3, 2: 5, 1: 7 });
  net.dispose();
});

test('L2-SP on a CNN with pooling: every weighted layer of a block is anchored; a layer without weights has no tuning', async () => {
  await selectBackend('cpu', 1);
  const cnn = {
    kind: 'cnn',
    hidden: [2, 3],
    activation: 'relu',
    kernelSize: 3,
    poolAfter: [1],
    inputShape: [6, 6, 1],
    classes: CLASSES,
  } as const;
  const source = buildNetwork(cnn, 0, 'source/init');
  const net = buildNetwork(cnn, 1, 'target/init');
  const [phase] = prepareTransfer(net, source, 'l2sp', 0.1, {});
  source.dispose();
  const tuning = phaseTuning(net, phase, anchorsOf(net, [1, 2]));
  const pooling = net.layers.filter((l) => l.getWeights().length === 0 && l.getClassName().includes('Pool'));
  assert.ok(pooling.length > 0, 'the network pools after block 1');
  for (const layer of pooling) assert.ok(!tuning.has(layer.name), `${layer.name} untouched`);
  const anchored = [...tuning.values()].filter((t) => t.pull === 0.1 && t.anchor !== null);
  assert.equal(anchored.length, 2, 'one convolution per block, each pulled to its source weights');
  net.dispose();
});
