/**
 * Frozen-prefix activations (docs/performance.md, "Frozen-prefix activations"): a transfer at depth
 * l trained on cached block-l outputs ends with the same weights as one that runs blocks 1..l
 * every step; the `prefix` stage chains depth l from depth l - 1, refuses over its size limit
 * and for a prefix that cannot be cached, and the transfer then still runs; the planner shares
 * one prefix among the transfers of a source and data.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../pipeline/config-loader.js';
import { PlanBuilder } from '../pipeline/plan-builder.js';
import { blockWeightValues, buildNetwork, saveNetwork, type NetworkSpec } from '../stages/lib/models/models.js';
import { activationsOf, blocksNetwork, splitRefusal, suffixNetwork } from '../stages/lib/models/prefix-split.js';
import { trainNetwork, type LabelledData } from '../stages/lib/models/training.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { frozenPrefix } from '../stages/lib/models/transfer-modes/mode.js';
import { transferModeOf } from '../stages/lib/models/transfer-modes/registry.js';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { Rng } from '../stages/lib/random.js';
import { defrostProject } from '../stages/project.js';
import { generateDataStage } from '../stages/data/generate-data.js';
import { importSourceStage } from '../stages/data/import-source.js';
import { prefixStage, prefixSummaryOf } from '../stages/training/prefix.js';
import { runPrefix } from '../stages/training/prefix-job.js';
import { runTransfer } from '../stages/training/training-job.js';
import { trainSourceStage } from '../stages/training/train-source.js';
import { transferStage } from '../stages/training/transfer.js';
import { transferRuns } from '../stages/training/transfer-runs.js';
import { scratchDir, stageContext, type RigInput } from './stage-rig.js';
import { CLASSES, DIM, linearTask, RECIPE, TINY_MLP, useCpuBackend } from './training-fixtures.js';

const root = scratchDir('training-prefix');
before(useCpuBackend);
after(() => rmSync(root, { recursive: true, force: true }));

const TINY_CNN: NetworkSpec = {
  kind: 'cnn',
  hidden: [4, 4, 6],
  activation: 'relu',
  kernelSize: 3,
  poolAfter: [1],
  inputShape: [6, 6, 1],
  classes: CLASSES,
};

function imageTask(rows: number, stream: string): LabelledData {
  const rng = new Rng(3, stream);
  const features = rng.fillNormal(new Float32Array(rows * 36));
  const labels = Int32Array.from({ length: rows }, (_, i) => (features[i * 36 + 7] > 0 ? 1 : 0) + (features[i * 36 + 20] > 0.5 ? 1 : 0));
  return { features, labels, rows };
}

function assertClose(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((values, i) => {
    assert.equal(values.length, b[i].length, what);
    let worst = 0;
    for (let j = 0; j < values.length; j++) worst = Math.max(worst, Math.abs(values[j] - b[i][j]) / (1e-3 + Math.abs(values[j])));
    assert.ok(worst < 1e-4, `${what}: weights differ by ${worst} (relative)`);
  });
}

for (const [spec, data] of [
  [TINY_MLP, linearTask(96, 'prefix/train')],
  [TINY_CNN, imageTask(96, 'prefix/images')],
] as const) {
  test(`${spec.kind}: training the rest on cached block-2 outputs gives the weights of training with blocks 1..2 frozen`, async () => {
    const source = buildNetwork(spec, 1, 'source/init');
    const whole = buildNetwork(spec, 0, 'target/init');
    const twin = buildNetwork(spec, 0, 'target/init');
    prepareTransfer(whole, source, 'defrost', 2);
    prepareTransfer(twin, source, 'defrost', 2);
    // As the stage computes them: block 1 from the inputs, block 2 from block 1's outputs.
    const block1 = activationsOf(blocksNetwork(source, 1, 1), data.features, data.rows);
    const block2 = activationsOf(blocksNetwork(source, 2, 2), block1, data.rows);
    const rest = suffixNetwork(twin, 2);
    const options = { recipe: RECIPE, seed: 4, classes: CLASSES, label: 'prefix test' };
    const a = await trainNetwork(whole, data, options);
    const b = await trainNetwork(rest, { features: block2, labels: data.labels, rows: data.rows }, options);
    assert.equal(a.trainSteps, b.trainSteps);
    assert.ok(a.trainSteps >= 30);
    assertClose(blockWeightValues(whole, 3), blockWeightValues(rest, 3), 'block 3');
    assertClose(blockWeightValues(whole, 'readout'), blockWeightValues(rest, 'readout'), 'readout');
    // The weights really moved, and the frozen blocks are the source's.
    assert.notDeepEqual(blockWeightValues(whole, 3), blockWeightValues(buildNetwork(spec, 0, 'target/init'), 3));
    assert.deepEqual(blockWeightValues(whole, 2), blockWeightValues(source, 2));
    for (const net of [source, whole, twin, rest]) net.dispose();
  });
}

test('a prefix that cannot be cached says why: BatchNorm or dropout in it, a graph', () => {
  const input = tf.input({ shape: [DIM] });
  const h1 = tf.layers.dense({ units: 8, name: 'block1_dense' }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'block2_bn' }).apply(h1) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: CLASSES, name: 'readout' }).apply(bn) as tf.SymbolicTensor;
  const withNorm = tf.model({ inputs: input, outputs: out });
  assert.equal(splitRefusal(withNorm, 1), null);
  assert.match(splitRefusal(withNorm, 2) ?? '', /block2_bn .*BatchNormalization .*training mode/);

  const a = tf.layers.dense({ units: DIM, name: 'block1_dense' }).apply(input) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'block1_add' }).apply([a, input]) as tf.SymbolicTensor;
  const graph = tf.model({ inputs: input, outputs: tf.layers.dense({ units: CLASSES, name: 'readout' }).apply(sum) as tf.SymbolicTensor });
  assert.match(splitRefusal(graph, 1) ?? '', /graph, not a chain/);
  assert.equal(frozenPrefix(transferModeOf('defrost'), 3, 4), 3);
  assert.equal(frozenPrefix(transferModeOf('surgical'), 3, 4), 2);
  assert.equal(frozenPrefix(transferModeOf('lp-ft'), 0, 4), 0);
});

/** A target dataset directory in the layout of generate-data. */
function writeTarget(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const meta = { shape: [DIM], classes: ['a', 'b', 'c'], provenance: { test: 'prefix' } };
  writeDataset(join(dir, 'train.arrow'), { ...linearTask(120, 'pool'), ...meta });
  writeDataset(join(dir, 'validation.arrow'), { ...linearTask(60, 'validation'), ...meta });
  writeDataset(join(dir, 'selection.arrow'), { ...linearTask(60, 'selection'), ...meta });
  writeDataset(join(dir, 'test.arrow'), { ...linearTask(80, 'test'), ...meta });
  return dir;
}

async function prefixAt(data: string, source: string, depth: number, limit: number, previous: RigInput[]): Promise<RigInput> {
  const rig = stageContext(prefixStage, {
    params: { depth, limit_bytes: limit },
    inputs: { data: [{ dir: data }], samples: [], source: { dir: source }, previous },
  });
  const outcome = await runPrefix(rig.ctx);
  return {
    dir: rig.outDir,
    stage: 'prefix',
    id: `prefix[depth=${depth}]`,
    params: { depth, limit_bytes: limit },
    summary: outcome.summary ?? {},
  };
}

test('prefix stage: depth 2 from depth 1; a transfer reading it matches one without; over the limit nothing is cached and the transfer still runs', async () => {
  const data = writeTarget(join(root, 'target'));
  const sourceDir = join(root, 'source');
  const sourceNet = buildNetwork({ ...TINY_MLP, hidden: [12, 12, 12] }, 1, 'source/init');
  await saveNetwork(sourceNet, join(sourceDir, 'model'));
  sourceNet.dispose();
  const d1 = await prefixAt(data, sourceDir, 1, 1e9, []);
  const d2 = await prefixAt(data, sourceDir, 2, 1e9, [d1]);
  assert.deepEqual(prefixSummaryOf(d2.summary ?? {}), { cached: true, bytes: 320 * 12 * 4, shape: [12], input_shape: [DIM], reason: null });
  for (const table of ['train', 'validation', 'selection', 'test']) assert.ok(existsSync(join(d2.dir, `${table}.arrow`)), table);
  const over = await prefixAt(data, sourceDir, 2, 1000, [d1]);
  assert.equal(prefixSummaryOf(over.summary ?? {})?.cached, false);
  assert.match(
    prefixSummaryOf(over.summary ?? {})?.reason ?? '',
    /^0\.0 MB of activations is over the limit of 0\.0 MB \(transfer\.prefix_cache_gb\)/,
  );
  assert.ok(!existsSync(join(over.dir, 'train.arrow')), 'nothing written over the limit');

  const params = {
    model: { kind: 'mlp' as const, hidden: [12, 12, 12], activation: 'relu' as const, kernel_size: 3, pool_after: [] },
    train: { ...RECIPE, early_stopping: { patience: 2, max_epochs: 8, monitor: 'val_accuracy' as const, check_steps: 4 } },
    seed: 2,
    correlation: 0.9,
    n: 100,
    validation: 'external' as const,
    mode: 'defrost' as const,
    depth: 2,
  };
  const transfer = async (prefix: RigInput[]): Promise<Record<string, unknown>> => {
    const rig = stageContext(transferStage, {
      params,
      inputs: { data: { dir: data, stage: 'generate-data' }, source: { dir: sourceDir, stage: 'train-source' }, prefix, race: [] },
    });
    const outcome = await runTransfer(rig.ctx);
    return { ...outcome.summary, log: rig.lines.join('\n') };
  };
  const plain = await transfer([]);
  const cached = await transfer([d2]);
  const uncached = await transfer([over]);
  assert.match(String(cached.log), /block 2 outputs read from prefix\[depth=2\]/);
  assert.match(String(uncached.log), /frozen prefix not cached \(.*over the limit/);
  for (const key of ['test_accuracy', 'validation_accuracy', 'selection_accuracy', 'test_loss'])
    assert.ok(Math.abs(Number(plain[key]) - Number(cached[key])) < 1e-4, `${key}: ${plain[key]} vs ${cached[key]}`);
  for (const key of ['train_steps', 'best_epoch', 'stopped_by']) assert.equal(cached[key], plain[key], key);
  // Without cached activations the transfer is exactly the transfer without a prefix.
  assert.deepEqual({ ...uncached, log: '' }, { ...plain, log: '' });
});

test('planning: one prefix per source, data and depth, shared by every n, mode and (with one imported network) every seed', () => {
  const { config } = loadConfig(defrostProject, join(process.cwd(), 'experiments', 'quick.yaml'));
  const dataParams = {
    role: 'target' as const,
    seed: 0,
    correlation: 1,
    task: {
      ...{ kind: 'synthetic' as const, latent_dim: 4, input_dim: 8, teacher_hidden: 0, classes: 3, test_size: 10, validation_size: 10 },
      ...{ label_noise: 0, input_noise: 0, target_pool: 20, feature_correlation: 1, rule_correlation: 1, selection_size: 10 },
    },
  };
  const plan = new PlanBuilder();
  const data = plan.add(generateDataStage, { role: 'target' }, dataParams, {});
  const imported = plan.add(importSourceStage, {}, { model: 'net/model.json', sha256: 'a'.repeat(64), blocks: null }, {});
  const trained = (seed: number) => plan.add(trainSourceStage, { seed }, { model: config.model, train: config.train, seed }, { data });
  const training = { model: config.model, train: config.train, validation: config.validation };
  const cells = (source: (seed: number) => ReturnType<typeof trained> | typeof imported) =>
    [20, 100].flatMap((n) =>
      [0, 1, 2].flatMap((seed) =>
        transferRuns.plan({
          plan,
          config,
          task: {},
          correlation: 1,
          n,
          seed,
          depths: [0, 1, 2],
          settings: () => [0, 1, 2],
          training,
          data,
          source: source(seed),
          scratch: () => {
            throw new Error('unused');
          },
        }),
      ),
    );
  const transfersOfImported = cells(() => imported).map((r) => r.id);
  const specs = plan.specs();
  const prefixes = specs.filter((s) => s.stage === 'prefix');
  // One imported network: depths 1 and 2, once for 3 seeds x 2 n x 2 modes.
  assert.deepEqual(
    prefixes.map((s) => s.id),
    ['prefix[correlation=1,depth=1]', 'prefix[correlation=1,depth=2]'],
  );
  const byId = new Map(specs.map((s) => [s.id, s]));
  for (const id of transfersOfImported) {
    const spec = byId.get(id);
    assert.ok(spec);
    const depth = Number(spec.coords.depth);
    const prefix = Object.entries(spec.inputs)
      .filter(([name]) => name.startsWith('prefix/'))
      .map(([, ref]) => ref);
    assert.deepEqual(prefix, depth === 0 ? [] : [`prefix[correlation=1,depth=${depth}]`], id);
  }
  assert.deepEqual(
    byId.get('prefix[correlation=1,depth=2]')?.inputs['previous/prefix[correlation=1,depth=1]'],
    'prefix[correlation=1,depth=1]',
  );
  // A source network per seed: its own prefixes, still shared by n and modes.
  cells(trained);
  assert.equal(plan.specs().filter((s) => s.stage === 'prefix').length, 2 + 3 * 2);
  // Caching off: no prefix at all.
  const off = new PlanBuilder();
  const offData = off.add(generateDataStage, { role: 'target' }, dataParams, {});
  transferRuns.plan({
    plan: off,
    config: { ...config, transfer: { ...config.transfer, prefix_cache_gb: 0 } },
    task: {},
    correlation: 1,
    n: 20,
    seed: 0,
    depths: [0, 1, 2],
    settings: () => [0, 1, 2],
    training,
    data: offData,
    source: imported,
    scratch: () => {
      throw new Error('unused');
    },
  });
  assert.equal(off.specs().filter((s) => s.stage === 'prefix').length, 0);
});
