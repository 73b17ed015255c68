/**
 * Issue 27, the store side: a hostile store or output path can neither cost a file that is not
 * defrost's, nor make defrost write outside the store, nor lose what a run needed, nor put raw
 * escape sequences on the terminal. One test per defect (numbers as in the issue), each on its
 * own copy of a finished store of the engine's toy project (make-numbers -> square -> sum); the
 * rules are in docs/reliability.md.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, lastJson, publishedKeys } from './engine-helpers.js';
import { finishedStoreRig, SMALL_SWEEP, SWEEP_CONFIG } from './reliability-helpers.js';
import { sourceLines } from './source-scan.js';
import { StoreLayoutError } from '../pipeline/errors.js';
import { INTERNAL_DIRS, MARK_FILE } from '../pipeline/store-dirs.js';
import { writeRunReport } from '../stages/report/run-footer.js';
import { defineTable } from '../stages/lib/tables/define-table.js';
import { writeTable } from '../stages/lib/tables/arrow-io.js';
import type { RunRecord } from '../pipeline/run-records.js';

const rig = finishedStoreRig();
const { copyStore, on, noTrace } = rig;
const keysOf = (store: string, stage: string): string[] => readdirSync(join(store, stage)).sort();
/** Every path under `dir` with its size and content hash: what must not change. */
const snapshot = (dir: string): string =>
  execFileSync('sh', ['-c', `cd '${dir}' && find . -printf '%p %y %s\\n' | sort && find . -type f -exec sha256sum {} + | sort`], {
    encoding: 'utf8',
  });
const recordFiles = (store: string): string[] => readdirSync(join(store, '.run-records')).map((n) => join(store, '.run-records', n));
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

test("defect 0: a directory that merely looks like an old store is refused; only what is provably defrost's is deleted", () => {
  // `$HOME/x/projects/0123456789abcdef/thesis.tex`: the layout of a store, but nothing of defrost's.
  const home = join(rig.box.dir, 'home0');
  mkdirSync(join(home, 'projects', '0123456789abcdef'), { recursive: true });
  writeFileSync(join(home, 'projects', '0123456789abcdef', 'thesis.tex'), '\\chapter{One}\n');
  const before0 = snapshot(home);
  for (const args of [['run', SWEEP_CONFIG, ...SMALL_SWEEP], ['gc', '--yes'], ['init']]) {
    const r = on(home, args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /not a defrost store.*no instance in it carries a manifest sealed by defrost/s);
    noTrace(r);
  }
  assert.equal(defrost(rig.box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP], { DEFROST_STORE: home }).code, 2);
  assert.equal(snapshot(home), before0, 'the look-alike directory changed');

  // In a real store, a key-named directory defrost did not write is moved aside, never deleted;
  // an unfinished attempt of defrost's own (its mark, no manifest) is removed.
  const store = copyStore('s0');
  const [unfinished] = keysOf(store, 'square');
  const planted = join(store, 'square', '0123456789abcdef');
  mkdirSync(planted);
  writeFileSync(join(planted, 'thesis.tex'), 'keep me\n');
  rmSync(join(store, 'square', unfinished, 'manifest.json'));
  const r = on(store, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lastJson(r).executed_by_stage.square, 1);
  assert.match(r.stderr, /removed 1 unfinished leftover/);
  assert.match(r.stderr, /0123456789abcdef.*not provably defrost's.*never deleted/);
  const kept = readdirSync(join(store, '.quarantine')).filter((n) => n.startsWith('square-0123456789abcdef-'));
  assert.equal(kept.length, 1);
  assert.equal(readFileSync(join(store, '.quarantine', kept[0], 'thesis.tex'), 'utf8'), 'keep me\n');
  assert.equal(on(store, ['verify']).code, 0);
});

test('defect 1: export --out never writes through a symlink or into a published file', () => {
  const store = copyStore('s1');
  const key = keysOf(store, 'sum')[0];
  const published = join(store, 'make-numbers', keysOf(store, 'make-numbers')[0], 'out.arrow');
  const was = readFileSync(published);
  const out = join(rig.box.dir, 'out1');
  mkdirSync(out, { recursive: true });
  for (const [name, target] of [
    ['to-result.csv', published],
    ['to-mark.csv', join(store, MARK_FILE)],
    ['dangling.csv', join(store, 'sum', 'new-file')],
  ] as const) {
    symlinkSync(target, join(out, name));
    const r = on(store, ['export', key, '--format', 'csv', '--out', join(out, name)]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /symbolic link; defrost never writes through one/);
    noTrace(r);
  }
  execFileSync('mkfifo', [join(out, 'fifo.csv')]);
  const fifo = on(store, ['export', key, '--format', 'csv', '--out', join(out, 'fifo.csv')]);
  assert.equal(fifo.code, 2, fifo.stderr);
  assert.match(fifo.stderr, /FIFO/);
  // A hard link to a published file: the export replaces the name, the published bytes stay.
  linkSync(published, join(out, 'hard.csv'));
  const hard = on(store, ['export', key, '--format', 'csv', '--out', join(out, 'hard.csv')]);
  assert.equal(hard.code, 0, hard.stderr);
  assert.match(readFileSync(join(out, 'hard.csv'), 'utf8'), /^value,label,name\n/);
  assert.deepEqual(readFileSync(published), was, 'a published file was overwritten');
  assert.equal(existsSync(join(store, 'sum', 'new-file')), false);
  const v = on(store, ['verify']);
  assert.equal(v.code, 0, v.stdout);
  assert.equal(on(store, ['run', SWEEP_CONFIG, ...SMALL_SWEEP]).code, 0, 'the store lost its mark');
});

test('defect 3: a symlinked .reports (or any store dot-folder, present or future) is refused with exit 2', async () => {
  const outside = join(rig.box.dir, 'outside3');
  mkdirSync(outside, { recursive: true });
  const before3 = snapshot(outside);
  // The run's report copy goes through the store's accessor.
  const store = copyStore('s3');
  rmSync(join(store, '.reports'), { recursive: true, force: true });
  symlinkSync(outside, join(store, '.reports'));
  const aggregate = join(rig.box.dir, 'aggregate3');
  mkdirSync(aggregate, { recursive: true });
  writeFileSync(join(aggregate, 'report.html'), '<html><body><main></main></body></html>');
  const record = JSON.parse(readFileSync(recordFiles(store)[0], 'utf8')) as RunRecord;
  assert.throws(
    () => writeRunReport(store, aggregate, record),
    (e: unknown) => e instanceof StoreLayoutError && /symbolic link/.test(e.message),
  );
  // Every writing command refuses before it works, whichever dot-folder is planted, even one
  // defrost does not use yet.
  for (const name of ['.reports', '.results', '.tmp', '.future-folder']) {
    const s = copyStore(`s3-${name}`);
    rmSync(join(s, name), { recursive: true, force: true });
    symlinkSync(outside, join(s, name));
    rmSync(join(s, 'square', keysOf(s, 'square')[0]), { recursive: true });
    const r = on(s, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--force', 'sum']);
    assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${name.replace('.', '\\.')} is a symbolic link planted in the store`));
    noTrace(r);
  }
  // Inside `.reports/partial-<key>/`, files are written by rename: a planted link is replaced.
  const partial = join(rig.box.dir, 'partial3');
  mkdirSync(partial, { recursive: true });
  symlinkSync(join(outside, 'victim.arrow'), join(partial, 'results.arrow'));
  const probe = defineTable('results.arrow', { x: { type: 'Int32', doc: 'a probe' } }, { doc: 'a probe table' });
  await writeTable(probe, join(partial, 'results.arrow'), [{ x: 1 }]);
  assert.equal(lstatSync(join(partial, 'results.arrow')).isFile(), true);
  assert.equal(snapshot(outside), before3, 'something was written outside the store');
});

test('defect 4: a symlinked or planted .run-records is refused: no record deleted outside, no run without its record, no gc', () => {
  const outside = join(rig.box.dir, 'outside4');
  const store = copyStore('s4');
  cpSync(join(store, '.run-records'), outside, { recursive: true });
  rmSync(join(store, '.run-records'), { recursive: true });
  symlinkSync(outside, join(store, '.run-records'));
  const before4 = snapshot(outside);
  rmSync(join(store, 'square', keysOf(store, 'square')[0]), { recursive: true });
  const published = publishedKeys(store);
  for (const args of [['runs', 'forget', 'last'], ['run', SWEEP_CONFIG, ...SMALL_SWEEP], ['runs'], ['runs', 'show', 'last']]) {
    const r = on(store, args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /\.run-records is a symbolic link planted in the store/);
    noTrace(r);
  }
  assert.deepEqual(publishedKeys(store), published, 'run worked without being able to record it');
  assert.equal(snapshot(outside), before4, 'a file outside the store changed');
  // An empty target protects nothing: gc must refuse, not delete every instance.
  const empty = join(rig.box.dir, 'empty4');
  mkdirSync(empty);
  rmSync(join(store, '.run-records'));
  symlinkSync(empty, join(store, '.run-records'));
  const gc = on(store, ['gc', '--yes']);
  assert.equal(gc.code, 2, gc.stdout + gc.stderr);
  assert.deepEqual(publishedKeys(store), published, 'gc deleted instances');
  // A file where the folder should be: the same refusal.
  rmSync(join(store, '.run-records'));
  writeFileSync(join(store, '.run-records'), 'not a folder');
  const r = on(store, ['gc', '--yes']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /\.run-records is a regular file planted in the store/);
  assert.deepEqual(publishedKeys(store), published);
});

test('defect 5: a damaged run record makes gc keep everything, and say so', () => {
  const store = copyStore('s5');
  // A second run of a smaller sweep: what only the first run needed is protected by its record alone.
  assert.equal(on(store, ['run', SWEEP_CONFIG, '--set', 'numbers.values=[1,2]']).code, 0);
  const first = recordFiles(store).sort()[0];
  truncateSync(first, 100);
  const published = publishedKeys(store);
  const gc = on(store, ['gc', '--yes']);
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stderr, /not a valid run record/);
  assert.match(gc.stderr, /kept everything: 1 run record\(s\) cannot be read/);
  assert.deepEqual(publishedKeys(store), published, 'gc deleted what the damaged record protected');
  // Moved out of the store (the run needs nothing any more), gc collects again.
  rmSync(first);
  const again = on(store, ['gc', '--yes', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(lastJson<{ deleted: unknown[] }>(again).deleted.length > 0);
});

test('defect 10 (runs show): a record holding 200,000 params prints a bounded table, no stack trace', () => {
  const store = copyStore('s10');
  const file = recordFiles(store)[0];
  const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  const params: Record<string, number> = {};
  for (let i = 0; i < 200_000; i++) params[`p${i}`] = i;
  writeFileSync(file, JSON.stringify({ ...record, params }));
  const r = on(store, ['runs', 'show', 'last']);
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
  noTrace(r);
  assert.ok(r.stdout.split('\n').length < 1000, `${r.stdout.split('\n').length} lines`);
  assert.match(r.stdout, /and 199500 more params \(`--json` prints them all\)/);
  const d = on(store, ['runs', 'diff', record.id, 'last']);
  assert.equal(d.code, 0, d.stderr.slice(0, 2000));
});

test('defect 12: text from a tampered run record reaches the terminal escaped', () => {
  const store = copyStore('s12');
  assert.equal(on(store, ['run', SWEEP_CONFIG, '--set', 'numbers.values=[1,2]']).code, 0);
  const [a, b] = recordFiles(store).sort();
  const evil = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\r\u202e';
  for (const file of [a, b]) {
    const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    writeFileSync(
      file,
      JSON.stringify({
        ...record,
        config: `${record.config}${evil}`,
        overrides: [`x=${evil}${file}`],
        backend: evil,
        params: { ...record.params, [`key${evil}`]: `${evil}${file}` },
        answer: { [`cell${evil}`]: file === a ? 1 : 2 },
      }),
    );
  }
  // A name must be a name: one with an escape sequence makes the record damaged (and its path is escaped).
  const bad = JSON.parse(readFileSync(a, 'utf8')) as RunRecord;
  writeFileSync(
    join(store, '.run-records', '20200101-000000-abcd.json'),
    JSON.stringify({ ...bad, id: '20200101-000000-abcd', name: `n${evil}` }),
  );
  writeFileSync(join(store, '.run-records', `x${evil}.json`), '{}');
  const idA = (JSON.parse(readFileSync(a, 'utf8')) as RunRecord).id;
  for (const args of [['runs'], ['runs', 'show', idA, 'last'], ['runs', 'diff', idA, 'last'], ['runs', 'show', 'nosuchrun']]) {
    const r = on(store, args);
    assert.ok(r.code === 0 || r.code === 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
    noTrace(r);
    assert.doesNotMatch(r.stdout + r.stderr, RAW_CONTROL, `${args.join(' ')} printed a raw control character`);
    assert.doesNotMatch(r.stdout + r.stderr, /\u202e/);
  }
  const show = on(store, ['runs', 'show', idA, 'last']);
  assert.match(show.stdout, /\\u001b\]0;pwned\\u0007/);
  assert.match(on(store, ['runs']).stderr, /not a valid run record.*20200101-000000-abcd\.json/);
});

test('rule: every store dot-folder is reached through the one checked accessor (store-dirs.ts)', () => {
  // A dot-folder's name appears only as the argument of `internalPath(...)` / `store.internal(...)`,
  // or in store-dirs.ts itself.
  const names = [...INTERNAL_DIRS, MARK_FILE];
  const offenders: string[] = [];
  for (const { where, text } of sourceLines(['pipeline', 'stages'], (f) => f === 'store-dirs.ts'))
    for (const name of names)
      for (const m of text.matchAll(new RegExp(`['"\`]${name.replace('.', '\\.')}['"\`/]`, 'g')))
        if (!/(internalPath\([^,]+,|\.internal\()\s*$/.test(text.slice(0, m.index))) offenders.push(`${where}: ${text.trim()}`);
  assert.deepEqual(offenders, []);
});
