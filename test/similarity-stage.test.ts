/**
 * The `similarity` stage end to end on tiny networks: a network compared with itself gives the
 * extreme values of every measure; the table has the documented layout; output bytes are
 * deterministic; saved activations reproduce the stage's numbers through `defrost compare`'s logic.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { tableFromIPC } from 'apache-arrow';
import { compareFiles } from '../stages/similarity/compare-command.js';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { buildNetwork, saveNetwork, type NetworkSpec } from '../stages/lib/models/models.js';
import { Rng } from '../stages/lib/random.js';
import { similarityStage, type SimilarityContext } from '../stages/similarity/similarity.js';
import { runSimilarity } from '../stages/similarity/similarity-job.js';
import { scratchDir, stageContext } from './stage-rig.js';

/** The measures whose layout this test pins (a measure added later does not change it). */
const MEASURES = ['cka', 'rbf_cka', 'neighbour_overlap', 'information_imbalance', 'intrinsic_dimension'] as const;
const DIM = 12;
const L = 3;
const PROBES = 150;
const SPEC: NetworkSpec = {
  kind: 'mlp',
  hidden: [24, 16, 20],
  activation: 'tanh',
  kernelSize: 3,
  poolAfter: [],
  inputShape: [DIM],
  classes: 3,
};

let root = '';
function context(outDir: string, reference: string, saveActivations = false): SimilarityContext {
  return stageContext(similarityStage, {
    params: {
      correlation: 0.9,
      similarity: { probe_size: PROBES, measures: [...MEASURES], k: 5, rbf_sigma: 1, save_activations: saveActivations },
    },
    coords: { correlation: 0.9 },
    inputs: { data: { dir: join(root, 'data') }, source: { dir: join(root, 'source') }, reference: { dir: join(root, reference) } },
    outDir,
  }).ctx;
}

function readRows(file: string): { correlation: number | null; block_a: number; block_b: number; measure: string; value: number | null }[] {
  const table = tableFromIPC(readFileSync(file));
  assert.deepEqual(
    table.schema.fields.map((f) => `${f.name}:${f.type}`),
    ['correlation:Float64', 'block_a:Int32', 'block_b:Int32', 'measure:Utf8', 'value:Float64'],
  );
  return table.toArray().map((r) => ({
    ...(r.toJSON() as { correlation: number | null; block_a: number; block_b: number; measure: string; value: number | null }),
  }));
}

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  root = scratchDir('similarity-stage');
  mkdirSync(join(root, 'data'));
  const rng = new Rng(3, 'similarity-stage');
  // 200 test rows: the stage must take only the first PROBES of them.
  writeDataset(join(root, 'data', 'test.arrow'), {
    features: rng.fillNormal(new Float32Array(200 * DIM)),
    labels: Int32Array.from({ length: 200 }, (_, i) => i % 3),
    rows: 200,
    shape: [DIM],
    classes: ['a', 'b', 'c'],
    provenance: { test: true },
  });
  await saveNetwork(buildNetwork(SPEC, 1, 'source/init'), join(root, 'source', 'model'));
  await saveNetwork(buildNetwork(SPEC, 2, 'target/init'), join(root, 'reference', 'model'));
});

after(() => rmSync(root, { recursive: true, force: true }));

test('a network compared with itself: CKA 1 on the diagonal, overlap 1, imbalance 2/N', async () => {
  const out = join(root, 'self');
  const outcome = await runSimilarity(context(out, 'source'));
  const rows = readRows(join(out, 'similarity.arrow'));
  const value = (measure: string, a: number, b = a): number | null =>
    rows.find((r) => r.measure === measure && r.block_a === a && r.block_b === b)?.value ?? null;
  for (let l = 1; l <= L; l++) {
    assert.ok(Math.abs((value('cka', l) as number) - 1) < 1e-9, `cka block ${l}`);
    assert.ok(Math.abs((value('rbf_cka', l) as number) - 1) < 1e-9, `rbf_cka block ${l}`);
    assert.equal(value('neighbour_overlap', l), 1);
    assert.equal(value('information_imbalance_a_to_b', l), 2 / PROBES);
    assert.equal(value('information_imbalance_b_to_a', l), 2 / PROBES);
    assert.equal(value('intrinsic_dimension_a', l), value('intrinsic_dimension_b', l));
  }
  // Different blocks of one network are not identical representations.
  assert.ok((value('cka', 1, 3) as number) < 0.999);
  assert.equal(outcome.summary?.blocks, L);
  assert.equal(outcome.summary?.probes, PROBES);
  assert.equal((outcome.summary?.cka as number[]).length, L);
});

test('source vs reference: documented layout, deterministic bytes, saved activations agree with compare', async () => {
  const first = join(root, 'pair1');
  const second = join(root, 'pair2');
  await runSimilarity(context(first, 'reference', true));
  await runSimilarity(context(second, 'reference', true));
  const bytes = readFileSync(join(first, 'similarity.arrow'));
  assert.ok(bytes.equals(readFileSync(join(second, 'similarity.arrow'))), 'same inputs, same bytes');

  const rows = readRows(join(first, 'similarity.arrow'));
  // L x L CKA matrix, then 6 more values per block (rbf_cka, overlap, 2 imbalances, 2 IDs).
  assert.equal(rows.length, L * L + 6 * L);
  assert.ok(rows.every((r) => r.correlation === 0.9));
  assert.deepEqual(
    rows.slice(0, L * L).map((r) => [r.measure, r.block_a, r.block_b]),
    Array.from({ length: L * L }, (_, t) => ['cka', Math.floor(t / L) + 1, (t % L) + 1]),
  );
  assert.deepEqual(
    rows.slice(L * L, L * L + 6).map((r) => r.measure),
    [
      'rbf_cka',
      'neighbour_overlap',
      'information_imbalance_a_to_b',
      'information_imbalance_b_to_a',
      'intrinsic_dimension_a',
      'intrinsic_dimension_b',
    ],
  );

  const block = 2;
  const viaCompare = await compareFiles(
    join(first, 'activations', `source_block${block}.arrow`),
    join(first, 'activations', `reference_block${block}.arrow`),
    { k: 5, rbfSigma: 1, measures: MEASURES.join(',') },
  );
  assert.equal(viaCompare.n, PROBES);
  for (const [measure, v] of Object.entries(viaCompare.measures)) {
    const stage = rows.find((r) => r.measure === measure && r.block_a === block && r.block_b === block)?.value;
    assert.equal(stage, v, measure);
  }
});
