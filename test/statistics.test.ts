/**
 * stages/lib/statistics.ts against values computed independently (SciPy: stats.t.ppf, stats.t.interval) and against the
 * rules docs/protocol.md states: t intervals, pairing by seed, the l* tie-break, the plausible set.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bestDepth,
  excludesZero,
  accuracyInterval,
  meanInterval,
  pairedDifferenceInterval,
  pairedDifferences,
  plausibleSet,
  replicationUnits,
  standardError,
  studentCriticalValue,
} from '../stages/lib/statistics.js';

const close = (actual: number | null, expected: number, tol = 1e-9): void => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);
};

test('Student t critical values match SciPy (stats.t.ppf(0.975, df))', () => {
  close(studentCriticalValue(0.95, 1), 12.706204736, 1e-6);
  close(studentCriticalValue(0.95, 4), 2.776445105, 1e-8);
  close(studentCriticalValue(0.95, 9), 2.262157163, 1e-8);
  close(studentCriticalValue(0.9, 4), 2.131846786, 1e-8);
  assert.throws(() => studentCriticalValue(1.2, 4), /confidence level/);
});

test('meanInterval: mean +- t * s / sqrt(n) (SciPy: stats.t.interval)', () => {
  const [low, m, high] = meanInterval([1, 2, 3, 4, 6]);
  close(m, 3.2);
  close(low, 0.8116116119, 1e-8);
  close(high, 5.5883883881, 1e-8);
  close(standardError([1, 2, 3, 4, 6]), Math.sqrt(3.7) / Math.sqrt(5));
});

test('meanInterval: one value has no spread (null bounds); missing values are left out; none is an error', () => {
  assert.deepEqual(meanInterval([0.8]), [null, 0.8, null]);
  assert.deepEqual(meanInterval([0.8, Number.NaN]), [null, 0.8, null]);
  assert.throws(() => meanInterval([Number.NaN]), /no finite value/);
});

test('pairedDifferenceInterval pairs by seed index: a shared seed effect cancels', () => {
  // Seed effects (+-0.1) dwarf the depth effect (+0.01), but pairing removes them.
  const seedEffect = [0.1, -0.1, 0.05, -0.05, 0];
  const a = seedEffect.map((s, i) => 0.7 + s + 0.01 + 0.001 * (i % 2));
  const b = seedEffect.map((s) => 0.7 + s);
  const paired = pairedDifferenceInterval(a, b);
  assert.ok(excludesZero(paired), `paired ${paired.join(' ')}`);
  close(paired[1], 0.0104, 1e-12);
  // Unpaired, the same numbers say nothing: the interval of a's mean overlaps b's widely.
  const [lowA] = meanInterval(a);
  const [, , highB] = meanInterval(b);
  assert.ok(lowA !== null && highB !== null && lowA < highB);
});

test('pairedDifferences drops seeds missing on either side and rejects unaligned lists', () => {
  assert.deepEqual(pairedDifferences([1, Number.NaN, 3], [0.5, 1, Number.NaN]), [0.5]);
  assert.throws(() => pairedDifferences([1, 2], [1]), /differ in length/);
  assert.deepEqual(pairedDifferenceInterval([0.5, 0.6], [0.5, Number.NaN]), [null, 0, null]);
});

test('a paired interval as SciPy computes it on the differences', () => {
  const a = [0.81, 0.79, 0.83, 0.8, 0.82];
  const b = [0.78, 0.78, 0.8, 0.79, 0.8];
  const [low, m, high] = pairedDifferenceInterval(a, b);
  close(m, 0.02, 1e-12);
  close(low, 0.00758336, 1e-8);
  close(high, 0.03241664, 1e-8);
});

test('bestDepth: highest mean; ties go to the deeper depth whatever the order; missing runs do not count as zero', () => {
  const scores = new Map<number, number[]>([
    [0, [0.7, 0.72]],
    [2, [0.71, 0.71]],
    [1, [0.72, 0.7]],
  ]);
  assert.equal(bestDepth(scores), 2);
  assert.equal(bestDepth(new Map([...scores].reverse())), 2);
  assert.equal(
    bestDepth(
      new Map([
        [0, [0.6, Number.NaN]],
        [1, [0.5, 0.55]],
      ]),
    ),
    0,
  );
  assert.equal(bestDepth(new Map([[3, [Number.NaN]]])), null);
});

test('plausibleSet: paired t-test against l*, l* always in, a clearly worse depth out', () => {
  const scores = new Map<number, number[]>([
    [0, [0.6, 0.61, 0.59, 0.6, 0.62]], // far below, consistently: out
    [1, [0.8, 0.79, 0.81, 0.8, 0.8]], // l*
    [2, [0.81, 0.78, 0.8, 0.79, 0.81]], // within noise: in
    [3, [0.79, 0.78, 0.8, 0.79, 0.79]], // 0.01 below on every seed (sd 0): out
  ]);
  const best = bestDepth(scores);
  assert.equal(best, 1);
  assert.deepEqual(plausibleSet(scores, 1), [1, 2]);
  // A depth with identical scores to l* on every seed is plausible (difference exactly 0).
  assert.deepEqual(plausibleSet(new Map([...scores, [4, [0.8, 0.79, 0.81, 0.8, 0.8]]]), 1), [1, 2, 4]);
});

test('plausibleSet: with one seed nothing can be ruled out; a depth without results is left out', () => {
  const one = new Map<number, number[]>([
    [0, [0.5]],
    [1, [0.9]],
    [2, [Number.NaN]],
  ]);
  assert.deepEqual(plausibleSet(one, 1), [0, 1]);
  assert.throws(() => plausibleSet(one, 7), /no scores/);
});

test('accuracyInterval: the t interval of accuracies, cut at 0 and 1; the mean is untouched', () => {
  // Two folds at 0.95 and 0.75: mean 0.85, half-width t(0.975, 1) * 0.1 = 1.27.
  const [low, m, high] = meanInterval([0.95, 0.75]);
  assert.ok(low !== null && low < 0 && high !== null && high > 1, 'the raw t interval reaches past [0, 1]');
  assert.deepEqual(accuracyInterval([0.95, 0.75]), [0, m, 1]);
  assert.deepEqual(accuracyInterval([1, 2, 3, 4, 6].map((x) => x / 10)), meanInterval([1, 2, 3, 4, 6].map((x) => x / 10)));
  assert.deepEqual(accuracyInterval([0.8]), [null, 0.8, null]);
});

test('bestDepth: means equal in value but not in floating-point sum tie, and the deeper depth wins', () => {
  // 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ in the last bit: the shallower depth's sum is the larger.
  const shallow = [0.1, 0.2, 0.3];
  const deep = [0.3, 0.2, 0.1];
  assert.ok(shallow.reduce((a, b) => a + b) > deep.reduce((a, b) => a + b), 'the sums differ in floating point');
  assert.equal(
    bestDepth(
      new Map([
        [2, shallow],
        [4, deep],
      ]),
    ),
    4,
  );
  assert.equal(
    bestDepth(
      new Map([
        [4, deep],
        [2, shallow],
      ]),
    ),
    4,
  );
  // A real difference is still a difference.
  assert.equal(
    bestDepth(
      new Map([
        [2, [0.1, 0.2, 0.31]],
        [4, deep],
      ]),
    ),
    2,
  );
});

test('two levels of replication: tasks are the units; each task is averaged over its seeds first', () => {
  const tasks = [0, 0, 0, 1, 1, 1, 2, 2, 2];
  assert.deepEqual(replicationUnits([1, 2, 3, 4, 5, 6, 7, 8, 9], tasks), [2, 5, 8]);
  // Missing runs are left out of their task's mean, never counted as zero.
  assert.deepEqual(replicationUnits([1, Number.NaN, 3, 4, 5, 6, 7, 8, 9], tasks), [2, 5, 8]);
  // One task: the seeds are the units.
  assert.deepEqual(replicationUnits([1, 2, 3], [7, 7, 7]), [1, 2, 3]);
  assert.deepEqual(replicationUnits([1, 2, 3], null), [1, 2, 3]);
  // The paired interval over tasks: T - 1 = 2 degrees of freedom, computed on the task means of the differences.
  const a = [0.8, 0.82, 0.81, 0.7, 0.72, 0.71, 0.9, 0.88, 0.89];
  const b = a.map((x, i) => x - [0.05, 0.05, 0.05, 0.01, 0.01, 0.01, 0.03, 0.03, 0.03][i]);
  const [low, m, high] = pairedDifferenceInterval(a, b, 0.95, tasks);
  const d = [0.05, 0.01, 0.03];
  close(m, 0.03);
  close(high, 0.03 + studentCriticalValue(0.95, 2) * standardError(d), 1e-12);
  close(low, 0.03 - studentCriticalValue(0.95, 2) * standardError(d), 1e-12);
  // Treating the 9 runs as independent seeds would give a much narrower interval.
  const [naiveLow] = pairedDifferenceInterval(a, b);
  assert.ok((naiveLow as number) > (low as number));
  // The plausible set and l* follow the task units too.
  const byDepth = new Map([
    [0, b],
    [1, a],
  ]);
  assert.equal(bestDepth(byDepth, tasks), 1);
  assert.deepEqual(plausibleSet(byDepth, 1, 0.95, tasks), [0, 1], 'three tasks cannot separate a 0.01-0.05 difference');
  assert.deepEqual(plausibleSet(byDepth, 1), [1], 'nine runs taken as independent seeds would');
});
