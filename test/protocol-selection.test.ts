/**
 * Stopping, selection and test are disjoint jobs (docs/protocol.md): the selection split never
 * influences training (another selection set changes no trained weight, no curve, no stopping
 * decision: only the selection scores), and test accuracy never influences l* or its plausible set.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { computeOptimalDepth } from '../stages/lib/report/optimal-depth.js';
import type { ResultRow } from '../stages/lib/tables/report-tables.js';
import { Rng } from '../stages/lib/random.js';
import { trainScratchStage } from '../stages/training/train-scratch.js';
import { runTrainScratch } from '../stages/training/training-job.js';
import { scratchDir, stageContext } from './stage-rig.js';
import { CLASSES, DIM, linearTask, useCpuBackend } from './training-fixtures.js';

const root = scratchDir('protocol-selection');
before(useCpuBackend);
after(() => rmSync(root, { recursive: true, force: true }));

function writeTask(name: string, selectionStream: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const meta = { shape: [DIM], classes: Array.from({ length: CLASSES }, (_, i) => `c${i}`), provenance: { test: name } };
  writeDataset(join(dir, 'train.arrow'), { ...linearTask(120, 'task/train', 8), ...meta });
  writeDataset(join(dir, 'validation.arrow'), { ...linearTask(100, 'task/validation', 8), ...meta });
  writeDataset(join(dir, 'selection.arrow'), { ...linearTask(100, selectionStream, 8), ...meta });
  writeDataset(join(dir, 'test.arrow'), { ...linearTask(200, 'task/test', 8), ...meta });
  return dir;
}

const params = {
  model: { kind: 'mlp' as const, hidden: [16, 16], activation: 'relu' as const, kernel_size: 3, pool_after: [] },
  train: {
    optimizer: 'adam' as const,
    learning_rate: [0.01, 0.003],
    momentum: 0.9,
    batch_size: 32,
    epochs: 2,
    min_steps: 20,
    early_stopping: { patience: 2, max_epochs: 8, monitor: 'val_accuracy' as const, check_steps: 1 },
  },
  seed: 0,
  correlation: 0.9,
  n: 60,
  validation: 'external' as const,
};

test('another selection set changes no trained weight, curve or stopping decision: only the selection scores', async () => {
  const outs: string[] = [];
  for (const [name, stream] of [
    ['a', 'task/selection'],
    ['b', 'task/other-selection'],
  ] as const) {
    const ctx = stageContext(trainScratchStage, {
      params,
      inputs: { data: { dir: writeTask(name, stream) }, architecture: [] },
      outDir: join(root, `out-${name}`),
    });
    await runTrainScratch(ctx.ctx);
    outs.push(ctx.outDir);
  }
  const bytes = (dir: string, file: string): Buffer => readFileSync(join(dir, file));
  assert.equal(Buffer.compare(bytes(outs[0], 'model/weights.bin'), bytes(outs[1], 'model/weights.bin')), 0, 'trained weights');
  assert.equal(Buffer.compare(bytes(outs[0], 'curve.arrow'), bytes(outs[1], 'curve.arrow')), 0, 'learning curve');
  const [a, b] = outs.map((dir) => tableFromIPC(bytes(dir, 'metrics.arrow')));
  for (const column of ['test_accuracy', 'validation_accuracy', 'best_epoch', 'stopped_by', 'learning_rate', 'train_steps'])
    assert.equal(a.getChild(column)?.get(0), b.getChild(column)?.get(0), column);
  assert.notEqual(a.getChild('selection_accuracy')?.get(0), b.getChild('selection_accuracy')?.get(0), 'the selection score itself moves');
});

test('test accuracy never influences l* or the plausible set', () => {
  const rng = new Rng(3, 'protocol-selection');
  const rows: ResultRow[] = [];
  for (const seed of [0, 1, 2, 3, 4])
    for (const depth of [0, 1, 2, 3])
      rows.push({
        correlation: 0.9,
        n: 50,
        mode: 'defrost',
        depth,
        setting: null,
        seed,
        task_seed: null,
        test_accuracy: 0.7 + 0.02 * depth + 0.01 * rng.normal(),
        test_loss: 0.5,
        validation_accuracy: 0.9 - 0.05 * depth,
        selection_accuracy: 0.8 - 0.01 * Math.abs(depth - 1) + 0.01 * rng.normal(),
        best_epoch: 3,
        stopped_by: 'patience',
        learning_rate: 0.001,
        train_steps: 10,
        seconds: 1,
      });
  const [before] = computeOptimalDepth(rows, [], 3);
  // Scramble test accuracy (and the stopping split's): the choice must not move.
  const scrambled = rows.map((r) => ({ ...r, test_accuracy: rng.uniform(), validation_accuracy: rng.uniform() }));
  const [after] = computeOptimalDepth(scrambled, [], 3);
  assert.equal(after.optimal_depth, before.optimal_depth);
  assert.deepEqual(after.plausible_depths, before.plausible_depths);
  assert.equal(after.optimal_selection_accuracy, before.optimal_selection_accuracy);
  assert.notEqual(after.optimal_accuracy, before.optimal_accuracy, 'what is reported on test does move');
});
