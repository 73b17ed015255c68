/**
 * Stratified K-fold cross-validation (docs/your-data.md): every sample is held out exactly once,
 * and every fold holds each class in proportion (within one sample). Within each class the
 * samples are permuted by the seeded stream `recommend/folds/class<c>` and dealt to the folds in
 * turn, starting where the previous class stopped, so fold sizes differ by at most one. A pure
 * function of (labels, K, seed): every instance of a `recommend` computes the same folds.
 */
import { Rng } from '../random.js';

/** `fold[i]` in 0..K-1: the fold that holds sample i out. */
export function stratifiedFolds(labels: Int32Array, classes: number, folds: number, seed: number): Int32Array {
  const fold = new Int32Array(labels.length);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((y, i) => byClass[y].push(i));
  let next = 0;
  byClass.forEach((members, c) => {
    const order = new Rng(seed, `recommend/folds/class${c}`).permutation(members.length);
    for (const k of order) {
      fold[members[k]] = next;
      next = (next + 1) % folds;
    }
  });
  return fold;
}

/** Samples per class, for checking that K folds can be stratified. */
export function classCounts(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const y of labels) counts[y]++;
  return counts;
}

/** Row indices of fold `k`'s training part (`held: false`) or held-out part (`held: true`). */
export function foldRows(fold: Int32Array, k: number, held: boolean): Int32Array {
  const rows: number[] = [];
  fold.forEach((f, i) => {
    if ((f === k) === held) rows.push(i);
  });
  return Int32Array.from(rows);
}

/** Share of a fold's training part held out for early stopping. */
export const VALIDATION_FRACTION = 0.2;

/**
 * Splits a fold's training rows into the rows that train and the validation rows early stopping
 * watches: `VALIDATION_FRACTION` of each class (at least one when the class has two or more),
 * chosen by the seeded stream `recommend/validation/fold<k>`. The fold's held-out rows are never
 * in either part.
 */
export function validationSplit(
  labels: Int32Array,
  classes: number,
  trainRows: Int32Array,
  fold: number,
  seed: number,
): { fit: Int32Array; validation: Int32Array } {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const row of trainRows) byClass[labels[row]].push(row);
  const rng = new Rng(seed, `recommend/validation/fold${fold}`);
  const fit: number[] = [];
  const validation: number[] = [];
  byClass.forEach((rows) => {
    const order = rng.permutation(rows.length);
    const held = rows.length < 2 ? 0 : Math.max(1, Math.round(VALIDATION_FRACTION * rows.length));
    order.forEach((k, i) => (i < held ? validation : fit).push(rows[k]));
  });
  return { fit: Int32Array.from(fit.sort((a, b) => a - b)), validation: Int32Array.from(validation.sort((a, b) => a - b)) };
}
