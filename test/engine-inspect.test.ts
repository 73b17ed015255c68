/**
 * Acceptance 6 of issue 2 — `inspect` and `export --format csv` by unique key prefix — plus
 * export to JSON and npy, ambiguous prefixes, `ls`, `gc`, a failing stage (only its descendants
 * are skipped, the summary names its log), `dag`, and `--dry-run` touching nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOY_CONFIG, defrost, lastJson, publishedKeys, toySandbox, type Sandbox } from './engine-helpers.js';

let box: Sandbox;
before(() => {
  box = toySandbox();
});
after(() => box.cleanup());

test('--dry-run lists what would execute and touches nothing', () => {
  const r = defrost(box, ['run', TOY_CONFIG, '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lastJson<{ would_execute_by_stage: Record<string, number> }>(r).would_execute_by_stage, {
    'make-numbers': 4,
    square: 4,
    sum: 1,
  });
  assert.match(r.stderr, /square\[value=2\] [0-9a-f]{16}/);
  assert.equal(existsSync(box.store), false);
});

test('a failing stage fails only its descendants; the summary names its log', () => {
  const r = defrost(box, ['run', TOY_CONFIG, '--json', '--jobs', '2'], { DEFROST_TOY_FAIL: 'make-numbers{"value":2}' });
  assert.equal(r.code, 1, r.stderr);
  const s = lastJson(r);
  // make-numbers of value 2 fails, so its square and the sum are skipped; the other 3 branches run.
  assert.equal(s.failed, 1);
  assert.equal(s.failures[0].id, 'make-numbers[value=2]');
  assert.equal(s.skipped, 1 + 1);
  assert.equal(s.executed, 9 - 1 - 2);
  const log = s.failures[0].log as string;
  assert.match(readFileSync(log, 'utf8'), /toy failure requested for make-numbers/);
  assert.match(readFileSync(log, 'utf8'), /console output of make-numbers/);
  assert.match(r.stderr, new RegExp(`log: ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const again = defrost(box, ['run', TOY_CONFIG, '--json', '--jobs', '2']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(lastJson(again).executed, 3);
});

test('inspect by unique key prefix shows manifest, schema and rows', () => {
  const [stage, key] = publishedKeys(box.store)
    .find((k) => k.startsWith('square/'))!
    .split('/');
  const human = defrost(box, ['inspect', key.slice(0, 6)]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^${stage} ${key}`));
  assert.match(human.stdout, /out\.arrow: \d+ rows/);
  assert.match(human.stdout, /value: Float64/);
  const json = lastJson<{
    manifest: { key: string; log: string; files: { path: string; rows?: number }[] };
    tables: Record<string, { rows: number; head: unknown[] }>;
  }>(defrost(box, ['inspect', key.slice(0, 6), '--json', '--rows', '2']));
  assert.equal(json.manifest.key, key);
  assert.equal(json.manifest.log, 'log.txt');
  assert.equal(json.tables['out.arrow'].head.length, 2);
  assert.equal(json.manifest.files.find((f) => f.path === 'out.arrow')?.rows, json.tables['out.arrow'].rows);
  const byDir = defrost(box, ['inspect', join(box.store, stage, key)]);
  assert.equal(byDir.code, 0);
});

test('export csv/json/npy by unique key prefix', () => {
  const key = publishedKeys(box.store)
    .find((k) => k.startsWith('sum/'))!
    .split('/')[1];
  const csv = defrost(box, ['export', key.slice(0, 7), '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'value,label,name');
  assert.match(lines[1], /^[0-9.]+,[0-2],"row 0, ""sum"""$/);
  const rows = JSON.parse(defrost(box, ['export', key, '--format', 'json', '--table', 'out']).stdout) as unknown[];
  assert.equal(rows.length, lines.length - 1);
  const out = join(box.dir, 'x.npy');
  assert.equal(defrost(box, ['export', key, '--format', 'npy', '--out', out]).code, 0);
  const npy = readFileSync(out);
  assert.equal(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
  const header = npy.subarray(10, 10 + npy.readUInt16LE(8)).toString('latin1');
  // Every column, the text one included, as a structured array (nothing dropped).
  assert.match(
    header,
    new RegExp(`'descr': \\[\\('value', '<f8'\\), \\('label', '<i4'\\), \\('name', '<U\\d+'\\)\\].*'shape': \\(${rows.length},\\)`),
  );
  assert.equal((10 + header.length) % 64, 0);
  const missingDir = defrost(box, ['export', key, '--format', 'npy', '--out', join(box.dir, 'no-such-dir', 'x.npy')]);
  assert.equal(missingDir.code, 2, 'a missing --out directory is a usage error, not an internal error');
  assert.match(missingDir.stderr, /--out: the directory .*no-such-dir does not exist/);
  assert.doesNotMatch(missingDir.stderr, /internal error|at /);
  const bad = defrost(box, ['export', key, '--format', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format: got "xml"; allowed: csv, json, npy/);
});

test('--force STAGE recomputes that stage only, with the same keys and bytes', () => {
  const squares = publishedKeys(box.store).filter((k) => k.startsWith('square/'));
  const before = squares.map((k) => readFileSync(join(box.store, k, 'out.arrow')));
  const r = defrost(box, ['run', TOY_CONFIG, '--json', '--jobs', '2', '--force', 'square']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lastJson(r).executed_by_stage, { square: 4 });
  assert.deepEqual(
    squares.map((k) => readFileSync(join(box.store, k, 'out.arrow'))),
    before,
    'deterministic outputs',
  );
  const bad = defrost(box, ['run', TOY_CONFIG, '--force', 'sqare']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--force: got "sqare"; did you mean square\?; allowed: make-numbers, square, sum/);
});

test('an ambiguous prefix exits 2 listing the candidates', () => {
  // numbers.length 5 re-keys every instance: 18 keys, so two share a first hex digit.
  const more = defrost(box, ['run', TOY_CONFIG, '--json', '--jobs', '2', '--set', 'numbers.length=5']);
  assert.equal(lastJson(more).executed, 9, more.stderr);
  const keys = publishedKeys(box.store).map((k) => k.split('/')[1]);
  const first = keys.map((k) => k[0]);
  const prefix = first.find((c, i) => first.indexOf(c) !== i) as string;
  const r = defrost(box, ['inspect', prefix]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ambiguous; candidates:\n {2}\S+ [0-9a-f]{16}\n {2}\S+ [0-9a-f]{16}/);
});

test('ls lists, dag draws, gc --keep-last 0 keeps what a config plans and deletes the rest', () => {
  const ls = lastJson<{ stage: string; key: string }[]>(defrost(box, ['ls', '--json']));
  assert.equal(ls.length, 18);
  assert.equal(lastJson<unknown[]>(defrost(box, ['ls', '--json', '--stage', 'square'])).length, 8);
  const dag = defrost(box, ['dag', TOY_CONFIG, '--format', 'dot']);
  assert.match(dag.stdout, /^digraph defrost \{/);
  // make-numbers -> square for each value, square -> sum for each value.
  assert.equal((dag.stdout.match(/ -> /g) ?? []).length, 4 + 4);

  const cfg = join(box.dir, 'one.yaml');
  // A config with one value shares its make-numbers and square with ours, not the sum (other inputs).
  const text = readFileSync(TOY_CONFIG, 'utf8');
  assert.match(text, /values: \[1, 2, 3, 4\]/);
  writeFileSync(cfg, text.replace('values: [1, 2, 3, 4]', 'values: [1]'));
  const dry = defrost(box, ['gc', cfg, '--keep-last', '0', '--dry-run', '--json']);
  const plan = lastJson<{ deleted: { stage: string }[]; kept: number }>(dry);
  assert.equal(plan.kept, 2, 'make-numbers and square of value 1 do not depend on the other values');
  assert.equal(plan.deleted.length, 16);
  assert.equal(publishedKeys(box.store).length, 18, 'dry run deletes nothing');
  const real = lastJson<{ deleted: unknown[] }>(defrost(box, ['gc', cfg, '--keep-last', '0', '--yes', '--json']));
  assert.equal(real.deleted.length, 16);
  assert.deepEqual(
    publishedKeys(box.store).map((k) => k.split('/')[0]),
    ['make-numbers', 'square'],
  );
});
