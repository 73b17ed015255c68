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
