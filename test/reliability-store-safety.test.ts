/**
 * Issue 8, store safety: keys, prefixes and paths given to `inspect`, `export` and `exec` never
 * reach outside the store (`../`, absolute paths, symlinks planted in the store); `gc` keeps every
 * instance a given config plans, locked by a live process, or planned by a running `run`, and
 * `gc --dry-run` lists exactly what a real `gc` deletes.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, lastJson, publishedKeys, type Sandbox } from './engine-helpers.js';
import { reliabilitySandbox, SMALL_SWEEP, SWEEP_CONFIG } from './reliability-helpers.js';

let box: Sandbox;
const OTHER = ['--set', 'numbers.values=[11,12,13,14,15,16]'];
before(() => {
  box = reliabilitySandbox();
  assert.equal(defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2']).code, 0);
});
after(() => box.cleanup());

const noTrace = (r: { stderr: string }): void => assert.doesNotMatch(r.stderr, /internal error|\n\s+at \S+ \(/);

test('inspect/export/exec refuse refs that leave the store, with exit 2 and no stack trace', () => {
  // A real instance directory outside the store (a copy): reading it would leak through the store.
  const someStage = 'make-numbers';
  const key = readdirSync(join(box.store, someStage))[0];
  const outside = join(box.dir, 'elsewhere', key);
  mkdirSync(join(box.dir, 'elsewhere'), { recursive: true });
  cpSync(join(box.store, someStage, key), outside, { recursive: true });
  for (const ref of [outside, `store/../elsewhere/${key}`, '../../../../etc/passwd']) {
    for (const args of [
      ['inspect', ref],
      ['export', ref, '--format', 'csv'],
    ]) {
      const r = defrost(box, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /outside the store|neither an instance key|not a published instance/);
      noTrace(r);
    }
  }
  for (const [stage, k] of [
    ['../../etc', key],
    [someStage, '0123456789abcdef/../../x'],
  ]) {
    const r = defrost(box, ['exec', stage, k]);
    assert.equal(r.code, 2, `exec ${stage} ${k}: ${r.stderr}`);
    noTrace(r);
  }
});

test('symlinks planted in the store are refused, never followed out of it', () => {
  const secret = join(box.dir, 'secret');
  mkdirSync(secret, { recursive: true });
  writeFileSync(join(secret, 'payload.txt'), 'secret\n');
  // 1. An instance directory that is a symlink to a copy of a real instance outside the store.
  const stage = 'square';
  const key = readdirSync(join(box.store, stage))[0];
  const copy = join(box.dir, 'copy');
  cpSync(join(box.store, stage, key), copy, { recursive: true });
  rmSync(join(box.store, stage, key), { recursive: true });
  symlinkSync(copy, join(box.store, stage, key));
  for (const ref of [key, key.slice(0, 8), join(box.store, stage, key)]) {
    const r = defrost(box, ['inspect', ref]);
    assert.notEqual(r.code, 0, `inspect ${ref} followed a planted symlink: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /params:/);
    noTrace(r);
  }
  rmSync(join(box.store, stage, key));
  cpSync(copy, join(box.store, stage, key), { recursive: true });

  // 2. An output file replaced by a symlink to a file outside.
  const victim = readdirSync(join(box.store, 'square'))[0];
  const file = join(box.store, 'square', victim, 'out.arrow');
  rmSync(file);
  symlinkSync(join(secret, 'payload.txt'), file);
  const r = defrost(box, ['export', victim, '--format', 'json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /symbolic link/);
  assert.doesNotMatch(r.stdout, /secret/);
  noTrace(r);

  // 3. The lock directory planted as a symlink out of the store: exec must not write through it.
  const locks = join(box.store, '.locks');
  rmSync(locks, { recursive: true, force: true });
  symlinkSync(secret, locks);
  const ex = defrost(box, ['exec', 'square', victim, '--force']);
  assert.notEqual(ex.code, 0);
  assert.deepEqual(readdirSync(secret), ['payload.txt'], 'exec wrote through a planted symlink');
  rmSync(locks);
  rmSync(file);
});

interface GcJson {
  dry_run: boolean;
  deleted: { stage: string; key: string }[];
  kept: number;
  locked: string[];
}

test('gc keeps what a given config plans, what is locked and what a running run uses; --dry-run lists exactly what gc deletes', () => {
  // A second sweep's instances: gc with only the first config given must consider them garbage.
  assert.equal(defrost(box, ['run', SWEEP_CONFIG, ...OTHER, '--jobs', '2']).code, 0);
  // gc takes configs without --set: the first sweep as a config file of its own.
  const quick = join(box.dir, 'toy-small.yaml');
  writeFileSync(quick, readFileSync(SWEEP_CONFIG, 'utf8').replace(/^ {2}values: .*$/m, '  values: [1, 2, 3, 4, 5, 6, 7, 8]'));
  assert.match(readFileSync(quick, 'utf8'), /values: \[1, 2, 3, 4, 5, 6, 7, 8\]/);
  const before = publishedKeys(box.store);
  const planned = lastJson<{ instances: { stage: string; key: string }[] }>(defrost(box, ['status', quick, '--json']));
  const keep = new Set(planned.instances.map((i) => `${i.stage}/${i.key}`));
  const garbage = before.filter((k) => !keep.has(k));
  assert.ok(garbage.length > 5, `the second sweep should leave garbage (${garbage.length})`);

  // One garbage instance is locked by a live process (this test), one is planned by a live run.
  const [lockedStage, lockedKey] = garbage[0].split('/');
  mkdirSync(join(box.store, '.locks'), { recursive: true });
  writeFileSync(
    join(box.store, '.locks', `${lockedKey}.lock`),
    JSON.stringify({ host: hostname(), pid: process.pid, started: new Date().toISOString(), run: 'test' }),
  );
  mkdirSync(join(box.store, '.runs'), { recursive: true });
  writeFileSync(
    join(box.store, '.runs', 'live-run.json'),
    JSON.stringify({ owner: { host: hostname(), pid: process.pid, started: '', run: 'test' }, instances: [garbage[1]] }),
  );
  // A dead run's record protects nothing.
  writeFileSync(
    join(box.store, '.runs', 'dead-run.json'),
    JSON.stringify({ owner: { host: hostname(), pid: 2 ** 22 + 17, started: '', run: 'dead' }, instances: [garbage[2]] }),
  );

  const dry = defrost(box, ['gc', quick, '--keep-last', '0', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const d = lastJson<GcJson>(dry);
  assert.deepEqual(publishedKeys(box.store), before, '--dry-run deleted something');
  const real = defrost(box, ['gc', quick, '--keep-last', '0', '--yes', '--json']);
  assert.equal(real.code, 0, real.stderr);
  const g = lastJson<GcJson>(real);
  const names = (x: GcJson): string[] => x.deleted.map((e) => `${e.stage}/${e.key}`).sort();
  assert.deepEqual(names(d), names(g), '--dry-run must list exactly what gc deletes');
  const after = new Set(publishedKeys(box.store));
  assert.deepEqual(names(g), before.filter((k) => !after.has(k)).sort(), 'gc deleted exactly what it listed');
  for (const k of keep) if (before.includes(k)) assert.ok(after.has(k), `gc deleted ${k}, which the config plans`);
  assert.ok(after.has(`${lockedStage}/${lockedKey}`), 'gc deleted an instance locked by a live process');
  assert.ok(after.has(garbage[1]), 'gc deleted an instance a running run planned');
  assert.ok(!after.has(garbage[2]), 'a dead run protects nothing');
  assert.equal(after.size, keep.size + 2);
  assert.ok(!existsSync(join(box.store, '.runs', 'dead-run.json')), 'gc removes records of dead runs');
});
