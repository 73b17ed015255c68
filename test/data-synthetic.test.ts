/**
 * Statistics of the controlled task model (docs/science.md#the-controlled-task-model): what correlation means, that the rule is
 * learnable, and that datasets are pure functions of their params. Sizes are small (a few
 * thousand rows) so the file runs in about a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { Rng } from '../stages/lib/random.js';
import { readDataset } from '../stages/lib/tables/dataset-table.js';
import { generateData, type GenerateDataParams } from '../stages/data/generate-job.js';
import { drawLatents, featuresOf, labelsOf, sourceTeacher, targetTeacher, type SyntheticShape } from '../stages/lib/tasks/synthetic.js';
import { scratchDir } from './stage-rig.js';

const SHAPE: SyntheticShape = { latentDim: 16, inputDim: 64, teacherHidden: 32, classes: 4 };
const ROWS = 3000;

function latents(rows = ROWS, stream = 'test-latents', shape = SHAPE): Float64Array {
  return drawLatents(new Rng(7, stream), rows, shape.latentDim);
}

function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Agreement two independent labelings with these marginals would have: sum_c p_c q_c. */
function chanceAgreement(a: Int32Array, b: Int32Array, classes: number): number {
  const p = new Array<number>(classes).fill(0);
  const q = new Array<number>(classes).fill(0);
  for (let i = 0; i < a.length; i++) {
    p[a[i]] += 1 / a.length;
    q[b[i]] += 1 / b.length;
  }
  return p.reduce((s, pc, c) => s + pc * q[c], 0);
}

function pearson(a: Float32Array, b: Float32Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= a.length;
  mb /= b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

test('rho = 1: for the same latents, target features and labels equal the source ones exactly', () => {
  const z = latents();
  const source = sourceTeacher(3, SHAPE);
  const target = targetTeacher(3, SHAPE, 1, 1);
  assert.deepEqual(featuresOf(target, z, ROWS), featuresOf(source, z, ROWS));
  assert.deepEqual(labelsOf(target, z, ROWS), labelsOf(source, z, ROWS));
  // ...and a different seed is a different task.
  assert.notDeepEqual(labelsOf(sourceTeacher(4, SHAPE), z, ROWS), labelsOf(source, z, ROWS));
});

test('rho = 0: label agreement at chance and feature correlation near 0; in between, monotone in rho', () => {
  const z = latents();
  const source = sourceTeacher(3, SHAPE);
  const xs = featuresOf(source, z, ROWS);
  const ys = labelsOf(source, z, ROWS);
  const rhos = [0, 0.5, 0.8, 0.95, 1];
  const agree: number[] = [];
  const corr: number[] = [];
  for (const rho of rhos) {
    const target = targetTeacher(3, SHAPE, rho, rho);
    const yt = labelsOf(target, z, ROWS);
    agree.push(agreement(ys, yt));
    corr.push(pearson(xs, featuresOf(target, z, ROWS)));
    if (rho === 0) {
      const chance = chanceAgreement(ys, yt, SHAPE.classes);
      assert.ok(Math.abs(agree[0] - chance) < 0.04, `rho=0 agreement ${agree[0]} vs chance ${chance}`);
      assert.ok(Math.abs(agree[0] - 1 / SHAPE.classes) < 0.1, `rho=0 agreement ${agree[0]} vs 1/C`);
      assert.ok(Math.abs(corr[0]) < 0.05, `rho=0 feature correlation ${corr[0]}`);
    }
  }
  for (let i = 1; i < rhos.length; i++) {
    assert.ok(agree[i] > agree[i - 1], `label agreement not increasing: ${agree.join(', ')}`);
    assert.ok(corr[i] > corr[i - 1], `feature correlation not increasing: ${corr.join(', ')}`);
  }
  assert.equal(agree[rhos.length - 1], 1);
  assert.ok(agree[2] > 0.4 && agree[2] < 0.95, `rho=0.8 agreement ${agree[2]} should be in between`);
});

test('rule and feature correlations act separately: rho_r = 1, rho_f = 0 keeps the rule only for K = 0', () => {
  const linear: SyntheticShape = { ...SHAPE, teacherHidden: 0 };
  const z = latents(ROWS, 'test-latents', linear);
  const source = sourceTeacher(5, linear);
  const target = targetTeacher(5, linear, 0, 1);
  // K = 0: the rule reads z directly, so mixing only F leaves the labels and changes the inputs.
  assert.deepEqual(labelsOf(target, z, ROWS), labelsOf(source, z, ROWS));
  assert.ok(Math.abs(pearson(featuresOf(source, z, ROWS), featuresOf(target, z, ROWS))) < 0.05);
});

function moments(a: Float64Array, b: Float64Array): { corr: number; varB: number } {
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += a[i] * b[i];
    saa += a[i] * a[i];
    sbb += b[i] * b[i];
  }
  return { corr: sab / Math.sqrt(saa * sbb), varB: sbb / b.length };
}

test("target matrices are rho M + sqrt(1 - rho^2) M': N(0,1) entries correlated rho_f (F, A) and rho_r (B) with the source", () => {
  const big: SyntheticShape = { latentDim: 32, inputDim: 256, teacherHidden: 128, classes: 16 };
  const source = sourceTeacher(9, big);
  const target = targetTeacher(9, big, 0.6, 0.3);
  for (const [name, rho] of [
    ['F', 0.6],
    ['A', 0.6],
    ['B', 0.3],
  ] as const) {
    const { corr, varB } = moments(source[name], target[name]);
    assert.ok(Math.abs(corr - rho) < 0.05, `${name}: entry correlation ${corr}, expected ${rho}`);
    assert.ok(Math.abs(varB - 1) < 0.08, `${name}: entry variance ${varB}, expected 1`);
  }
});

/** Least-squares one-hot regression with a bias on the latents; returns test accuracy. */
function linearProbeAccuracy(
  zTrain: Float64Array,
  yTrain: Int32Array,
  zTest: Float64Array,
  yTest: Int32Array,
  D: number,
  C: number,
): number {
  const P = D + 1;
  const rows = yTrain.length;
  const gram = new Float64Array(P * P);
  const rhs = new Float64Array(P * C);
  const feat = new Float64Array(P);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < D; d++) feat[d] = zTrain[r * D + d];
    feat[D] = 1;
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < P; j++) gram[i * P + j] += feat[i] * feat[j];
      rhs[i * C + yTrain[r]] += feat[i];
    }
  }
  for (let i = 0; i < P; i++) gram[i * P + i] += 1e-6 * rows;
  // Gauss-Jordan elimination on [gram | rhs].
  for (let col = 0; col < P; col++) {
    const pivot = gram[col * P + col];
    for (let j = 0; j < P; j++) gram[col * P + j] /= pivot;
    for (let c = 0; c < C; c++) rhs[col * C + c] /= pivot;
    for (let i = 0; i < P; i++) {
      if (i === col) continue;
      const f = gram[i * P + col];
      for (let j = 0; j < P; j++) gram[i * P + j] -= f * gram[col * P + j];
      for (let c = 0; c < C; c++) rhs[i * C + c] -= f * rhs[col * C + c];
    }
  }
  let correct = 0;
  for (let r = 0; r < yTest.length; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = rhs[D * C + c];
      for (let d = 0; d < D; d++) s += zTest[r * D + d] * rhs[d * C + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best === yTest[r]) correct++;
  }
  return correct / yTest.length;
}

test('a linear probe on the latents recovers the rule: near perfect for K = 0, well above chance for K > 0', () => {
  for (const [K, minimum] of [
    [0, 0.9],
    [32, 0.5],
  ] as const) {
    const shape = { ...SHAPE, teacherHidden: K };
    const teacher = sourceTeacher(11, shape);
    const zTrain = latents(ROWS, 'probe-train', shape);
    const zTest = latents(1000, 'probe-test', shape);
    const accuracy = linearProbeAccuracy(
      zTrain,
      labelsOf(teacher, zTrain, ROWS),
      zTest,
      labelsOf(teacher, zTest, 1000),
      shape.latentDim,
      shape.classes,
    );
    assert.ok(accuracy > minimum, `K=${K}: linear probe accuracy ${accuracy} (chance ${1 / shape.classes}) should exceed ${minimum}`);
  }
});

/** Both sizes: the source instance reads `source_size`, the targets `target_pool`. */
const TASK = {
  kind: 'synthetic' as const,
  validation_size: 50,
  latent_dim: 8,
  input_dim: 32,
  teacher_hidden: 16,
  classes: 3,
  source_size: 600,
  target_pool: 500,
  selection_size: 150,
  test_size: 200,
  label_noise: 0,
  input_noise: 0,
};

function target(rho: number, overrides: Partial<typeof TASK> = {}): GenerateDataParams {
  return { role: 'target', seed: 1, correlation: rho, task: { ...TASK, feature_correlation: rho, rule_correlation: rho, ...overrides } };
}

test('generate-data (synthetic) is deterministic, nested, and label noise touches training labels only', () => {
  const dir = scratchDir('synth');
  const out = (name: string): string => join(dir, name);
  try {
    const runs: Record<string, GenerateDataParams> = {
      a: target(0.9),
      b: target(0.9),
      other: { ...target(0.9), seed: 2 },
      bigPool: target(0.9, { target_pool: 800 }),
      noisy: target(0.9, { label_noise: 0.3 }),
      inputNoise: target(0.9, { input_noise: 0.5 }),
      source: { role: 'source', seed: 1, task: TASK },
    };
    for (const name of Object.keys(runs)) mkdirSync(out(name));
    const summaries = Object.fromEntries(Object.entries(runs).map(([name, p]) => [name, generateData(out(name), p)]));

    // Same params -> identical bytes; another seed -> other data.
    for (const file of ['train.arrow', 'test.arrow']) {
      assert.ok(readFileSync(join(out('a'), file)).equals(readFileSync(join(out('b'), file))), `${file} differs between identical runs`);
      assert.ok(!readFileSync(join(out('a'), file)).equals(readFileSync(join(out('other'), file))), `${file} ignores the seed`);
    }
    const a = readDataset(join(out('a'), 'train.arrow'));
    assert.equal(a.rows, 500);
    assert.deepEqual(a.shape, [32]);
    assert.equal(summaries.a.train_rows, 500);
    assert.equal(summaries.source.train_rows, 600);

    // A larger pool extends the smaller one: its first 500 rows are the same samples.
    const big = readDataset(join(out('bigPool'), 'train.arrow'));
    assert.equal(big.rows, 800);
    assert.deepEqual(big.features.subarray(0, 500 * 32), a.features);
    assert.deepEqual(big.labels.subarray(0, 500), a.labels);

    // Label noise: ~ p (1 - 1/C) of training labels change; test labels do not.
    const noisy = readDataset(join(out('noisy'), 'train.arrow'));
    assert.deepEqual(noisy.features, a.features);
    const changed = 1 - agreement(noisy.labels, a.labels);
    assert.ok(changed > 0.1 && changed < 0.3, `label noise 0.3 changed ${changed} of labels (expected ~0.2)`);
    assert.deepEqual(readDataset(join(out('noisy'), 'test.arrow')).labels, readDataset(join(out('a'), 'test.arrow')).labels);

    // Input noise: x + N(0, 0.5^2) on train and test; labels unchanged.
    for (const file of ['train.arrow', 'test.arrow']) {
      const clean = readDataset(join(out('a'), file));
      const noised = readDataset(join(out('inputNoise'), file));
      assert.deepEqual(noised.labels, clean.labels);
      let sq = 0;
      for (let i = 0; i < clean.features.length; i++) sq += (noised.features[i] - clean.features[i]) ** 2;
      const sd = Math.sqrt(sq / clean.features.length);
      assert.ok(Math.abs(sd - 0.5) < 0.03, `${file}: input noise sd ${sd}, expected 0.5`);
    }
    const metadata = tableFromIPC(readFileSync(join(out('a'), 'train.arrow'))).schema.metadata;
    const provenance = JSON.parse(metadata.get('provenance') ?? '{}');
    assert.equal(provenance.dataset, 'synthetic');
    assert.equal(provenance.params.task.feature_correlation, 0.9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
