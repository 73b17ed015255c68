/**
 * Acceptance 1 and 2 of issue 2, on quick.yaml (135 instances) with the toy stages: a second run
 * executes nothing; appending a target size, changing similarity.k, or editing a comment in the
 * similarity stage's code re-executes exactly what docs/engine.md says (via executed_by_stage);
 * `status` explains why; the published store verifies.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK, defrost, lastJson, publishedKeys, sandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

const run = (...args: string[]) => {
  const r = defrost(box, ['run', QUICK, '--json', '--jobs', '2', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return lastJson(r);
};

interface StatusJson {
  total: number;
  cached: number;
  instances: { id: string; stage: string; cached: boolean; reason: string | null; detail: string | null }[];
}

test('first run executes all 135 instances, the second none', () => {
  const first = run();
  assert.equal(first.stages, 135);
  assert.equal(first.executed, 135);
  assert.deepEqual(first.executed_by_stage, {
    'generate-data': 3,
    'train-source': 3,
    'train-scratch': 18,
    transfer: 108,
    similarity: 2,
    aggregate: 1,
  });
  const second = run();
  assert.equal(second.executed, 0);
  assert.equal(second.cached, 135);
  assert.deepEqual(second.executed_by_stage, {});
});

test('status explains: appended target size is new, changed similarity.k names the param', () => {
  const r = defrost(box, ['status', QUICK, '--json', '--set', 'task.target_sizes=[20,100,400,200]', '--set', 'similarity.k=7']);
  assert.equal(r.code, 0, r.stderr);
  const status = lastJson<StatusJson>(r);
  const pending = status.instances.filter((i) => !i.cached);
  const sim = pending.filter((i) => i.stage === 'similarity');
  assert.equal(sim.length, 2);
  for (const s of sim) assert.equal(s.detail, 'params changed: similarity.k 5 -> 7');
  const newScratch = pending.filter((i) => i.stage === 'train-scratch');
  assert.equal(newScratch.length, 6);
  for (const s of newScratch) assert.equal(s.reason, 'new');
  const agg = pending.find((i) => i.stage === 'aggregate');
  assert.ok(agg?.detail?.startsWith('input changed'), agg?.detail ?? '');
  assert.equal(pending.length, 6 + 36 + 2 + 1);
});

test('appending a target size executes only the new instances and aggregate', () => {
  const r = run('--set', 'task.target_sizes=[20,100,400,200]');
  assert.deepEqual(r.executed_by_stage, { 'train-scratch': 6, transfer: 36, aggregate: 1 });
});

test('changing similarity.k executes only similarity and aggregate', () => {
  const r = run('--set', 'similarity.k=7');
  assert.deepEqual(r.executed_by_stage, { similarity: 2, aggregate: 1 });
});

test("editing a comment in the similarity stage's code executes only similarity and aggregate", () => {
  const status0 = lastJson<StatusJson>(defrost(box, ['status', QUICK, '--json']));
  assert.equal(status0.cached, 135);
  appendFileSync(join(box.codeRoot, 'toy', 'similarity.ts'), '// a new comment\n');
  const status = lastJson<StatusJson>(defrost(box, ['status', QUICK, '--json']));
  const pending = status.instances.filter((i) => !i.cached);
  assert.deepEqual(pending.map((i) => `${i.stage}: ${i.reason}`).sort(), [
    'aggregate: input changed',
    'similarity: code changed',
    'similarity: code changed',
  ]);
  const r = run();
  assert.deepEqual(r.executed_by_stage, { similarity: 2, aggregate: 1 });
});

test('the store verifies, and a damaged file is named', () => {
  const ok = defrost(box, ['verify', '--json']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const v = lastJson<{ instances: number; ok: number; damaged: unknown[] }>(ok);
  assert.equal(v.ok, v.instances);
  // 135 + 43 (target size 200) + 3 (k = 7) + 3 (similarity code edit)
  assert.equal(v.instances, 184, JSON.stringify(v));

  const [stage, key] = publishedKeys(box.store)[0].split('/');
  appendFileSync(join(box.store, stage, key, 'out.arrow'), 'x');
  const bad = defrost(box, ['verify']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, new RegExp(`DAMAGED ${stage} ${key}: out.arrow: size`));
});
