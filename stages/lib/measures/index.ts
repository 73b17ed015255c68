/**
 * The similarity measures of docs/science.md#comparing-representations between two representations of the same N probe
 * inputs, as used by the `similarity` stage and `defrost compare`.
 *
 * Pure TypeScript, no TensorFlow.js or Arrow: it loads in milliseconds and gives the same numbers
 * on every compute backend.
 */
import { BLOCKED_ABOVE, compareBlocked } from './blocked.js';
import { firstNonFinite, type Matrix } from './matrix.js';
import type { MeasureOptions } from './measure.js';
import { allMeasures, type MeasureName } from './registry.js';
import { Representation } from './representation.js';

export { linearCka, rbfCka, alignment } from './cka.js';
export { twoNNIntrinsicDimension } from './intrinsic-dimension.js';
export { matrixFrom, type Matrix } from './matrix.js';
export { informationImbalance, neighbourOverlap } from './neighbours.js';
export { Representation } from './representation.js';
export { defaultThreads } from './parallel-gram.js';
export type { MeasureOptions, SimilarityMeasure } from './measure.js';

/** The measures, their names and reported values (docs/similarity.md#measures). */
export { allMeasures, MEASURE_NAMES, isMeasureName, measureOf, type MeasureName } from './registry.js';

/** Reported values by name, in the order of `allMeasures()`. */
export type MeasureValues = Record<string, number>;

/**
 * The range of each option, checked only when a requested measure reads it: why `value` is not
 * allowed with `rows` samples, or null.
 */
const OPTION_CHECKS: { readonly [O in keyof MeasureOptions]: (value: number, rows: number) => string | null } = {
  k: (k, rows) =>
    Number.isInteger(k) && k >= 1 && k < rows ? null : `k = ${k} is not allowed: k must be an integer from 1 to N - 1 = ${rows - 1}`,
  rbfSigma: (sigma) => (sigma > 0 && Number.isFinite(sigma) ? null : `rbf sigma = ${sigma} is not allowed: it must be a positive number`),
};

/** True when one of `measures` reads `option`. */
export function readsOption(measures: readonly MeasureName[], option: keyof MeasureOptions): boolean {
  return allMeasures().some((m) => measures.includes(m.name) && m.reads.includes(option));
}

/** Why two matrices cannot be compared, in words for the user; null when they can. */
export function checkComparable(a: Matrix, b: Matrix, measures: readonly MeasureName[], options: MeasureOptions): string | null {
  if (a.rows === 0 || b.rows === 0) return 'a representation has no rows (need at least 3 samples)';
  if (a.cols === 0 || b.cols === 0) return 'a representation has no features (columns)';
  if (a.rows !== b.rows) return `the representations have different numbers of rows (samples): ${a.rows} and ${b.rows}`;
  if (a.rows < 3) return `need at least 3 samples to compare, got ${a.rows}`;
  for (const [name, m] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const bad = firstNonFinite(m);
    if (bad >= 0) {
      const value = m.data[bad];
      return `${name} has a non-finite value (${value}) at row ${Math.floor(bad / m.cols)}, column ${bad % m.cols}`;
    }
  }
  for (const option of Object.keys(OPTION_CHECKS) as (keyof MeasureOptions)[]) {
    const problem = readsOption(measures, option) ? OPTION_CHECKS[option](options[option], a.rows) : null;
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * Computes the requested measures between A and B (same rows = same probe inputs). Throws a
 * RangeError with the reason when `checkComparable` rejects the inputs.
 */
export function compareMatrices(a: Matrix, b: Matrix, measures: readonly MeasureName[], options: MeasureOptions): MeasureValues {
  const problem = checkComparable(a, b, measures, options);
  if (problem !== null) throw new RangeError(problem);
  if (a.rows > BLOCKED_ABOVE) return compareBlocked(a, b, measures, options);
  return compareRepresentations(new Representation(a), new Representation(b), measures, options);
}

/** `compareMatrices` with the Gram matrices computed on `threads` threads (same results). */
export async function compareMatricesParallel(
  a: Matrix,
  b: Matrix,
  measures: readonly MeasureName[],
  options: MeasureOptions,
  threads: number,
): Promise<MeasureValues> {
  const problem = checkComparable(a, b, measures, options);
  if (problem !== null) throw new RangeError(problem);
  // Large N: memory linear in N (no N x N matrices), on the calling thread.
  if (a.rows > BLOCKED_ABOVE) return compareBlocked(a, b, measures, options);
  const ra = new Representation(a);
  const rb = new Representation(b);
  await ra.prepare(threads);
  await rb.prepare(threads);
  return compareRepresentations(ra, rb, measures, options);
}

/** Like `compareMatrices`, on representations whose cached Grams and neighbours can be reused. */
export function compareRepresentations(
  a: Representation,
  b: Representation,
  measures: readonly MeasureName[],
  options: MeasureOptions,
): MeasureValues {
  const out: MeasureValues = {};
  for (const measure of allMeasures()) {
    if (!measures.includes(measure.name)) continue;
    const values = measure.compute(a, b, options);
    measure.values.forEach((value, i) => (out[value.name] = values[i]));
  }
  return out;
}
