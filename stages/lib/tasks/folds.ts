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

/**
 * Fewer samples of a class than this in a fold's stopping split or held-out part and that part
 * can hardly rank checks or depths for the class: one sample more or less right moves its
 * accuracy by a fifth or more (docs/protocol.md#recommend-at-small-n).
 */
export const FEW_PER_CLASS = 5;

/**
 * The fewest samples any class has, over all K folds, in the stopping split (`validationSplit`)
 * and in the held-out part that scores the fold (and chooses l*): what `recommend` warns about.
 */
export function smallestFoldParts(
  labels: Int32Array,
  classes: number,
  folds: number,
  seed: number,
): { stopping: number; selection: number } {
  const fold = stratifiedFolds(labels, classes, folds, seed);
  const fewest = (rows: Int32Array): number =>
    Math.min(
      ...classCounts(
        Int32Array.from(rows, (r) => labels[r]),
        classes,
      ),
    );
  let stopping = Number.POSITIVE_INFINITY;
  let selection = Number.POSITIVE_INFINITY;
  for (let k = 0; k < folds; k++) {
    stopping = Math.min(stopping, fewest(validationSplit(labels, classes, foldRows(fold, k, false), k, seed).validation));
    selection = Math.min(selection, fewest(foldRows(fold, k, true)));
  }
  return { stopping, selection };
}
