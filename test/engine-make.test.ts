/**
 * Acceptance 5 of issue 2: `defrost make CONFIG > p.mk && make -j2 -f p.mk` builds the same keys
 * as `run` would, and a second `make` does nothing. (The engine's toy project, 9 instances, keeps
 * the 9 separate `defrost exec` processes quick.)
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOY_CONFIG, defrost, lastJson, publishedKeys, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
});
after(() => box.cleanup());

interface StatusJson {
  instances: { stage: string; key: string; cached: boolean }[];
}

test('make -j2 builds exactly the planned keys; a second make does nothing; run then executes nothing', () => {
  const printed = defrost(box, ['make', TOY_CONFIG]);
  assert.equal(printed.code, 0, printed.stderr);
  const mk = join(box.dir, 'p.mk');
  writeFileSync(mk, printed.stdout);
  assert.match(printed.stdout, /^DEFROST \?= node \S+bin\/defrost\.js$/m);
  assert.match(printed.stdout, /^all: /m);

  const first = spawnSync('make', ['-j2', '-f', mk], { cwd: box.dir, env: box.env, encoding: 'utf8' });
  assert.equal(first.status, 0, first.stdout + first.stderr);

  const status = lastJson<StatusJson>(defrost(box, ['status', TOY_CONFIG, '--json']));
  const planned = status.instances.map((i) => `${i.stage}/${i.key}`).sort();
  assert.equal(planned.length, 9);
  assert.deepEqual(publishedKeys(box.store), planned);
  assert.ok(status.instances.every((i) => i.cached));

  const second = spawnSync('make', ['-j2', '-f', mk], { cwd: box.dir, env: box.env, encoding: 'utf8' });
  assert.equal(second.status, 0);
  assert.match(second.stdout, /Nothing to be done for 'all'/);
  assert.doesNotMatch(second.stdout + second.stderr, /defrost\.js exec/);

  const run = defrost(box, ['run', TOY_CONFIG, '--json']);
  assert.equal(lastJson(run).executed, 0);
});

test('exec of an unknown key exits 2; of a published one exits 0', () => {
  const unknown = defrost(box, ['exec', 'square', '0123456789abcdef']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no plan for square 0123456789abcdef/);
  const bad = defrost(box, ['exec', 'square', '../../etc']);
  assert.equal(bad.code, 2);
  const [stage, key] = publishedKeys(box.store)[0].split('/');
  const cached = defrost(box, ['exec', stage, key]);
  assert.equal(cached.code, 0);
  assert.match(cached.stderr, /^cached /);
});
