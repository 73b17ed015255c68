/**
 * Issue 18, findings 6 and 8: the similarity measures in memory linear in N (the tiled path that
 * `compare` takes above `BLOCKED_ABOVE` rows gives the small-N path's numbers), exact scale
 * invariance of CKA and RBF CKA for any finite scale, non-finite data refused naming where, and
 * linear config checks. (The 20,000 x 512 memory figure, measured with /usr/bin/time -v, is in
 * docs/similarity.md.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../pipeline/config-loader.js';
import { compareBlocked, TILED_MEASURES } from '../stages/lib/measures/blocked.js';
import { compareMatrices, type Matrix } from '../stages/lib/measures/index.js';
import { checkStudyConfig } from '../stages/data/config-checks.js';
import { planDefrost } from '../stages/plan.js';
import { defrostProject } from '../stages/project.js';
import { generateData, type GenerateDataParams } from '../stages/data/generate-job.js';
import { Rng } from '../stages/lib/random.js';
import { QUICK } from './engine-helpers.js';

const OPTIONS = { k: 5, rbfSigma: 1 };

/** A and a noisy nonlinear function of it, with a duplicated row (ties and zero distances). */
function pair(rows: number, cols: number, seed: number): [Matrix, Matrix] {
  const rng = new Rng(seed, 'robustness');
  const a = new Float64Array(rows * cols).map(() => rng.normal());
  const b = a.map((v) => Math.tanh(2 * v) + 0.3 * rng.normal());
  a.copyWithin(3 * cols, 4 * cols, 5 * cols);
  return [
    { rows, cols, data: a },
    { rows, cols, data: b },
  ];
}

const scaled = (m: Matrix, c: number): Matrix => ({ ...m, data: m.data.map((v) => v * c) });

test('6. the tiled (memory linear in N) path gives the small-N numbers', () => {
  const [a, b] = pair(203, 6, 1);
  const full = compareMatrices(a, b, TILED_MEASURES, OPTIONS);
  const tiled = compareBlocked(a, b, TILED_MEASURES, OPTIONS);
  assert.deepEqual(Object.keys(tiled), Object.keys(full));
  for (const name of Object.keys(full)) {
    if (name === 'cka' || name === 'rbf_cka')
      assert.ok(Math.abs(tiled[name] - full[name]) < 1e-9, `${name}: ${tiled[name]} vs ${full[name]}`);
    else assert.equal(tiled[name], full[name], name); // neighbour measures: the very same distances and order
  }
});

test('8. CKA and RBF CKA of A and cA are 1 for any finite c, on both paths', () => {
  const [a] = pair(120, 5, 2);
  for (const c of [1e80, 1e-160, 3.7, -2e300, 5e-300]) {
    for (const compare of [compareMatrices, compareBlocked]) {
      const v = compare(a, scaled(a, c), ['cka', 'rbf_cka', 'neighbour_overlap'], OPTIONS);
      assert.ok(Math.abs(v.cka - 1) < 1e-12, `c = ${c}: cka ${v.cka}`);
      assert.ok(Math.abs(v.rbf_cka - 1) < 1e-12, `c = ${c}: rbf_cka ${v.rbf_cka}`);
      assert.equal(v.neighbour_overlap, 1, `c = ${c}`);
    }
  }
  // Scaling one side changes nothing either.
  const [x, y] = pair(120, 5, 3);
  const base = compareMatrices(x, y, ['cka', 'rbf_cka'], OPTIONS);
  const far = compareMatrices(scaled(x, 1e-160), scaled(y, 1e80), ['cka', 'rbf_cka'], OPTIONS);
  assert.ok(Math.abs(base.cka - far.cka) < 1e-12 && Math.abs(base.rbf_cka - far.rbf_cka) < 1e-12, JSON.stringify({ base, far }));
});

test('8. non-finite data is an error naming where: input noise that overflows the features', () => {
  const { config } = loadConfig(defrostProject, QUICK, ['task.input_noise=1e308']);
  const spec = planDefrost(config).find((s) => s.stage === 'generate-data');
  assert.ok(spec);
  const dir = mkdtempSync(join(tmpdir(), 'defrost-noise-'));
  try {
    assert.throws(
      () => generateData(dir, spec.params as unknown as GenerateDataParams),
      (error: Error) => error instanceof RangeError && /non-finite value .* at row \d+, feature \d+.*task\.input_noise/.test(error.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('6. config checks are linear: 300,000 target sizes with a duplicate are checked at once', { timeout: 10_000 }, () => {
  const { config } = loadConfig(defrostProject, QUICK, []);
  const sizes = Array.from({ length: 300_000 }, (_, i) => i + 1);
  sizes.push(17);
  const issues = checkStudyConfig({ ...config, task: { ...config.task, target_pool: 300_000, target_sizes: sizes } });
  assert.deepEqual(
    issues.filter((i) => i.key === 'task.target_sizes').map((i) => i.value),
    [17],
  );
});

test('6. a sweep of 100,000 target sizes is refused at once with the count, not planned for minutes', { timeout: 20_000 }, () => {
  const { config } = loadConfig(defrostProject, QUICK, []);
  const sizes = Array.from({ length: 100_000 }, (_, i) => i + 1);
  const started = Date.now();
  const issues = checkStudyConfig({ ...config, task: { ...config.task, target_pool: 100_000, target_sizes: sizes } });
  assert.ok(Date.now() - started < 5_000);
  const refusal = issues.find((i) => i.key === 'task.target_sizes');
  assert.ok(refusal, 'the sweep size is refused');
  assert.match(refusal.allowed, /at most 200000 training runs; this one plans 4200000/);
});
