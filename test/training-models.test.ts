/**
 * Networks: blocks are addressable by index, copied and frozen exactly, re-initialised from the
 * seed, saved and loaded without change; `hiddenBlockOutputs` gives one 2-D matrix per block.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  blockCount,
  blockWeightValues,
  buildNetwork,
  hiddenBlockOutputs,
  loadNetwork,
  saveNetwork,
  trainableVariables,
} from '../stages/lib/models/models.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { CLASSES, DIM, TINY_MLP, sameBytes, useCpuBackend } from './training-fixtures.js';
import { scratchDir } from './stage-rig.js';

const dir = scratchDir('models');
before(useCpuBackend);
after(() => rmSync(dir, { recursive: true, force: true }));

test('the same seed and scope give the same weights; another seed or scope other weights', () => {
  const a = buildNetwork(TINY_MLP, 3, 'target/init');
  const b = buildNetwork(TINY_MLP, 3, 'target/init');
  const c = buildNetwork(TINY_MLP, 4, 'target/init');
  const d = buildNetwork(TINY_MLP, 3, 'source/init');
  for (const block of [1, 2, 3, 'readout'] as const) {
    assert.ok(sameBytes(blockWeightValues(a, block), blockWeightValues(b, block)), `block ${block}`);
    assert.ok(!sameBytes(blockWeightValues(a, block), blockWeightValues(c, block)), `block ${block}`);
    assert.ok(!sameBytes(blockWeightValues(a, block), blockWeightValues(d, block)), `block ${block}`);
  }
  tf.dispose([a, b, c, d].flatMap((m) => m.weights.map((w) => w.read())));
});

test('saveNetwork writes model.json + weights.bin that loadNetwork restores exactly, with stable bytes', async () => {
  const a = buildNetwork(TINY_MLP, 1, 's');
  const b = buildNetwork(TINY_MLP, 1, 's');
  await saveNetwork(a, join(dir, 'a'));
  await saveNetwork(b, join(dir, 'b'));
  for (const f of ['model.json', 'weights.bin'])
    assert.equal(Buffer.compare(readFileSync(join(dir, 'a', f)), readFileSync(join(dir, 'b', f))), 0, f);
  const json = JSON.parse(readFileSync(join(dir, 'a', 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);

  const loaded = await loadNetwork(join(dir, 'a'));
  assert.equal(blockCount(loaded), 3);
  for (const block of [1, 2, 3, 'readout'] as const) assert.ok(sameBytes(blockWeightValues(a, block), blockWeightValues(loaded, block)));
  const x = tf.randomNormal([5, DIM], 0, 1, 'float32', 1);
  assert.deepEqual((a.predict(x) as tf.Tensor).arraySync(), (loaded.predict(x) as tf.Tensor).arraySync());
});

test('hiddenBlockOutputs: one [N, width] matrix per block, and the last feeds the readout', () => {
  const net = buildNetwork(TINY_MLP, 2, 's');
  const x = tf.randomNormal([7, DIM], 0, 1, 'float32', 2);
  const before = tf.memory().numTensors;
  const outs = hiddenBlockOutputs(net, x);
  assert.deepEqual(
    outs.map((o) => o.shape),
    [
      [7, 16],
      [7, 16],
      [7, 16],
    ],
  );
  const viaReadout = net.getLayer('readout').apply(outs[2]) as tf.Tensor;
  const direct = net.predict(x) as tf.Tensor;
  assert.ok(tf.tidy(() => tf.abs(tf.sub(viaReadout, direct)).max().dataSync()[0]) < 1e-6);
  tf.dispose([...outs, viaReadout, direct]);
  assert.equal(tf.memory().numTensors, before);
});

test('CNN: conv blocks with pooling, flattened images accepted, outputs flattened per block', () => {
  const cnn = buildNetwork(
    { kind: 'cnn', hidden: [2, 3, 4], activation: 'relu', kernelSize: 3, poolAfter: [1, 2], inputShape: [8, 8, 1], classes: CLASSES },
    0,
    's',
  );
  assert.equal(blockCount(cnn), 3);
  const outs = hiddenBlockOutputs(cnn, tf.zeros([2, 64]));
  assert.deepEqual(
    outs.map((o) => o.shape),
    [
      [2, 4 * 4 * 2],
      [2, 2 * 2 * 3],
      [2, 2 * 2 * 4],
    ],
  );
  assert.deepEqual((cnn.predict(tf.zeros([2, 8, 8, 1])) as tf.Tensor).shape, [2, CLASSES]);
});

test('defrost transfer copies every hidden block, freezes 1..depth, keeps a fresh readout', () => {
  const source = buildNetwork(TINY_MLP, 0, 'source/init');
  const target = buildNetwork(TINY_MLP, 0, 'target/init');
  const freshReadout = blockWeightValues(target, 'readout');
  prepareTransfer(target, source, 'defrost', 2);
  for (const block of [1, 2, 3]) assert.ok(sameBytes(blockWeightValues(source, block), blockWeightValues(target, block)), `block ${block}`);
  assert.ok(sameBytes(blockWeightValues(target, 'readout'), freshReadout));
  // trainable: block 3 (kernel, bias) and the readout (kernel, bias)
  assert.equal(trainableVariables(target).length, 4);
  assert.deepEqual(
    target.layers.filter((l) => !l.trainable && l.name !== 'input').map((l) => l.name),
    ['block1_dense', 'block2_dense'],
  );
});

test('reinit transfer copies blocks 1..depth only; the others keep the seeded fresh weights', () => {
  const source = buildNetwork(TINY_MLP, 0, 'source/init');
  const scratch = buildNetwork(TINY_MLP, 0, 'target/init');
  const target = buildNetwork(TINY_MLP, 0, 'target/init');
  prepareTransfer(target, source, 'reinit', 1);
  assert.ok(sameBytes(blockWeightValues(source, 1), blockWeightValues(target, 1)));
  for (const block of [2, 3, 'readout'] as const) {
    assert.ok(!sameBytes(blockWeightValues(source, block), blockWeightValues(target, block)), `block ${block} differs from source`);
    assert.ok(sameBytes(blockWeightValues(scratch, block), blockWeightValues(target, block)), `block ${block} is the fresh init`);
  }
  assert.throws(() => prepareTransfer(target, buildNetwork({ ...TINY_MLP, hidden: [16, 16] }, 0, 's'), 'reinit', 1), /hidden blocks/);
  assert.throws(() => prepareTransfer(target, buildNetwork({ ...TINY_MLP, hidden: [16, 8, 16] }, 0, 's'), 'defrost', 0), /shape/);
});
