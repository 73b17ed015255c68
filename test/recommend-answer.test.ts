/**
 * The answer of `defrost recommend` from fold results (stages/recommend/answer.ts), on fixtures
 * whose paired differences are known: `versus` holds the paired fold gains of l* over fine-tuning
 * everything, freezing every block and scratch; the verdict says "cannot be told apart" when l*
 * cannot be separated from l = 0, and the printed report starts with it, within 100 columns; the
 * `--json` line has exactly the keys docs/your-data.md documents; a significant gain over scratch is
 * said with the defaults l* beats; folds that agree exactly read as agreement of that many folds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCRATCH_MODE } from '../stages/lib/models/transfer-modes/registry.js';
import { recommendation, recommendationJson, recommendationText, type FoldResult } from '../stages/recommend/answer.js';
import { pairedDifferenceInterval } from '../stages/lib/statistics.js';
import { ANSWER_KEYS, VERSUS_KEYS } from './recommend-fixture.js';

const FOLDS = 5;
const WHAT = { data: 'imgs/', model: 'net/model.json', rows: 300, classes: 5 };

/** Fold results: accuracy per depth (index) of mode defrost and of scratch, per fold. */
function folds(byDepth: number[][], scratch: number[]): FoldResult[] {
  const out: FoldResult[] = [];
  for (let fold = 0; fold < FOLDS; fold++) {
    byDepth.forEach((accs, depth) =>
      out.push({ mode: 'defrost', depth, setting: null, fold, accuracy: accs[fold], stoppedBy: fold === 0 ? 'budget' : 'patience' }),
    );
    out.push({ mode: SCRATCH_MODE, depth: null, setting: null, fold, accuracy: scratch[fold], stoppedBy: 'patience' });
  }
  return out;
}

// Depth 1 is best on average but within fold noise of depth 0; depths 2 and 3 (L) are clearly worse.
const D0 = [0.7, 0.78, 0.66, 0.74, 0.71];
const D1 = [0.73, 0.76, 0.7, 0.73, 0.74];
const D2 = [0.64, 0.7, 0.6, 0.66, 0.63];
const D3 = [0.55, 0.61, 0.52, 0.58, 0.56];
const SCR = [0.6, 0.66, 0.58, 0.62, 0.61];

test('l* cannot be separated from l = 0: versus holds the paired gains and the verdict says "cannot be told apart"', () => {
  const r = recommendation(folds([D0, D1, D2, D3], SCR), ['defrost'], FOLDS, 3);
  assert.equal(r.l_star, 1);
  assert.deepEqual(r.plausible, [0, 1]);
  assert.deepEqual(r.versus.fine_tune_all, pairedDifferenceInterval(D1, D0));
  assert.deepEqual(r.versus.freeze_all, pairedDifferenceInterval(D1, D3));
  assert.deepEqual(r.versus.scratch, pairedDifferenceInterval(D1, SCR));
  const [low, , high] = r.versus.fine_tune_all ?? [null, 0, null];
  assert.ok(low !== null && high !== null && low < 0 && high > 0, 'the fixture: l = 0 within the noise of l*');
  assert.match(
    r.verdict,
    /^freeze 1 of 3 blocks \(0, 1 as good\): \+\d+\.\d points \[.*\] over freezing all 3, .* over fine-tuning everything — /,
  );
  // l* beats freezing all 3 and scratch: both are said, scratch with its gain.
  assert.match(
    r.verdict,
    / — better than freezing all 3 and than training from scratch \(\+\d+\.\d \[\+\d+\.\d, \+\d+\.\d\]\); cannot be told apart from fine-tuning everything with this much data\.$/,
  );
  assert.deepEqual(r.stopped_by, { budget: 4, patience: 21 }, 'fold 0 of each depth hit the budget, scratch never');

  // The printed report leads with the verdict, every line within 100 columns.
  const text = recommendationText(r, WHAT);
  const lines = text.split('\n');
  assert.match(lines[0], /^Recommendation: Freeze 1 of 3 blocks/);
  assert.match(text.replace(/\n {2}/g, ' '), /cannot be told apart from fine-tuning everything/);
  assert.ok(text.indexOf('cannot be told apart') < text.indexOf('cross-validated accuracy'), 'the verdict comes first');
  for (const line of lines) assert.ok([...line].length <= 100, `${[...line].length} columns: ${line}`);

  // --json: exactly the documented keys.
  const json = JSON.parse(recommendationJson(r)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ANSWER_KEYS);
  assert.equal(json.eliminated, null, 'every fold trained: nothing was eliminated');
  assert.deepEqual(Object.keys(json.versus as object), VERSUS_KEYS);
  assert.equal(json.verdict, r.verdict);
});

test('l* = L: freeze_all is exactly zero and the verdict does not compare l* with itself; untrained defaults are null', () => {
  const r = recommendation(folds([D3, D2, D0, D1], SCR), ['defrost'], FOLDS, 3);
  assert.equal(r.l_star, 3);
  assert.deepEqual(r.versus.freeze_all, [0, 0, 0]);
  assert.doesNotMatch(r.verdict, /over freezing all|\+0\.0 \[\+0\.0/);
  assert.match(r.verdict, /^freeze all 3 blocks \(the standard protocol: only the readout trains; 2, 3 as good\)/);

  // Only depths 1 and 2 trained (--depths 1,2 or --fast): neither default can be compared.
  const partial = folds([D0, D1, D2, D3], SCR).filter((f) => f.depth === null || f.depth === 1 || f.depth === 2);
  const p = recommendation(partial, ['defrost'], FOLDS, 3);
  assert.equal(p.versus.fine_tune_all, null);
  assert.equal(p.versus.freeze_all, null);
  assert.match(p.verdict, /freezing all 3 and fine-tuning everything not run, so not compared\.$/);
});

test('folds that agree exactly read as agreement of that many folds, not as an interval of no width', () => {
  // l* = 1 beats l = 3 by exactly 25 points on every fold (dyadic accuracies: the differences are exact).
  const d1 = [0.75, 0.5, 0.625, 0.875, 0.5];
  const d3 = d1.map((v) => v - 0.25);
  const results = folds([[0.7, 0.45, 0.6, 0.8, 0.5], d1, [0.6, 0.4, 0.5, 0.7, 0.45], d3], [0.5, 0.3, 0.45, 0.6, 0.35]);
  const r = recommendation(results, ['defrost'], FOLDS, 3);
  assert.deepEqual(r.versus.freeze_all, [0.25, 0.25, 0.25], 'the JSON keeps the interval as computed');
  assert.equal(
    r.verdict,
    'freeze 1 of 3 blocks: +25.0 points (all 5 folds agree) over freezing all 3, +4.0 [+0.5, +7.5] over fine-tuning everything — ' +
      'better than freezing all 3, than fine-tuning everything and than training from scratch (+21.0 [+14.6, +27.4]).',
  );
  // A candidate that trained fewer folds (stopped early): the agreement counts the folds it pairs.
  const fewer = recommendation(
    results.filter((f) => !(f.depth === 3 && f.fold >= 2)),
    ['defrost'],
    FOLDS,
    3,
  );
  assert.match(fewer.verdict, /^freeze 1 of 3 blocks: \+25\.0 points \(all 2 folds agree\) over freezing all 3, /);
});
