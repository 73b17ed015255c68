/**
 * Acceptance 6 of issue 2 — `inspect` and `export --format csv` by unique key prefix — plus
 * export to JSON and npy, ambiguous prefixes, `ls`, `gc`, a failing stage (only its descendants
 * are skipped, the summary names its log), `dag`, and `--dry-run` touching nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK, defrost, lastJson, publishedKeys, sandbox, type Sandbox } from './engine-helpers.js';

const SMALL = ['--set', 'seeds=[0]', '--set', 'transfer.modes=[defrost]'];
let box: Sandbox;
before(() => {
  box = sandbox();
});
after(() => box.cleanup());

test('--dry-run lists what would execute and touches nothing', () => {
  const r = defrost(box, ['run', QUICK, '--dry-run', '--json', ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lastJson<{ would_execute_by_stage: Record<string, number> }>(r).would_execute_by_stage, {
    'generate-data': 3,
    'train-source': 1,
    'train-scratch': 6,
    transfer: 18,
    similarity: 2,
    aggregate: 1,
  });
  assert.match(r.stderr, /similarity\[correlation=0\.8\] [0-9a-f]{16}/);
  assert.equal(existsSync(box.store), false);
});

test('a failing stage fails only its descendants; the summary names its log', () => {
  const r = defrost(box, ['run', QUICK, '--json', '--jobs', '2', ...SMALL], { DEFROST_TOY_FAIL: 'correlation":0.8' });
  assert.equal(r.code, 1, r.stderr);
  const s = lastJson(r);
  // correlation 0.8: its target data fails, so its 3 scratch, 9 transfer, similarity and aggregate are skipped.
  assert.equal(s.failed, 1);
  assert.equal(s.failures[0].id, 'generate-data[role=target,correlation=0.8]');
  assert.equal(s.skipped, 3 + 9 + 1 + 1);
  assert.equal(s.executed, 31 - 1 - 14);
  const log = s.failures[0].log as string;
  assert.match(readFileSync(log, 'utf8'), /toy failure requested for generate-data/);
  assert.match(readFileSync(log, 'utf8'), /console output of generate-data/);
  assert.match(r.stderr, new RegExp(`log: ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const again = defrost(box, ['run', QUICK, '--json', '--jobs', '2', ...SMALL]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(lastJson(again).executed, 15);
});

test('inspect by unique key prefix shows manifest, schema and rows', () => {
  const [stage, key] = publishedKeys(box.store)
    .find((k) => k.startsWith('similarity/'))!
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
    .find((k) => k.startsWith('aggregate/'))!
    .split('/')[1];
  const csv = defrost(box, ['export', key.slice(0, 7), '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'value,label,name');
  assert.match(lines[1], /^[0-9.]+,[0-2],"row 0, ""aggregate"""$/);
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
  const bad = defrost(box, ['export', key, '--format', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format: got "xml"; allowed: csv, json, npy/);
});

test('--force STAGE recomputes that stage only, with the same keys and bytes', () => {
  const sim = publishedKeys(box.store).filter((k) => k.startsWith('similarity/'));
  const before = sim.map((k) => readFileSync(join(box.store, k, 'out.arrow')));
  const r = defrost(box, ['run', QUICK, '--json', '--jobs', '2', '--force', 'similarity', ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lastJson(r).executed_by_stage, { similarity: 2 });
  assert.deepEqual(
    sim.map((k) => readFileSync(join(box.store, k, 'out.arrow'))),
    before,
    'deterministic outputs',
  );
  const bad = defrost(box, ['run', QUICK, '--force', 'simlarity']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--force: got "simlarity"; allowed: generate-data, /);
});

test('an ambiguous prefix exits 2 listing the candidates', () => {
  const keys = publishedKeys(box.store).map((k) => k.split('/')[1]);
  const first = keys.map((k) => k[0]);
  const prefix = first.find((c, i) => first.indexOf(c) !== i) as string;
  const r = defrost(box, ['inspect', prefix]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ambiguous; candidates:\n {2}\S+ [0-9a-f]{16}\n {2}\S+ [0-9a-f]{16}/);
});

test('ls lists, dag draws, gc --keep-last 0 keeps what a config plans and deletes the rest', () => {
  const ls = lastJson<{ stage: string; key: string }[]>(defrost(box, ['ls', '--json']));
  assert.equal(ls.length, 31);
  assert.equal(lastJson<unknown[]>(defrost(box, ['ls', '--json', '--stage', 'similarity'])).length, 2);
  const dag = defrost(box, ['dag', QUICK, '--format', 'dot', ...SMALL]);
  assert.match(dag.stdout, /^digraph defrost \{/);
  assert.equal((dag.stdout.match(/ -> /g) ?? []).length, 1 + 6 + 18 * 2 + 2 * 3 + 26);

  const cfg = join(box.dir, 'one.yaml');
  // A config with another seed shares only the generate-data instances with ours.
  writeFileSync(cfg, readFileSync(QUICK, 'utf8').replace('seeds: [0, 1, 2]', 'seeds: [1]'));
  const dry = defrost(box, ['gc', cfg, '--keep-last', '0', '--dry-run', '--json']);
  const plan = lastJson<{ deleted: { stage: string }[]; kept: number }>(dry);
  assert.equal(plan.kept, 3, 'the three generate-data instances do not depend on seeds');
  assert.equal(plan.deleted.length, 28);
  assert.equal(publishedKeys(box.store).length, 31, 'dry run deletes nothing');
  const real = lastJson<{ deleted: unknown[] }>(defrost(box, ['gc', cfg, '--keep-last', '0', '--yes', '--json']));
  assert.equal(real.deleted.length, 28);
  assert.deepEqual(
    publishedKeys(box.store).map((k) => k.split('/')[0]),
    ['generate-data', 'generate-data', 'generate-data'],
  );
});
