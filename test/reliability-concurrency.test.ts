/**
 * Issue 8, concurrency: four simultaneous `run`s over overlapping configs, `--jobs 2` each, all
 * finish; every instance is computed exactly once across them (counted from the stages' own trace
 * of what they computed, and from the runs' summaries); the store verifies clean.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, defrostAsync, lastJson, publishedKeys } from './engine-helpers.js';
import { entries, manifestlessDirs, reliabilitySandbox, SWEEP_CONFIG } from './reliability-helpers.js';

const box = reliabilitySandbox({ DEFROST_TOY_SLEEP_MS: '40' });
after(() => box.cleanup());

// Overlapping sweeps: every value is in at least two of them (its make-numbers and square are shared).
const CONFIGS = [
  ['--set', 'numbers.values=[1,2,3,4]'],
  ['--set', 'numbers.values=[3,4,5,6]'],
  ['--set', 'numbers.values=[1,5,6,7]'],
  ['--set', 'numbers.values=[2,7,3]'],
];

test('4 simultaneous runs over overlapping configs compute each instance exactly once', async () => {
  const trace = join(box.dir, 'trace.txt');
  const runs = CONFIGS.map((sets) =>
    defrostAsync(box, ['run', SWEEP_CONFIG, ...sets, '--jobs', '2', '--json'], { DEFROST_TOY_TRACE: trace }),
  );
  const results = await Promise.all(runs.map((r) => r.done));
  const summaries = results.map((r, i) => {
    assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
    return lastJson(r);
  });

  const computed = readFileSync(trace, 'utf8').trim().split('\n');
  const counts = new Map<string, number>();
  for (const line of computed) counts.set(line, (counts.get(line) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'instances computed more than once');

  const published = publishedKeys(box.store);
  assert.equal(counts.size, published.length, 'every published instance was computed by exactly one run');
  const executed = summaries.reduce((sum, s) => sum + s.executed, 0);
  assert.equal(executed, published.length, 'the runs\u2019 `executed` counts add up to the instances in the store');
  for (const s of summaries) assert.equal(s.executed + s.cached, s.stages);

  assert.deepEqual(
    entries(box.store, '.locks').filter((n) => n.endsWith('.lock')),
    [],
  );
  assert.deepEqual(manifestlessDirs(box.store), []);
  assert.deepEqual(entries(box.store, '.runs'), [], 'finished runs must deregister');
  const v = defrost(box, ['verify']);
  assert.equal(v.code, 0, v.stdout);
});
