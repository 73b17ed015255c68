/**
 * recommend's fold runs on cached frozen-prefix activations (docs/performance.md, "Frozen-prefix
 * activations"): a `prefix` instance of the imported samples holds block l's outputs, a `cv-train`
 * at depth l reading it trains blocks l+1..L on them and scores the same held-out fold as one that
 * runs blocks 1..l every step; the plan gives every fold at depth l >= 1 of a prefix mode the one
 * prefix of its depth, and none to scratch, depth 0 or the protocols.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildNetwork, saveNetwork } from '../stages/lib/models/models.js';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { runCvTrain } from '../stages/recommend/cv-job.js';
import { cvTrainStage } from '../stages/recommend/cv-train.js';
import { planRecommendRuns, type RecommendRequest } from '../stages/recommend/plan.js';
import { prefixStage, prefixSummaryOf } from '../stages/training/prefix.js';
import { runPrefix } from '../stages/training/prefix-job.js';
import { scratchDir, stageContext, type RigInput } from './stage-rig.js';
import { DIM, linearTask, RECIPE, TINY_MLP, useCpuBackend } from './training-fixtures.js';

const root = scratchDir('recommend-prefix');
before(useCpuBackend);
after(() => rmSync(root, { recursive: true, force: true }));

test('cv-train at depth 2 on cached block-2 outputs of the imported samples scores its fold as without them', async () => {
  const samples = join(root, 'samples');
  mkdirSync(samples, { recursive: true });
  writeDataset(join(samples, 'train.arrow'), {
    ...linearTask(150, 'samples'),
    shape: [DIM],
    classes: ['a', 'b', 'c'],
    provenance: { test: 'cv' },
  });
  const sourceDir = join(root, 'source');
  const net = buildNetwork({ ...TINY_MLP, hidden: [12, 12, 12] }, 1, 'source/init');
  await saveNetwork(net, join(sourceDir, 'model'));
  net.dispose();

  let previous: RigInput[] = [];
  for (const depth of [1, 2]) {
    const rig = stageContext(prefixStage, {
      params: { depth, limit_bytes: 1e9 },
      inputs: { data: [], samples: [{ dir: samples, stage: 'import-data' }], source: { dir: sourceDir, stage: 'import-source' }, previous },
    });
    const outcome = await runPrefix(rig.ctx);
    assert.equal(prefixSummaryOf(outcome.summary)?.cached, true);
    previous = [
      {
        dir: rig.outDir,
        stage: 'prefix',
        id: `prefix[depth=${depth}]`,
        params: { depth, limit_bytes: 1e9 },
        summary: outcome.summary ?? {},
      },
    ];
  }

  const params = {
    folds: 3,
    fold: 1,
    mode: 'defrost' as const,
    depth: 2,
    seed: 4,
    train: { ...RECIPE, early_stopping: { patience: 2, max_epochs: 8, monitor: 'val_accuracy' as const, check_steps: 4 } },
  };
  const fold = async (prefix: RigInput[]) => {
    const rig = stageContext(cvTrainStage, { params, inputs: { data: { dir: samples }, source: { dir: sourceDir }, prefix } });
    return { summary: await runCvTrain(rig.ctx), log: rig.lines.join('\n') };
  };
  const plain = await fold([]);
  const cached = await fold(previous);
  assert.match(cached.log, /block 2 outputs read from prefix\[depth=2\]/);
  for (const key of ['accuracy', 'loss', 'validation_accuracy'])
    assert.ok(
      Math.abs(Number(plain.summary[key]) - Number(cached.summary[key])) < 1e-4,
      `${key}: ${plain.summary[key]} vs ${cached.summary[key]}`,
    );
  for (const key of ['epochs', 'best_epoch', 'stopped_by', 'train_rows', 'held_rows'])
    assert.equal(cached.summary[key], plain.summary[key], key);
});

test('the plan: every fold at depth l >= 1 of a prefix mode reads the prefix of depth l; scratch, depth 0 and the protocols none', () => {
  const request: RecommendRequest = {
    data: { spec: { path: '/d.npy' }, sha256: 'a'.repeat(64), images: { size: null, channels: null }, label: 'd.npy' },
    model: { path: '/m/model.json', sha256: 'b'.repeat(64), blocks: null, label: 'm/model.json' },
    folds: 3,
    blocks: 3,
    modes: ['defrost', 'reinit'],
    protocols: ['lp-ft', 'surgical'],
    seed: 0,
    train: { optimizer: 'adam', learning_rate: 0.001, momentum: 0.9, batch_size: 32, epochs: 5, min_steps: 0, early_stopping: null },
  };
  const specs = planRecommendRuns(request, [0, 1, 2, 3]);
  const prefixes = specs.filter((s) => s.stage === 'prefix');
  assert.deepEqual(
    prefixes.map((s) => s.id),
    ['prefix[depth=1]', 'prefix[depth=2]', 'prefix[depth=3]'],
  );
  // Depth l from depth l - 1, all from the imported samples.
  assert.deepEqual(prefixes[2].inputs['previous/prefix[depth=2]'], 'prefix[depth=2]');
  assert.ok(prefixes.every((s) => s.inputs['samples/import-data'] === 'import-data'));
  const read = (s: (typeof specs)[number]): string[] =>
    Object.entries(s.inputs)
      .filter(([name]) => name.startsWith('prefix/'))
      .map(([, id]) => id);
  for (const s of specs.filter((x) => x.stage === 'cv-train')) {
    const depth = s.coords.depth;
    const expected =
      (s.coords.mode === 'defrost' || s.coords.mode === 'reinit') && typeof depth === 'number' && depth > 0
        ? [`prefix[depth=${depth}]`]
        : [];
    assert.deepEqual(read(s), expected, s.id);
  }
});
