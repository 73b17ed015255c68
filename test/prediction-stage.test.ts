/**
 * The `predict` stage and its same-task baseline end to end, on a small synthetic study where the
 * source and target tasks are identical (rho = 1 for features and rule) and the networks get
 * enough data: the same-task band must then contain the source-vs-target similarity at every
 * block and for every measure, and `prediction.arrow` scores every depth with each predictor.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { reportedValues } from '../stages/lib/measures/registry.js';
import { BIN, QUICK } from './engine-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'defrost-predict-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OVERRIDES = [
  'task.correlations=[1.0]',
  // Source and reference networks see as many samples: at rho = 1 the source network is then one
  // more network trained on the target task.
  'task.source_size=2000',
  'task.target_pool=2000',
  'task.target_sizes=[50,2000]',
  'task.target_reference_size=2000',
  'transfer.modes=[reinit]',
  'transfer.depths=[0]',
  'similarity.probe_size=300',
  'prediction.enabled=true',
];

function rowsOf(file: string): Record<string, unknown>[] {
  return tableFromIPC(readFileSync(file))
    .toArray()
    .map((r) => (r as { toJSON(): Record<string, unknown> }).toJSON());
}

test('identical tasks: the same-task band contains the source similarity at every block', () => {
  const store = join(dir, 'store');
  const args = ['run', QUICK, '--store', store, '--jobs', '2', '--json', ...OVERRIDES.flatMap((o) => ['--set', o])];
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' } });
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { executed_by_stage: Record<string, number> };
  assert.equal(summary.executed_by_stage.predict, 2);
  assert.equal(summary.executed_by_stage.baseline, 3);

  const instances = readdirSync(join(store, 'predict'));
  for (const key of instances) {
    const band = rowsOf(join(store, 'predict', key, 'band.arrow'));
    // 2 blocks x the values that lean one way (CKA, RBF CKA, neighbour overlap, imbalance both ways...).
    assert.equal(band.length, 2 * reportedValues().filter((v) => v.alike !== null).length);
    const outside = band.filter((r) => r.inside !== true);
    assert.deepEqual(outside, [], 'every block and measure inside the same-task band');
    const prediction = rowsOf(join(store, 'predict', key, 'prediction.arrow'));
    for (const predictor of ['similarity_band', 'logme', 'nearest_centroid']) {
      const rows = prediction.filter((r) => r.predictor === predictor);
      assert.deepEqual(
        rows.map((r) => r.depth),
        [0, 1, 2],
      );
      assert.ok(rows.every((r) => typeof r.score === 'number' && Number.isFinite(r.score)));
    }
    // Every block looks same-task, so the band predictor freezes everything.
    assert.ok(prediction.filter((r) => r.predictor === 'similarity_band').every((r) => r.predicted_depth === 2));
  }
});
