/**
 * The one sentence per cell (stages/lib/report/verdict.ts) and the terminal answer built from it
 * (issue 23): the sentence of the example word for word; l* = L is never compared with
 * itself; a plausible set with a gap is flagged as noise; one seed warns that intervals need two
 * instead of printing `[?]`; a default that was not run is said to be untested; and the default
 * answer of a study the size of experiments/default.yaml fits 100 columns, every line.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { buildTables } from '../stages/report/build.js';
import { formatOptimalDepthTable, formatWideTable } from '../stages/lib/report/text-table.js';
import { verdictSentence, type CellAnswer } from '../stages/lib/report/verdict.js';
import { makeFixture } from './report-fixture.js';

const cleanup: string[] = [];
after(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

const CELL: CellAnswer = {
  mode: 'defrost',
  lStar: 2,
  blocks: 4,
  plausible: [1, 2, 3],
  vsFreezeAll: [0.02, 0.041, 0.062],
  vsFineTuneAll: [-0.005, 0.008, 0.021],
  vsScratch: [0.05, 0.09, 0.13],
  replicates: 5,
  unit: 'seed',
};

test("the issue's example, word for word", () => {
  assert.equal(
    verdictSentence(CELL),
    'freeze 2 of 4 blocks (1-3 as good): +4.1 points [+2.0, +6.2] over freezing all 4, +0.8 [-0.5, +2.1] over ' +
      'fine-tuning everything — better than freezing all 4; cannot be told apart from fine-tuning everything with this much data.',
  );
  // Better than both defaults, and training from scratch no better: said so.
  assert.equal(
    verdictSentence({ ...CELL, plausible: [2], vsFineTuneAll: [0.01, 0.02, 0.03], vsScratch: [-0.01, 0.01, 0.03] }),
    'freeze 2 of 4 blocks: +4.1 points [+2.0, +6.2] over freezing all 4, +2.0 [+1.0, +3.0] over fine-tuning everything — ' +
      'better than freezing all 4 and than fine-tuning everything; no better than training from scratch (+1.0 [-1.0, +3.0]).',
  );
});

test('l* = L is the standard protocol, never compared with itself; l* = 0 likewise', () => {
  const atL = verdictSentence({ ...CELL, lStar: 4, plausible: [3, 4], vsFreezeAll: [0, 0, 0] });
  assert.match(atL, /^freeze all 4 blocks \(the standard protocol: only the readout trains; 3, 4 as good\): \+0\.8 points/);
  assert.doesNotMatch(atL, /over freezing all|\+0\.0 \[\+0\.0/);
  const atZero = verdictSentence({ ...CELL, lStar: 0, plausible: [0], vsFineTuneAll: [0, 0, 0] });
  assert.match(atZero, /^fine-tune every block: \+4\.1 points \[\+2\.0, \+6\.2\] over freezing all 4 — better than freezing all 4\.$/);
  // In mode reinit, l = 0 is training from scratch, and is named so.
  assert.match(
    verdictSentence({ ...CELL, mode: 'reinit' }),
    /over training from scratch — .*cannot be told apart from training from scratch/,
  );
});

test('a plausible set with a gap is flagged as noise; every depth plausible is said so', () => {
  assert.match(verdictSentence({ ...CELL, lStar: 1, plausible: [1, 3] }), /^freeze 1 of 4 blocks \(1, 3 as good, the gap at 2 is noise\)/);
  assert.match(verdictSentence({ ...CELL, plausible: [0, 1, 2, 3, 4] }), /\(every depth as good\)/);
});

test('one seed: no interval, no verdict, and the sentence says intervals need two', () => {
  const one = verdictSentence({ ...CELL, vsFreezeAll: [null, 0.041, null], vsFineTuneAll: [null, 0.008, null], replicates: 1 });
  assert.equal(
    one,
    'freeze 2 of 4 blocks (1-3 as good): +4.1 points over freezing all 4, +0.8 over fine-tuning everything — no verdict: ' +
      'intervals need at least 2 seeds (only 1 seed here).',
  );
  assert.doesNotMatch(one, /\[/);
});

test('a default that was not run is not compared', () => {
  assert.match(verdictSentence({ ...CELL, vsFineTuneAll: null }), /fine-tuning everything not run, so not compared\.$/);
});

test('the terminal answer: one sentence per cell within 100 columns; one seed warns; --wide has every number', async () => {
  const fx = await makeFixture({ correlations: [1, 0.95, 0.8], ns: [20, 100, 500, 2000], depth: 4, seeds: [0, 1, 2, 3, 4] });
  cleanup.push(fx.dir);
  const tables = await buildTables({ runs: fx.runs, depth: 4, classes: 4, taskKind: 'synthetic' });
  const text = formatOptimalDepthTable(tables.optimal, 4);
  for (const line of text.split('\n')) assert.ok([...line].length <= 100, `${[...line].length} columns: ${line}`);
  const sentences = text.split('\n').filter((line) => /^ {2}ρ=[\d.]+, n=\d+: /.test(line));
  assert.equal(sentences.length, 2 * 12, 'a sentence per cell');
  const glance = text.split('\n').filter((line) => /^ {2}ρ=[\d.]+ +\d/.test(line));
  assert.equal(glance.length, 2 * 3, 'then l* at a glance: a row per correlation and mode');
  assert.doesNotMatch(text, /\[\?\]|\+0\.0 \[\+0\.0, \+0\.0\]/);
  const wide = formatWideTable(tables.optimal, 4);
  assert.ok(
    wide.split('\n').some((line) => line.length > 100),
    'the wide table is wide',
  );
  assert.match(wide, /l\*=\d \{[\d,]+\} \d+\.\d% /);

  const single = await makeFixture({ correlations: [0.9], ns: [20, 100], depth: 2, seeds: [0] });
  cleanup.push(single.dir);
  const oneSeed = formatOptimalDepthTable(
    (await buildTables({ runs: single.runs, depth: 2, classes: 3, taskKind: 'synthetic' })).optimal,
    2,
  );
  assert.match(oneSeed, /^Warning: intervals need at least 2 seeds \(only 1 seed here\)/m);
  assert.doesNotMatch(oneSeed, /\[\?\]/);
});
