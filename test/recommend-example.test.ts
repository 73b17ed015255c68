/**
 * The worked example (scripts/example-your-data.mjs, docs/your-data.md) on reduced sizes: a study
 * on Fashion-MNIST classes 0-4 -> 5-9 trains the source network; its target pool, written out as
 * PNG files, and the source's model.json go to `defrost recommend`; the recommended l* lies in the
 * plausible set the study finds on the same pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './engine-helpers.js';

const REDUCED = [
  'task.source_size=600',
  'task.target_pool=90',
  'task.target_sizes=[90]',
  'task.target_reference_size=90',
  'task.test_size=100',
  'similarity.probe_size=50',
  // The study's budget for recommend too: the reduced example checks agreement, not the small-n recipe.
  'train.min_steps=0',
];

test('worked example, reduced: recommend on PNG files finds an l* in the study plausible set', () => {
  const out = mkdtempSync(join(tmpdir(), 'defrost-example-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'scripts', 'example-your-data.mjs'),
        '--out',
        out,
        '--jobs',
        '2',
        '--folds',
        '3',
        ...REDUCED.flatMap((s) => ['--set', s]),
      ],
      { cwd: out, encoding: 'utf8', env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' }, timeout: 600_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      recommend: { l_star: number; plausible: number[]; folds: number; depths: Record<string, number> };
      study: { l_star: number; plausible: number[] };
    };
    // The user's data: 90 PNG files in one folder per target class.
    const classes = readdirSync(join(out, 'images'));
    assert.deepEqual(classes.sort(), ['Ankle boot', 'Bag', 'Sandal', 'Shirt', 'Sneaker']);
    assert.equal(
      classes.reduce((n, c) => n + readdirSync(join(out, 'images', c)).filter((f) => f.endsWith('.png')).length, 0),
      90,
    );
    assert.equal(result.recommend.folds, 3);
    assert.deepEqual(Object.keys(result.recommend.depths), ['0', '1', '2', '3']);
    assert.ok(
      result.study.plausible.includes(result.recommend.l_star),
      `recommend l* = ${result.recommend.l_star}, study plausible set ${JSON.stringify(result.study.plausible)}`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
