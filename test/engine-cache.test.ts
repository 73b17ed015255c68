/**
 * Acceptance 1 and 2 of issue 2, on the engine's toy project (test/toy-project/, 4 values: 9
 * instances): a second run executes nothing; appending a value, changing a param, or editing a
 * comment in a stage's code re-executes exactly what docs/engine.md says (via executed_by_stage);
 * `status` explains why; the published store verifies.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOY_CONFIG, defrost, lastJson, publishedKeys, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
});
after(() => box.cleanup());

const run = (...args: string[]) => {
  const r = defrost(box, ['run', TOY_CONFIG, '--json', '--jobs', '2', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return lastJson(r);
};

interface StatusJson {
  total: number;
  cached: number;
  instances: { id: string; stage: string; cached: boolean; reason: string | null; detail: string | null }[];
}

test('first run executes all 9 instances, the second none', () => {
  const first = run();
  assert.equal(first.stages, 9);
  assert.equal(first.executed, 9);
  assert.deepEqual(first.executed_by_stage, { 'make-numbers': 4, square: 4, sum: 1 });
  const second = run();
  assert.equal(second.executed, 0);
  assert.equal(second.cached, 9);
  assert.deepEqual(second.executed_by_stage, {});
});

test('status explains: an appended value is new, a changed square.offset names the param', () => {
  const r = defrost(box, ['status', TOY_CONFIG, '--json', '--set', 'numbers.values=[1,2,3,4,5]', '--set', 'square.offset=1']);
  assert.equal(r.code, 0, r.stderr);
  const status = lastJson<StatusJson>(r);
  const pending = status.instances.filter((i) => !i.cached);
  const changed = pending.filter((i) => i.stage === 'square' && i.reason !== 'new');
  assert.equal(changed.length, 4);
  for (const s of changed) assert.equal(s.detail, 'params changed: square.offset 0 -> 1');
  const added = pending.filter((i) => i.reason === 'new').map((i) => i.id);
  assert.deepEqual(added.sort(), ['make-numbers[value=5]', 'square[value=5]']);
  const sum = pending.find((i) => i.stage === 'sum');
  assert.ok(sum?.detail?.startsWith('input changed'), sum?.detail ?? '');
  assert.equal(pending.length, 2 + 4 + 1);
});

test('appending a value executes only the new instances and the sum', () => {
  const r = run('--set', 'numbers.values=[1,2,3,4,5]');
  assert.deepEqual(r.executed_by_stage, { 'make-numbers': 1, square: 1, sum: 1 });
});

test('changing square.offset executes only square and sum', () => {
  const r = run('--set', 'square.offset=1');
  assert.deepEqual(r.executed_by_stage, { square: 4, sum: 1 });
});

test('changing sum.top executes only sum', () => {
  const r = run('--set', 'sum.top=2');
  assert.deepEqual(r.executed_by_stage, { sum: 1 });
});

test("editing the square stage's code executes only square and sum; editing a comment, nothing", () => {
  const status0 = lastJson<StatusJson>(defrost(box, ['status', TOY_CONFIG, '--json']));
  assert.equal(status0.cached, 9);
  appendFileSync(join(box.codeRoot, 'toy', 'square.ts'), '// a new comment\n');
  assert.equal(lastJson<StatusJson>(defrost(box, ['status', TOY_CONFIG, '--json'])).cached, 9, 'a comment is not code');
  appendFileSync(join(box.codeRoot, 'toy', 'square.ts'), 'export const edited = true;\n');
  const status = lastJson<StatusJson>(defrost(box, ['status', TOY_CONFIG, '--json']));
  const pending = status.instances.filter((i) => !i.cached);
  assert.deepEqual(pending.map((i) => `${i.stage}: ${i.reason}`).sort(), [
    'square: code changed',
    'square: code changed',
    'square: code changed',
    'square: code changed',
    'sum: input changed',
  ]);
  const r = run();
  assert.deepEqual(r.executed_by_stage, { square: 4, sum: 1 });
});

test('the store verifies, and a damaged file is named', () => {
  const ok = defrost(box, ['verify', '--json']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const v = lastJson<{ instances: number; ok: number; damaged: unknown[] }>(ok);
  assert.equal(v.ok, v.instances);
  // 9 + 3 (value 5) + 5 (offset 1) + 1 (top 2) + 5 (square code edit)
  assert.equal(v.instances, 23, JSON.stringify(v));

  const [stage, key] = publishedKeys(box.store)[0].split('/');
  appendFileSync(join(box.store, stage, key, 'out.arrow'), 'x');
  const bad = defrost(box, ['verify']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, new RegExp(`DAMAGED ${stage} ${key}: out.arrow: size`));
});
