/**
 * The similarity measures of docs/science.md#comparing-representations between two representations of the same N probe
 * inputs, as used by the `similarity` stage and `defrost compare`.
 *
 * Pure TypeScript, no TensorFlow.js or Arrow: it loads in milliseconds and gives the same numbers
 * on every compute backend.
 */
import { BLOCKED_ABOVE, compareBlocked } from './blocked.js';
import { linearCka, rbfCka } from './cka.js';
import { twoNNIntrinsicDimension } from './intrinsic-dimension.js';
import { firstNonFinite, type Matrix } from './matrix.js';
import { informationImbalance, neighbourOverlap } from './neighbours.js';
import { Representation } from './representation.js';
import { MEASURE_NAMES, type MeasureName } from './names.js';

export { linearCka, rbfCka, alignment } from './cka.js';
export { twoNNIntrinsicDimension } from './intrinsic-dimension.js';
export { matrixFrom, type Matrix } from './matrix.js';
export { informationImbalance, neighbourOverlap } from './neighbours.js';
export { Representation } from './representation.js';
export { defaultThreads } from './parallel-gram.js';

/** Measure names as configs and the command line spell them (docs/science.md#comparing-representations): the config's own list. */
export { MEASURE_NAMES, type MeasureName } from './names.js';

/**
 * Reported value names, in output order. Information imbalance and intrinsic dimension each
 * report two values (both directions; each representation).
 */
export const VALUE_NAMES = {
  cka: ['cka'],
  rbf_cka: ['rbf_cka'],
  neighbour_overlap: ['neighbour_overlap'],
  information_imbalance: ['information_imbalance_a_to_b', 'information_imbalance_b_to_a'],
  intrinsic_dimension: ['intrinsic_dimension_a', 'intrinsic_dimension_b'],
} as const satisfies Record<MeasureName, readonly string[]>;

export interface MeasureOptions {
  /** Neighbours per point for `neighbour_overlap` (1 <= k < N). */
  readonly k: number;
  /** RBF bandwidth as a multiple of the median pairwise distance (> 0). */
  readonly rbfSigma: number;
}

/** Reported values by name, in the canonical order of `MEASURE_NAMES`. */
export type MeasureValues = Record<string, number>;

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
  if (measures.includes('neighbour_overlap') && !(Number.isInteger(options.k) && options.k >= 1 && options.k < a.rows)) {
    return `k = ${options.k} is not allowed: k must be an integer from 1 to N - 1 = ${a.rows - 1}`;
  }
  if (measures.includes('rbf_cka') && !(options.rbfSigma > 0 && Number.isFinite(options.rbfSigma))) {
    return `rbf sigma = ${options.rbfSigma} is not allowed: it must be a positive number`;
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
  for (const name of MEASURE_NAMES) {
    if (!measures.includes(name)) continue;
    switch (name) {
      case 'cka':
        out.cka = linearCka(a, b);
        break;
      case 'rbf_cka':
        out.rbf_cka = rbfCka(a, b, options.rbfSigma);
        break;
      case 'neighbour_overlap':
        out.neighbour_overlap = neighbourOverlap(a, b, options.k);
        break;
      case 'information_imbalance':
        out.information_imbalance_a_to_b = informationImbalance(a, b);
        out.information_imbalance_b_to_a = informationImbalance(b, a);
        break;
      case 'intrinsic_dimension':
        out.intrinsic_dimension_a = twoNNIntrinsicDimension(a);
        out.intrinsic_dimension_b = twoNNIntrinsicDimension(b);
        break;
    }
  }
  return out;
}

/** True when `name` is one of `MEASURE_NAMES`. */
export function isMeasureName(name: string): name is MeasureName {
  return (MEASURE_NAMES as readonly string[]).includes(name);
}
