/**
 * The three training stages end to end on small Arrow datasets, with a hand-made context: their
 * outputs (network, curve, metrics), summaries, byte-for-byte repeatability, the transfer
 * stage reading the source network, and both target stages on an imported network's architecture.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { tableFromIPC } from 'apache-arrow';
import { StageFailure } from '../pipeline/errors.js';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { importSourceStage } from '../stages/data/import-source.js';
import { fingerprintSourceModel, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { trainScratchStage } from '../stages/training/train-scratch.js';
import { trainSourceStage } from '../stages/training/train-source.js';
import { runTrainScratch, runTrainSource, runTransfer } from '../stages/training/training-job.js';
import { trainingSubsetOrder } from '../stages/lib/tasks/subsets.js';
import { transferStage } from '../stages/training/transfer.js';
import { saveLayersModel } from './source-network-fixture.js';
import { runStage, scratchDir, stageContext } from './stage-rig.js';
import { CLASSES, DIM, linearTask, useCpuBackend } from './training-fixtures.js';

const root = scratchDir('training-stages');
before(useCpuBackend);
after(() => rmSync(root, { recursive: true, force: true }));

function writeTask(name: string, trainRows: number, teacherSeed: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const meta = { shape: [DIM], classes: Array.from({ length: CLASSES }, (_, i) => `c${i}`), provenance: { test: name } };
  writeDataset(join(dir, 'train.arrow'), { ...linearTask(trainRows, `${name}/train`, teacherSeed), ...meta });
  writeDataset(join(dir, 'validation.arrow'), { ...linearTask(100, `${name}/validation`, teacherSeed), ...meta });
  writeDataset(join(dir, 'selection.arrow'), { ...linearTask(100, `${name}/selection`, teacherSeed), ...meta });
  writeDataset(join(dir, 'test.arrow'), { ...linearTask(200, `${name}/test`, teacherSeed), ...meta });
  return dir;
}

let counter = 0;
/** A fresh output directory under the test's root. */
const outDir = (): string => join(root, `out-${counter++}`);

const model = { kind: 'mlp' as const, hidden: [16, 16], activation: 'relu' as const, kernel_size: 3, pool_after: [] };
const train = {
  optimizer: 'adam' as const,
  learning_rate: 0.01,
  momentum: 0.9,
  batch_size: 32,
  epochs: 2,
  min_steps: 20,
  early_stopping: { patience: 2, max_epochs: 6, monitor: 'val_loss' as const, check_steps: 1 },
};

test('train-source, train-scratch and transfer write their outputs and summaries, repeatably', async () => {
  const sourceData = writeTask('source', 300, 7);
  const targetData = writeTask('target', 120, 8);

  const src = stageContext(trainSourceStage, {
    params: { model, train, seed: 0 },
    inputs: { data: { dir: sourceData } },
    outDir: outDir(),
    coords: { seed: 0 },
  });
  const srcOut = await runTrainSource(src.ctx);
  assert.deepEqual(readdirSync(src.outDir).sort(), ['curve.arrow', 'metrics.arrow', 'model']);
  assert.deepEqual(readdirSync(join(src.outDir, 'model')).sort(), ['model.json', 'weights.bin']);
  assert.ok((srcOut.summary?.test_accuracy as number) > 0.6, `source accuracy ${srcOut.summary?.test_accuracy}`);
  assert.deepEqual(Object.keys(srcOut.summary ?? {}).sort(), [
    'best_epoch',
    'epochs',
    'learning_rate',
    'selection_accuracy',
    'selection_loss',
    'stopped_by',
    'test_accuracy',
    'test_loss',
    'train_steps',
    'validation_accuracy',
    'validation_loss',
  ]);
  assert.ok(['patience', 'budget'].includes(srcOut.summary?.stopped_by as string));
  assert.ok((srcOut.summary?.validation_accuracy as number) > 0.6, `validation accuracy ${srcOut.summary?.validation_accuracy}`);
  assert.ok(src.progress.length >= 2 && src.progress.every((p) => p.epoch !== undefined && p.loss !== undefined));
  const metrics = tableFromIPC(readFileSync(join(src.outDir, 'metrics.arrow')));
  assert.equal(metrics.numRows, 1);
  assert.equal(metrics.getChild('test_accuracy')?.get(0), srcOut.summary?.test_accuracy);
  assert.equal(metrics.getChild('train_steps')?.get(0), srcOut.summary?.train_steps);
  assert.equal(metrics.getChild('validation_accuracy')?.get(0), srcOut.summary?.validation_accuracy);
  assert.equal(metrics.getChild('stopped_by')?.get(0), srcOut.summary?.stopped_by);
  assert.equal(metrics.getChild('best_epoch')?.get(0), srcOut.summary?.best_epoch);
  const curve = tableFromIPC(readFileSync(join(src.outDir, 'curve.arrow')));
  assert.deepEqual(
    curve.schema.fields.map((f) => f.name),
    ['epoch', 'loss', 'train_accuracy', 'val_loss', 'val_accuracy'],
  );
  assert.equal(curve.numRows, srcOut.summary?.epochs);

  const scratchParams = { model, train, seed: 0, correlation: 0.9, n: 50, validation: 'external' as const };
  const scratch = stageContext(trainScratchStage, {
    params: scratchParams,
    inputs: { data: { dir: targetData }, architecture: [] },
    outDir: outDir(),
  });
  const scratchOut = await runTrainScratch(scratch.ctx);
  assert.deepEqual(readdirSync(scratch.outDir).sort(), ['curve.arrow', 'metrics.arrow', 'model']);

  const transferParams = {
    model,
    train,
    seed: 0,
    correlation: 0.9,
    n: 50,
    validation: 'external' as const,
    mode: 'defrost' as const,
    depth: 1,
  };
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const t = stageContext(transferStage, {
      params: transferParams,
      inputs: { data: { dir: targetData }, source: { dir: src.outDir }, prefix: [], race: [] },
      outDir: outDir(),
    });
    runs.push({ out: await runTransfer(t.ctx), dir: t.outDir });
  }
  assert.deepEqual(readdirSync(runs[0].dir).sort(), ['curve.arrow', 'metrics.arrow']);
  assert.deepEqual(runs[0].out, runs[1].out);
  for (const f of ['curve.arrow', 'metrics.arrow'])
    assert.equal(Buffer.compare(readFileSync(join(runs[0].dir, f)), readFileSync(join(runs[1].dir, f))), 0, `${f} is repeatable`);

  // reinit at depth 0 is training from scratch: the same network, the same result
  const reinit0 = stageContext(transferStage, {
    params: { ...transferParams, mode: 'reinit' as const, depth: 0 },
    inputs: { data: { dir: targetData }, source: { dir: src.outDir }, prefix: [], race: [] },
    outDir: outDir(),
  });
  assert.deepEqual(await runTransfer(reinit0.ctx), scratchOut);

  // Each seed trains on its own subset of the pool: another seed, another result at the same n.
  const otherSeed = stageContext(trainScratchStage, {
    params: { ...scratchParams, seed: 1 },
    inputs: { data: { dir: targetData }, architecture: [] },
    outDir: outDir(),
  });
  assert.notDeepEqual((await runTrainScratch(otherSeed.ctx)).summary, scratchOut.summary);
  const a = trainingSubsetOrder(120, 0);
  const b = trainingSubsetOrder(120, 1);
  assert.notDeepEqual([...a.subarray(0, 50)].sort(), [...b.subarray(0, 50)].sort(), 'seeds draw different subsets');
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 120 }, (_, i) => i),
    'a permutation of the pool',
  );

  // n beyond the pool is a clear StageFailure
  const tooMany = stageContext(trainScratchStage, {
    params: { ...scratchParams, n: 500 },
    inputs: { data: { dir: targetData }, architecture: [] },
    outDir: outDir(),
  });
  await assert.rejects(runTrainScratch(tooMany.ctx), (e: unknown) => e instanceof StageFailure && /n = 500 .* holds 120/.test(e.message));
});

/** An imported network (import-source's `model/`) built with plain TensorFlow.js: two dense blocks and a readout. */
async function importedNetwork(name: string, inputDim: number): Promise<string> {
  const net = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputDim], units: 12, activation: 'relu', name: 'first' }),
      tf.layers.dense({ units: 8, activation: 'tanh', name: 'second' }),
      tf.layers.dense({ units: 5, activation: 'softmax', name: 'scores' }),
    ],
  });
  const file = await saveLayersModel(net, join(root, name));
  net.dispose();
  const imported = await runStage(importSourceStage, {
    params: { model: file, blocks: null, sha256: fingerprintSourceModel(readSourceModel(file)) },
    inputs: {},
    outDir: outDir(),
  });
  return imported.outDir;
}

test('with model null (source_model), scratch and transfer take the imported network’s architecture; data that do not fit fail naming both shapes', async () => {
  const targetData = writeTask('target-imported', 120, 8);
  const network = await importedNetwork('net', DIM);
  const params = { model: null, train, seed: 0, correlation: null, n: 50, validation: 'external' as const };
  const scratch = await runStage(trainScratchStage, {
    params,
    inputs: { data: { dir: targetData }, architecture: [{ dir: network }] },
    outDir: outDir(),
  });
  const saved = JSON.parse(readFileSync(join(scratch.outDir, 'model', 'model.json'), 'utf8')) as {
    modelTopology: { config: { layers: { config: { name: string; units?: number } }[] } };
  };
  assert.deepEqual(
    saved.modelTopology.config.layers.map((l) => [l.config.name, l.config.units]),
    [
      ['input', undefined],
      ['block1_first', 12],
      ['block2_second', 8],
      ['readout', CLASSES],
    ],
  );
  // reinit at depth 0 is that scratch network: the same architecture and init streams.
  const reinit0 = await runStage(transferStage, {
    params: { ...params, mode: 'reinit' as const, depth: 0 },
    inputs: { data: { dir: targetData }, source: { dir: network }, prefix: [], race: [] },
    outDir: outDir(),
  });
  assert.deepEqual(reinit0.outcome.summary, scratch.outcome.summary);

  const misfit = await importedNetwork('wide', DIM + 1);
  await assert.rejects(
    runStage(transferStage, {
      params: { ...params, mode: 'defrost' as const, depth: 1 },
      inputs: { data: { dir: targetData }, source: { dir: misfit }, prefix: [], race: [] },
      outDir: outDir(),
    }),
    (e: unknown) => e instanceof StageFailure && e.message.includes(`shape [${DIM}]`) && e.message.includes(`shape [${DIM + 1}]`),
  );
});
