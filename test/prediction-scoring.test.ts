/** The pure parts of the depth predictors: scoring rules, the band predictor, the centroid probe. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { bandScores, checkAgainstBand, sameTaskBand } from '../stages/lib/predictors/band.js';
import { fastVerdict, rankDepths } from '../stages/lib/predictors/fast.js';
import { leaveOneOutCentroidAccuracy } from '../stages/lib/predictors/nearest-centroid.js';
import { judgeCell, kendallTau, predictedDepth, scorePredictor } from '../stages/lib/predictors/scoring.js';
import { bestPredictor, scorePredictions } from '../stages/prediction/section-job.js';
import type { ResultRow } from '../stages/lib/tables/report-tables.js';
import type { SimilarityRow } from '../stages/lib/tables/similarity-table.js';

test('predictedDepth takes the best score, ties to the deeper depth, skipping missing scores', () => {
  assert.equal(predictedDepth([0.1, 0.5, 0.3]), 1);
  assert.equal(predictedDepth([0.5, 0.5, 0.2]), 1);
  assert.equal(predictedDepth([null, 0.2, Number.NaN]), 1);
  assert.equal(predictedDepth([null, null]), null);
});

test("Kendall's tau-b: perfect, reversed, ties and undefined cases", () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // x = [1,2,2,3], y = [1,3,2,4]: C = 5, D = 0, one tie in x: tau-b = 5 / sqrt(5 * 6).
  assert.ok(Math.abs((kendallTau([1, 2, 2, 3], [1, 3, 2, 4]) as number) - 5 / Math.sqrt(30)) < 1e-12);
  assert.equal(kendallTau([1, 1, 1], [1, 2, 3]), null);
  assert.equal(kendallTau([1, null, 3], [2, 5, 1]), -1);
});

test('cells are judged exact, within one and in the plausible set; fractions over judged cells', () => {
  assert.deepEqual(judgeCell(2, 3, [2, 3]), { exact: false, withinOne: true, inPlausible: true });
  const score = scorePredictor([
    { predicted: 3, lStar: 3, plausible: [3], tau: 1 },
    { predicted: 0, lStar: 2, plausible: [1, 2], tau: 0 },
    { predicted: null, lStar: 2, plausible: [2], tau: null },
  ]);
  assert.deepEqual(score, { cells: 2, exact: 0.5, withinOne: 0.5, inPlausible: 0.5, kendallTau: 0.5 });
});

const row = (block: number, measure: string, value: number): SimilarityRow => ({
  correlation: 1,
  block_a: block,
  block_b: block,
  measure,
  value,
});

test('the band predictor credits blocks inside the same-task band and debits the others', () => {
  // One pair: the band is that pair's value. Two pairs: mean +- t(0.975, 1) s sqrt(3/2).
  const pairs = [
    [row(1, 'cka', 0.9), row(2, 'cka', 0.8), row(1, 'information_imbalance_a_to_b', 0.2), row(2, 'information_imbalance_a_to_b', 0.3)],
  ];
  const band = sameTaskBand(pairs);
  assert.deepEqual(
    band.find((e) => e.block === 2 && e.measure === 'cka'),
    { block: 2, measure: 'cka', mean: 0.8, low: 0.8, high: 0.8, pairs: 1 },
  );
  const two = sameTaskBand([pairs[0], [row(1, 'cka', 0.7)]]).find((e) => e.block === 1 && e.measure === 'cka');
  const half = 12.706204736065853 * Math.SQRT2 * 0.1 * Math.sqrt(1.5);
  assert.ok(two !== undefined && Math.abs(two.low - (0.8 - half)) < 1e-9 && Math.abs(two.high - (0.8 + half)) < 1e-9);
  // Block 1: CKA 0.95 >= 0.9 and imbalance 0.1 <= 0.2 (inside); block 2: CKA 0.5 < 0.8, imbalance 0.9 > 0.3.
  const source = [
    row(1, 'cka', 0.95),
    row(1, 'information_imbalance_a_to_b', 0.1),
    row(2, 'cka', 0.5),
    row(2, 'information_imbalance_a_to_b', 0.9),
  ];
  const checks = checkAgainstBand(source, band);
  assert.deepEqual(
    checks.map((c) => c.inside),
    [true, true, false, false],
  );
  assert.deepEqual(bandScores(checks, 2), [0, 0.5, -0.5]);
  assert.equal(predictedDepth(bandScores(checks, 2)), 1);
  // Block 1 outside, block 2 inside: the prefix breaks at block 1, so l* = 0 whatever follows.
  const broken = checkAgainstBand([row(1, 'cka', 0.1), row(2, 'cka', 0.99)], band);
  assert.deepEqual(bandScores(broken, 2), [0, -1, -2]);
  assert.equal(predictedDepth(bandScores(broken, 2)), 0);
});

test('leave-one-out nearest centroid: separated classes score 1, a singleton class cannot be matched', () => {
  const labels = [0, 0, 0, 1, 1, 1];
  const data = [0, 0, 0.1, 0, 0, 0.1, 5, 5, 5.1, 5, 5, 5.1];
  assert.equal(leaveOneOutCentroidAccuracy({ rows: 6, cols: 2, data }, labels, 2), 1);
  assert.equal(leaveOneOutCentroidAccuracy({ rows: 3, cols: 1, data: [0, 0.1, 5] }, [0, 0, 1], 2), 2 / 3);
  // Labels unrelated to the features: the held-out sample pulls its own centroid away and loses.
  assert.equal(leaveOneOutCentroidAccuracy({ rows: 4, cols: 1, data: [0, 1, 0, 1] }, [0, 1, 1, 0], 2), 0);
});

test('scorePredictions: l* and the plausible set from the runs (statistics.ts), then each predictor judged', () => {
  // Depth 2 best; depth 1 within noise of it (paired differences 0.01, -0.01, 0.02); depth 0 far below.
  const acc: Record<number, number[]> = { 0: [0.5, 0.52, 0.51], 1: [0.79, 0.82, 0.78], 2: [0.8, 0.81, 0.8] };
  const results: ResultRow[] = Object.entries(acc).flatMap(([depth, values]) =>
    values.map((a, seed) => ({
      correlation: 0.9,
      n: 50,
      mode: 'defrost',
      depth: Number(depth),
      setting: null,
      seed,
      task_seed: null,
      // Selection is on the selection split: test accuracies say the opposite and must not be
      // used, nor the stopping split's.
      test_accuracy: 1 - a,
      test_loss: a,
      validation_accuracy: 1 - a,
      selection_accuracy: a,
      best_epoch: 3,
      stopped_by: 'patience',
      learning_rate: 0.001,
      train_steps: 10,
      seconds: 2,
    })),
  );
  const rows = ['logme', 'nearest_centroid'].flatMap((predictor) =>
    [0, 1, 2].map((depth) => ({
      correlation: 0.9,
      n: 50,
      predictor,
      depth,
      score: predictor === 'logme' ? depth : -depth,
      predicted_depth: predictor === 'logme' ? 2 : 0,
      seconds: 0.5,
    })),
  );
  const scored = scorePredictions(results, rows);
  const logmeCell = scored.cells.find((c) => c.predictor === 'logme');
  assert.equal(logmeCell?.l_star, 2);
  assert.equal(logmeCell?.plausible_depths, '1,2');
  assert.deepEqual([logmeCell?.exact, logmeCell?.within_one, logmeCell?.in_plausible, logmeCell?.kendall_tau], [1, 1, 1, 1]);
  assert.equal(logmeCell?.sweep_seconds, 18);
  const probe = scored.summary.find((s) => s.predictor === 'nearest_centroid');
  assert.deepEqual(probe, {
    predictor: 'nearest_centroid',
    cells: 1,
    exact: 0,
    within_one: 0,
    in_plausible: 0,
    kendall_tau: -1,
    seconds: 0.5,
    sweep_seconds: 18,
  });
  assert.equal(bestPredictor(scored.summary), 'logme');
});

test('recommend --fast: depths ranked by score (ties deeper), verdict on the trained depths', () => {
  assert.deepEqual(rankDepths([0.1, 0.5, 0.5, null, 0.2]), [2, 1, 4, 0, 3]);
  const answer = { l_star: 2, plausible: [1, 2], accuracy: [0.7, 0.75, 0.8] as const, scratch_accuracy: [0.6, 0.65, 0.7] as const };
  assert.equal(fastVerdict([1, 2, 0], [1, 2], answer).confirmed, true);
  const wrongFirst = fastVerdict([3, 2, 1], [3, 2], { ...answer, plausible: [2] });
  assert.equal(wrongFirst.confirmed, false);
  assert.match(wrongFirst.reason, /could not confirm.*Depths 1 were not trained/);
  assert.equal(fastVerdict([2, 1], [2, 1], { ...answer, scratch_accuracy: [0.8, 0.85, 0.9] }).confirmed, false);
});
