/**
 * Issue 18, a tampered, foreign or hostile store: one test per finding of the red-team pass
 * (numbers as in the issue). Each plants the hostile shape in a finished store of the engine's
 * toy project (make-numbers -> square -> sum) and checks that defrost neither obeys it, escapes the
 * store, hangs, nor deletes anything that is not its own. (Findings 6 and 8, memory and numerics
 * of the similarity measures, are in similarity-robustness.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, lastJson, publishedKeys } from './engine-helpers.js';
import { finishedStoreRig, SMALL_SWEEP, SWEEP_CONFIG } from './reliability-helpers.js';
import { NotRegularFileError, readRegularFile } from '../pipeline/fsutil.js';
import { newOwner, readOwner, tryAcquire } from '../pipeline/lock.js';
import { partialReportDir } from '../stages/report/after-run.js';

const rig = finishedStoreRig();
const { copyStore, on, noTrace } = rig;
const firstKey = (store: string, stage: string): string => readdirSync(join(store, stage)).sort()[0];
const manifestOf = (store: string, stage: string, key: string): { params: unknown } =>
  JSON.parse(readFileSync(join(store, stage, key, 'manifest.json'), 'utf8')) as { params: unknown };

test('1. an edited plan record is refused, reported by verify, and rewritten from the config by run', () => {
  const store = copyStore('s1');
  const key = firstKey(store, 'square');
  const original = manifestOf(store, 'square', key).params;
  const planFile = join(store, '.plans', 'square', `${key}.json`);
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as { params: Record<string, unknown> };
  plan.params = { ...plan.params, square: { offset: 1e9 }, injected: true };
  writeFileSync(planFile, JSON.stringify(plan));
  rmSync(join(store, 'square', key), { recursive: true });

  const v = on(store, ['verify']);
  assert.equal(v.code, 1, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`${key}.*hashes to [0-9a-f]{16}, not to its key`));
  const ex = on(store, ['exec', 'square', key]);
  assert.equal(ex.code, 2, ex.stderr);
  assert.match(ex.stderr, /refused.*rewrites it from the config/);
  assert.equal(existsSync(join(store, 'square', key)), false, 'exec obeyed an edited plan');

  const run = on(store, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /plan record of .* was damaged or edited; rewritten/);
  assert.equal(lastJson(run).executed_by_stage.square, 1);
  assert.deepEqual(manifestOf(store, 'square', key).params, original, 'the instance was computed from the edited plan');
  assert.equal(on(store, ['verify']).code, 0);
});

test('2. a directory that is not a store is never written to or deleted from; an older store is adopted', () => {
  const home = join(rig.box.dir, 'home');
  mkdirSync(join(home, 'notes', '0123456789abcdef'), { recursive: true });
  writeFileSync(join(home, 'thesis.tex'), 'chapter 1\n');
  writeFileSync(join(home, 'notes', '0123456789abcdef', 'draft.txt'), 'keep me\n');
  mkdirSync(join(home, 'x', 'fedcba9876543210'), { recursive: true });
  writeFileSync(join(home, 'x', 'fedcba9876543210', 'manifest.json'), '{"mine": true}\n');
  const listing = (): string => execFileSync('find', [home], { encoding: 'utf8' });
  const beforeList = listing();
  for (const args of [['run', SWEEP_CONFIG, ...SMALL_SWEEP], ['gc', SWEEP_CONFIG], ['make', SWEEP_CONFIG], ['init']]) {
    const r = on(home, args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /is not a defrost store \(no \.defrost-store mark/);
    assert.match(r.stderr, /empty directory|defrost init/);
    noTrace(r);
  }
  const env = defrost(rig.box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP], { DEFROST_STORE: home });
  assert.equal(env.code, 2);
  assert.equal(listing(), beforeList, 'something in the foreign directory changed');

  // A store made before the mark existed: recognised by its layout, adopted, kept whole.
  const legacy = copyStore('legacy');
  rmSync(join(legacy, '.defrost-store'));
  const r = on(legacy, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr + r.stdout, /older defrost.*mark written/);
  assert.equal(lastJson(r).executed, 0);
  assert.ok(existsSync(join(legacy, '.defrost-store')));

  // A fresh clone's artifacts/ holds only git's placeholder: it is an empty store, not a foreign directory.
  const clone = join(rig.box.dir, 'clone-artifacts');
  mkdirSync(clone);
  writeFileSync(join(clone, '.gitkeep'), '');
  const fresh = on(clone, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.ok(lastJson(fresh).executed > 0);
  assert.ok(existsSync(join(clone, '.defrost-store')) && existsSync(join(clone, '.gitkeep')));
});

test('3. a planted plan record of the gathering stage (sum) with a traversing key is never read; the partial report stays in the store', () => {
  const store = copyStore('s3');
  const key = firstKey(store, 'sum');
  const real = JSON.parse(readFileSync(join(store, '.plans', 'sum', `${key}.json`), 'utf8')) as { inputs: Record<string, unknown> };
  const outside = join(rig.box.dir, 'outside3');
  for (const name of ['0000000000000000.json', 'evil.json'])
    writeFileSync(join(store, '.plans', 'sum', name), JSON.stringify({ ...real, key: `x/../../../../${outside}/pwned` }));
  // The end-of-run hook takes the plan and the outcomes from the engine (`afterRun`), never from
  // plan records found in the store: a run that recomputes the sum goes nowhere near them.
  rmSync(join(store, 'sum', key), { recursive: true });
  const r = on(store, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(r.code, 0, r.stderr);
  noTrace(r);
  assert.equal(lastJson(r).executed, 1);
  assert.throws(() => partialReportDir(store, `x/../../../../${outside}/pwned`), /not an instance key/);
  assert.equal(partialReportDir(store, key), join(store, '.reports', `partial-${key}`));
  assert.equal(existsSync(outside), false);
});

test('4. internal directories symlinked out of the store are refused: nothing written, moved or deleted outside', () => {
  const store = copyStore('s4');
  const outside = join(rig.box.dir, 'outside4');
  for (const name of ['.runs', '.quarantine', '.reports', '.logs']) {
    mkdirSync(join(outside, name), { recursive: true });
    rmSync(join(store, name), { recursive: true, force: true });
    symlinkSync(join(outside, name), join(store, name));
  }
  // Looks like a dead run's record: gc used to delete such files through the link.
  writeFileSync(
    join(outside, '.runs', 'precious.json'),
    JSON.stringify({ owner: { host: hostname(), pid: 2 ** 30, started: '', run: 'x' }, instances: [] }),
  );
  // A damaged instance: run used to move it into the symlinked quarantine.
  const victim = firstKey(store, 'square');
  writeFileSync(join(store, 'square', victim, 'manifest.json'), '{ truncated');
  const snapshot = (): string => execFileSync('find', [outside, '-printf', '%p %s\n'], { encoding: 'utf8' });
  const beforeList = snapshot();
  for (const args of [['run', SWEEP_CONFIG, ...SMALL_SWEEP], ['gc', SWEEP_CONFIG, '--keep-last', '0', '--json'], ['verify']]) {
    const r = on(store, args);
    assert.notEqual(r.code, 0, `${args[0]} went on through planted symlinks: ${r.stdout}`);
    assert.match(r.stdout + r.stderr, /symbolic link/);
    noTrace(r);
  }
  assert.equal(snapshot(), beforeList, 'something outside the store changed');

  // A symlinked instance directory: verify reports it, run moves the link aside and recomputes.
  const s2 = copyStore('s4b');
  const key = firstKey(s2, 'square');
  cpSync(join(s2, 'square', key), join(outside, 'copy'), { recursive: true });
  rmSync(join(s2, 'square', key), { recursive: true });
  symlinkSync(join(outside, 'copy'), join(s2, 'square', key));
  const v = on(s2, ['verify']);
  assert.equal(v.code, 1);
  assert.match(v.stdout, new RegExp(`${key}.*symbolic link`));
  const run = on(s2, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(lastJson(run).executed_by_stage.square, 1);
  assert.ok(existsSync(join(outside, 'copy', 'manifest.json')), 'the link target was touched');
});

test('5. FIFOs and devices are refused without blocking: every command ends', () => {
  const store = copyStore('s5');
  const key = firstKey(store, 'square');
  const manifest = join(store, 'square', key, 'manifest.json');
  rmSync(manifest);
  execFileSync('mkfifo', [manifest]);
  mkdirSync(join(store, '.runs'), { recursive: true });
  execFileSync('mkfifo', [join(store, '.runs', 'fifo.json')]);
  execFileSync('mkfifo', [join(store, '.locks', `${firstKey(store, 'make-numbers')}.lock`)]);
  for (const args of [
    ['verify'],
    ['ls'],
    ['status', SWEEP_CONFIG, ...SMALL_SWEEP],
    ['gc', SWEEP_CONFIG, '--dry-run'],
    ['run', SWEEP_CONFIG, ...SMALL_SWEEP],
  ]) {
    const started = Date.now();
    const r = on(store, args);
    assert.ok(Date.now() - started < 30_000, `${args[0]} took too long`);
    assert.notEqual(r.code, null, `${args[0]} hung (killed by the timeout)`);
    noTrace(r);
    if (args[0] === 'verify') assert.match(r.stdout, /FIFO/);
  }
  assert.throws(() => readRegularFile('/dev/zero'), NotRegularFileError);
  const st = defrost(rig.box, ['status', '/dev/zero']);
  assert.equal(st.code, 2, st.stderr);
  assert.match(st.stderr, /device|not a regular file/);
});

test('7. locks of unrelated live processes or other hosts expire; kills and disk-full leave nothing the next run keeps', () => {
  const dir = join(rig.box.dir, 'locks7');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'k.lock');
  const old = new Date(Date.now() - 3600_000);
  // pid 1 is alive but not ours: a recorded start time that differs says so at once.
  writeFileSync(path, JSON.stringify({ ...newOwner('x'), pid: 1, pid_start: '1' }));
  assert.equal(tryAcquire(path, newOwner('a')).acquired, true);
  rmSync(path);
  // No start time (planted by hand) or another host: judged by the heartbeat lease.
  for (const planted of [
    { host: hostname(), pid: 1, started: '', run: 'x' },
    { host: 'elsewhere', pid: 42, started: '', run: 'x' },
  ]) {
    writeFileSync(path, JSON.stringify(planted));
    assert.equal(tryAcquire(path, newOwner('b')).acquired, false, 'a fresh lease must be respected');
    utimesSync(path, old, old);
    const t = tryAcquire(path, newOwner('c'));
    assert.equal(t.acquired, true, `an expired lease of ${planted.host} must be broken`);
    assert.equal(readOwner(path)?.run, 'c');
    if (t.acquired) t.lock.release();
  }

  // status tells a locked instance (being computed) from a new one, and a stale lock from a live one.
  const locked = copyStore('s7-status');
  const lockedKey = firstKey(locked, 'square');
  rmSync(join(locked, 'square', lockedKey), { recursive: true });
  const lockFile = join(locked, '.locks', `${lockedKey}.lock`);
  mkdirSync(join(locked, '.locks'), { recursive: true });
  interface StatusJson {
    instances: { key: string; lock?: { live: boolean } }[];
  }
  const lockOf = (): { live: boolean } | undefined =>
    lastJson<StatusJson>(on(locked, ['status', SWEEP_CONFIG, ...SMALL_SWEEP, '--json'])).instances.find((i) => i.key === lockedKey)?.lock;
  writeFileSync(lockFile, JSON.stringify(newOwner('test')));
  assert.equal(lockOf()?.live, true);
  writeFileSync(lockFile, JSON.stringify({ ...newOwner('test'), pid: 1, pid_start: '1' }));
  assert.equal(lockOf()?.live, false);

  // Orphans of a killed run: a staging dir whose maker's pid now belongs to another process, and
  // the temp files of interrupted lock and plan-record writes. The next run (all cached) removes them.
  const store = copyStore('s7');
  const key = firstKey(store, 'square');
  const staging = join(store, '.tmp', `square-${key}-${hostname()}-1-0123abcd`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'out.arrow'), 'partial');
  const lockTmp = join(store, '.locks', `${key}.lock.${hostname()}-1-0123abcd.tmp`);
  writeFileSync(lockTmp, '{}');
  const planTmp = join(store, '.plans', 'square', `${key}.json.tmp-${hostname()}-1-0123abcd`);
  writeFileSync(planTmp, '{');
  for (const p of [staging, lockTmp, planTmp]) utimesSync(p, old, old);
  // A truncated plan record: rewritten by the run, which then succeeds.
  truncateSync(join(store, '.plans', 'square', `${key}.json`), 10);
  rmSync(join(store, 'square', key), { recursive: true });
  const r = on(store, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lastJson(r).executed_by_stage.square, 1);
  for (const p of [staging, lockTmp, planTmp]) assert.equal(existsSync(p), false, `${p} survived the next run`);
  assert.equal(on(store, ['verify']).code, 0);
});

test('9. gc keeps an exported Makefile build and a running exec; fails before deleting anything', () => {
  const store = copyStore('s9');
  const other = join(rig.box.dir, 'other.yaml');
  writeFileSync(other, readFileSync(SWEEP_CONFIG, 'utf8').replace(/^ {2}values: .*$/m, '  values: [70]'));
  assert.match(readFileSync(other, 'utf8'), /values: \[70\]/);
  // `defrost make` of the sweep: its instances are a build in progress, not garbage.
  const mk = on(store, ['make', SWEEP_CONFIG, ...SMALL_SWEEP]);
  assert.equal(mk.code, 0, mk.stderr);
  const beforeKeys = publishedKeys(store);
  const gc = on(store, ['gc', other, '--keep-last', '0', '--yes', '--json']);
  assert.equal(gc.code, 0, gc.stderr);
  assert.deepEqual(publishedKeys(store), beforeKeys, 'gc deleted inputs of an exported Makefile build');

  // A symlinked .plans: gc refuses before it deletes a single instance.
  const s2 = copyStore('s9b');
  const outside = join(rig.box.dir, 'plans9');
  cpSync(join(s2, '.plans'), outside, { recursive: true });
  rmSync(join(s2, '.plans'), { recursive: true });
  symlinkSync(outside, join(s2, '.plans'));
  const before2 = publishedKeys(s2);
  const g2 = on(s2, ['gc', other, '--keep-last', '0', '--yes']);
  assert.notEqual(g2.code, 0);
  noTrace(g2);
  assert.deepEqual(publishedKeys(s2), before2, 'gc deleted part of the store before failing');
});

test('10. no stack traces: --store FILE, a corrupted Arrow file, export into the store, control characters', () => {
  const file = join(rig.box.dir, 'a-file');
  writeFileSync(file, 'not a store\n');
  for (const args of [['ls'], ['verify'], ['run', SWEEP_CONFIG, ...SMALL_SWEEP], ['gc', SWEEP_CONFIG]]) {
    const r = on(file, args);
    assert.notEqual(r.code, 0, args[0]);
    assert.notEqual(r.code, 70, `${args[0]}: ${r.stderr}`);
    noTrace(r);
  }
  const store = copyStore('s10');
  const key = firstKey(store, 'square');
  const arrow = join(store, 'square', key, 'out.arrow');
  const bytes = readFileSync(arrow);
  bytes.fill(0x7f, 8, Math.min(bytes.length - 8, 400)); // same size: only the sha256 tells
  writeFileSync(arrow, bytes);
  for (const args of [
    ['inspect', key],
    ['export', key, '--format', 'csv'],
  ]) {
    const r = on(store, args);
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, 70, r.stderr);
    noTrace(r);
  }
  const published = join(store, 'make-numbers', firstKey(store, 'make-numbers'), 'out.arrow');
  const was = readFileSync(published);
  const ex = on(store, ['export', firstKey(store, 'sum'), '--format', 'csv', '--out', published]);
  assert.equal(ex.code, 2, ex.stderr);
  assert.match(ex.stderr, /inside the store/);
  assert.deepEqual(readFileSync(published), was);
  const ctl = defrost(rig.box, ['status', SWEEP_CONFIG, '--set', 'numbers.\u001b[31mevil\u0007=1']);
  assert.equal(ctl.code, 2);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(ctl.stderr, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'control characters echoed raw');
  assert.match(ctl.stderr, /\\u001b|\\x1b|\\e/);
});
