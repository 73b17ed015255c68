/**
 * Acceptance 4 of issue 2, on the engine's toy project — an unknown key, a wrong type, a value
 * that breaks a cross-field rule exit 2 naming the key and what is allowed, and write nothing to
 * the store — plus the pure pieces the cache rests on: canonical hashing, --set parsing, param
 * diffs and lock staleness. defrost's own config rules are tested in defrost-config.test.ts.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { applySet } from '../pipeline/config-loader.js';
import { canonicalHash, instanceKey } from '../pipeline/hash.js';
import { diffJson } from '../pipeline/why.js';
import { tryAcquire, newOwner, readOwner } from '../pipeline/lock.js';
import { TOY_CONFIG, defrost, toySandbox, type Sandbox } from './engine-helpers.js';
import { scratchDir } from './stage-rig.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
});
after(() => box.cleanup());

function rejects(args: string[], key: RegExp, allowed: RegExp): void {
  const r = defrost(box, ['run', ...args]);
  assert.equal(r.code, 2, `exit code\n${r.stderr}`);
  assert.match(r.stderr, key);
  assert.match(r.stderr, allowed);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.equal(existsSync(box.store), false, 'nothing written to the store');
}

test('an unknown key exits 2 naming it and the known keys', () => {
  rejects([TOY_CONFIG, '--set', 'sum.kk=3'], /sum\.kk: got 3/, /known keys of sum: top, kind/);
  const file = join(box.dir, 'typo.yaml');
  writeFileSync(file, 'numbers:\n  value: [10]\n');
  rejects([file], /numbers\.value: got \[10\]/, /no such key; did you mean numbers\.values\?; known keys of numbers: values, length/);
});

test('a wrong type exits 2 naming the key, the value and the type allowed', () => {
  rejects([TOY_CONFIG, '--set', 'numbers.length=many'], /numbers\.length: got "many"/, /allowed: a value of type number/);
  rejects([TOY_CONFIG, '--set', 'sum.kind=median'], /sum\.kind: got "median"/, /one of "plain", "mean"/);
});

test("a value breaking the project's cross-field check exits 2 naming the key and the allowed range", () => {
  rejects([TOY_CONFIG, '--set', 'sum.top=5'], /sum\.top: got 5/, /an integer from 1 to numbers\.length = 4/);
});

test('a missing config file and a bad --set are usage errors (exit 2)', () => {
  rejects([join(box.dir, 'nope.yaml')], /cannot read config .*nope\.yaml: no such file/, /./);
  rejects([TOY_CONFIG, '--set', 'seed'], /--set seed: expected key\.path=value/, /./);
  rejects([TOY_CONFIG, '--jobs', '0'], /--jobs: got "0"/, /a whole number >= 1/);
});

test('--set parses values as YAML and creates missing sections', () => {
  const raw: Record<string, unknown> = { task: { kind: 'synthetic' } };
  applySet(raw, 'task.target_sizes=[20, 100]');
  applySet(raw, 'train.learning_rate=0.5');
  applySet(raw, 'similarity.save_activations=true');
  assert.deepEqual(raw, {
    task: { kind: 'synthetic', target_sizes: [20, 100] },
    train: { learning_rate: 0.5 },
    similarity: { save_activations: true },
  });
});

test('keys ignore object key order but not values, arrays order, or types', () => {
  const a = { stage: 's', params: { x: 1, y: [1, 2] }, inputs: { data: 'aaaa' }, code: 'c' };
  const b = { code: 'c', inputs: { data: 'aaaa' }, params: { y: [1, 2], x: 1 }, stage: 's' };
  assert.equal(instanceKey(a), instanceKey(b));
  assert.match(instanceKey(a), /^[0-9a-f]{16}$/);
  assert.notEqual(instanceKey(a), instanceKey({ ...a, params: { x: 1, y: [2, 1] } }));
  assert.notEqual(instanceKey(a), instanceKey({ ...a, code: 'd' }));
  assert.notEqual(canonicalHash({ x: 1 }), canonicalHash({ x: '1' }));
});

test('param diffs name dotted paths with old and new values', () => {
  assert.deepEqual(diffJson({ a: 1, s: { k: 5, m: ['cka'] } }, { a: 1, s: { k: 7, m: ['cka'] } }), [{ path: 's.k', old: 5, new: 7 }]);
  assert.deepEqual(diffJson({ a: 1 }, { a: 1, b: 2 }), [{ path: 'b', old: undefined, new: 2 }]);
});

test('a lock of a dead process is stale and is taken over; a live one is respected', () => {
  const dir = scratchDir('lock');
  try {
    const path = join(dir, 'k.lock');
    const first = tryAcquire(path, newOwner('a'));
    assert.equal(first.acquired, true);
    const second = tryAcquire(path, { ...newOwner('b'), pid: process.pid + 0 });
    // Same live process (this one) holds it: not acquired.
    assert.equal(second.acquired, false);
    if (first.acquired) first.lock.release();
    assert.equal(existsSync(path), false);
    // A lock left by a process that no longer exists: a pid far beyond pid_max is never alive.
    writeFileSync(path, JSON.stringify({ ...newOwner('dead'), pid: 2 ** 30 }));
    const third = tryAcquire(path, newOwner('c'));
    assert.equal(third.acquired, true);
    assert.equal(readOwner(path)?.run, 'c');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
