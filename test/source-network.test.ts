/**
 * A pre-trained network from outside defrost (plain TensorFlow.js layers code, its own layer
 * names): blocks derived or named, canonical form keeps its weights, target networks get a fresh
 * readout and seeded weights, and defrost's transfer copies and freezes its blocks at every depth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { blockCount, blockWeightValues } from '../stages/lib/models/models.js';
import { canonicalSourceNetwork, targetNetworkLike } from '../stages/lib/models/source-network/canonical.js';
import { deriveBlocks, inputShapeFits, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { DataFileError } from '../stages/lib/formats/problem.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { foreignCnn, saveLayersModel } from './source-network-fixture.js';

test('a plain TensorFlow.js network: blocks derived, canonical weights kept, transferred at every depth', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-source-'));
  try {
    const original = foreignCnn();
    const file = await saveLayersModel(original, dir);
    const model = readSourceModel(file);
    assert.deepEqual(model.topology.inputShape, [8, 8, 1]);
    const blocks = deriveBlocks(file, model.topology, null);
    assert.deepEqual(blocks.blocks, [['stem_conv', 'stem_pool'], ['mid_conv', 'mid_relu', 'flat'], ['features']]);
    assert.equal(blocks.readout, 'probabilities');
    const named = deriveBlocks(file, model.topology, [['stem_conv', 'stem_pool', 'mid_conv', 'mid_relu'], ['features']]);
    assert.deepEqual(named.blocks, [['stem_conv', 'stem_pool', 'mid_conv', 'mid_relu', 'flat'], ['features']]);
    assert.throws(() => deriveBlocks(file, model.topology, [['nope']]), DataFileError);
    assert.ok(inputShapeFits([8, 8, 1], [8, 8, 1]) && inputShapeFits([64], [8, 8, 1]) && !inputShapeFits([7, 7, 1], [8, 8, 1]));

    const source = await canonicalSourceNetwork(model, blocks);
    assert.equal(blockCount(source), 3);
    assert.deepEqual(
      blockWeightValues(source, 3),
      original
        .getLayer('features')
        .getWeights()
        .map((w) => w.dataSync()),
    );
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
    // Same blocks, same readout weights, but logits instead of probabilities.
    const probabilities = Array.from((original.predict(x) as tf.Tensor).dataSync());
    const fromLogits = Array.from(tf.softmax(source.predict(x) as tf.Tensor).dataSync());
    assert.deepEqual(
      fromLogits.map((v) => v.toFixed(5)),
      probabilities.map((v) => v.toFixed(5)),
    );

    for (let depth = 0; depth <= 3; depth++) {
      for (const mode of ['defrost', 'reinit'] as const) {
        const target = await targetNetworkLike(source, 2, 7, 'target/init');
        const again = await targetNetworkLike(source, 2, 7, 'target/init');
        assert.deepEqual(blockWeightValues(target, 'readout'), blockWeightValues(again, 'readout'), 'seeded init');
        assert.equal((target.outputs[0].shape as number[])[1], 2);
        prepareTransfer(target, source, mode, depth);
        for (let b = 1; b <= 3; b++) {
          const copied = mode === 'defrost' || b <= depth;
          assert.equal(
            blockWeightValues(target, b).every((w, i) => w.every((v, k) => v === blockWeightValues(source, b)[i][k])),
            copied,
            `${mode} depth ${depth} block ${b} copied`,
          );
          assert.equal(
            target.layers.filter((l) => l.name.startsWith(`block${b}_`)).every((l) => l.trainable),
            b > depth,
          );
        }
        target.dispose();
        again.dispose();
      }
    }
    source.dispose();
    original.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('networks defrost cannot use are refused with the file and the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-source-'));
  try {
    const file = await saveLayersModel(foreignCnn(), dir);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.alloc(10));
    assert.throws(() => readSourceModel(file), /model\.json: the weight files hold 10 bytes/);
    assert.throws(() => readSourceModel(join(dir, 'missing.json')), /missing\.json: no such file/);
    writeFileSync(join(dir, 'graph.json'), JSON.stringify({ format: 'graph-model' }));
    assert.throws(
      () => readSourceModel(join(dir, 'graph.json')),
      /a TensorFlow.js graph model, which cannot be fine-tuned; defrost reads ONNX files/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
