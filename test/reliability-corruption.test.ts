/**
 * Issue 8, corruption: a truncated file, a bit-flipped file, a missing file, an edited manifest and
 * a file swapped for a symlink are each named by `verify` (exit 1, instance and file); `run` does
 * not feed a damaged instance to a downstream stage — it moves it to `<store>/.quarantine/` and
 * recomputes it (same key, same bytes) — and `exec` refuses damaged inputs.
 */
import { existsSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, lastJson, type Sandbox } from './engine-helpers.js';
import { compareFingerprints, entries, reliabilitySandbox, SMALL_SWEEP, storeFingerprint, SWEEP_CONFIG } from './reliability-helpers.js';

let box: Sandbox;
let original: Map<string, Record<string, string>>;
before(() => {
  box = reliabilitySandbox();
  const r = defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  original = storeFingerprint(box.store);
});
after(() => box.cleanup());

const keysOf = (stage: string): string[] => readdirSync(join(box.store, stage)).sort();
const instance = (stage: string, i = 0): { stage: string; key: string; dir: string } => {
  const key = keysOf(stage)[i];
  return { stage, key, dir: join(box.store, stage, key) };
};

interface VerifyJson {
  instances: number;
  ok: number;
  damaged: { stage: string; key: string; file: string; problem: string }[];
}

/** The square instance that reads make-numbers instance `key` (from its manifest's inputs). */
const consumerOf = (key: string): { stage: string; key: string; dir: string } => {
  for (let i = 0; i < keysOf('square').length; i++) {
    const square = instance('square', i);
    const manifest = JSON.parse(readFileSync(join(square.dir, 'manifest.json'), 'utf8')) as { inputs: Record<string, { key: string }> };
    if (Object.values(manifest.inputs).some((input) => input.key === key)) return square;
  }
  throw new Error(`no square reads ${key}`);
};

test('verify names every kind of damage: truncated, bit-flipped, missing, edited manifest, symlink', () => {
  const truncated = instance('make-numbers', 0);
  const flipped = instance('make-numbers', 1);
  // Three squares that read neither damaged make-numbers instance (the next test needs one that does).
  const others = keysOf('square')
    .map((_, i) => instance('square', i))
    .filter((sq) => sq.key !== consumerOf(truncated.key).key && sq.key !== consumerOf(flipped.key).key);
  const [missing, edited, linked] = others;

  const size = readFileSync(join(truncated.dir, 'out.arrow')).length;
  truncateSync(join(truncated.dir, 'out.arrow'), size - 7);
  const bytes = readFileSync(join(flipped.dir, 'out.arrow'));
  bytes[Math.floor(bytes.length / 2)] ^= 0x10;
  writeFileSync(join(flipped.dir, 'out.arrow'), bytes);
  rmSync(join(missing.dir, 'out.arrow'));
  const manifestPath = join(edited.dir, 'manifest.json');
  writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/"largest": [0-9.e-]+/, '"largest": 0.999'));
  const outside = join(box.dir, 'outside.arrow');
  writeFileSync(outside, readFileSync(join(linked.dir, 'out.arrow')));
  rmSync(join(linked.dir, 'out.arrow'));
  symlinkSync(outside, join(linked.dir, 'out.arrow'));

  const r = defrost(box, ['verify', '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const v = lastJson<VerifyJson>(r);
  const found = (x: { stage: string; key: string }, file: string, problem: RegExp): void => {
    const d = v.damaged.find((e) => e.stage === x.stage && e.key === x.key && e.file === file);
    assert.ok(d, `verify did not name ${x.stage} ${x.key} ${file}: ${JSON.stringify(v.damaged)}`);
    assert.match(d.problem, problem);
  };
  found(truncated, 'out.arrow', /size/);
  found(flipped, 'out.arrow', /sha256/);
  found(missing, 'out.arrow', /missing/);
  found(edited, 'manifest.json', /edited/);
  found(linked, 'out.arrow', /symbolic link/);
  assert.equal(v.damaged.length, 5, JSON.stringify(v.damaged));
  const text = defrost(box, ['verify']);
  assert.match(text.stdout, new RegExp(`DAMAGED make-numbers ${truncated.key}: out.arrow`));
});

test('exec refuses to compute from a damaged input', () => {
  // The square that reads the (bit-flipped) make-numbers instance; force recomputing it by hand.
  const consumer = consumerOf(keysOf('make-numbers')[1]);
  const r = defrost(box, ['exec', 'square', consumer.key, '--force']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /damaged/);
});

test('run quarantines damaged inputs of what it must compute, recomputes them, and the store is whole again', () => {
  // Make downstream work: remove every square instance so they must be recomputed from the
  // damaged make-numbers instances.
  for (const key of keysOf('square')) rmSync(join(box.store, 'square', key), { recursive: true });
  const r = defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((r.stderr.match(/damaged: make-numbers.*moved to/g) ?? []).length, 2, r.stderr);
  const s = lastJson(r);
  assert.equal(s.executed_by_stage['make-numbers'], 2);
  assert.equal(s.executed_by_stage.square, 8, 'every square was removed');
  const quarantined = entries(box.store, '.quarantine');
  assert.equal(quarantined.filter((q) => q.startsWith('make-numbers-')).length, 2, quarantined.join(', '));
  for (const q of quarantined) assert.ok(existsSync(join(box.store, '.quarantine', q, 'QUARANTINED.txt')));
  assert.equal(defrost(box, ['verify']).code, 0);
  assert.deepEqual(compareFingerprints(original, storeFingerprint(box.store)), []);
});

test('an edited manifest is never a cached result: run quarantines and recomputes it', () => {
  const edited = instance('square', 0);
  const path = join(edited.dir, 'manifest.json');
  writeFileSync(path, readFileSync(path, 'utf8').replace('"params": {', '"params": {"injected": 1, '));
  const r = defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lastJson(r).executed_by_stage, { square: 1 });
  assert.ok(entries(box.store, '.quarantine').some((q) => q.startsWith(`square-${edited.key}`)));
  assert.equal(defrost(box, ['verify']).code, 0);
  assert.deepEqual(compareFingerprints(original, storeFingerprint(box.store)), []);
});
