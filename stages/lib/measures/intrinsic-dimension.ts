/**
 * TwoNN intrinsic dimension (Facco, d'Errico, Rodriguez and Laio, Scientific Reports 2017).
 *
 * For every point, mu = r2 / r1, the ratio of the distances to its second and first nearest
 * neighbours, follows a Pareto law F(mu) = 1 - mu^-d on a locally uniform d-dimensional set. The
 * estimator used here is the paper's (and DADApy's `compute_id_2NN`) linear fit: sort mu
 * ascending, take the empirical F_i = i/N for i = 1..floor(0.9 N) (the largest 10% of mu are
 * discarded, being the most sensitive to noise and density changes), and fit
 * -log(1 - F_i) = d log(mu_i) by least squares through the origin:
 *   d = sum_i x_i y_i / sum_i x_i^2,  x_i = log mu_i,  y_i = -log(1 - F_i).
 * Points whose first neighbour is at distance 0 (exact duplicates) have no defined mu and are
 * left out; N counts the remaining points.
 */
import type { SimilarityMeasure } from './measure.js';
import type { Representation } from './representation.js';

/** Fraction of the sorted mu values kept by the fit. */
const KEPT_FRACTION = 0.9;

export function twoNNIntrinsicDimension(r: Representation): number {
  return twoNNFromNeighbours(r.neighbours(2), r.n);
}

/** TwoNN from neighbour lists holding at least the two nearest (squared distances), nearest first. */
export function twoNNFromNeighbours(nn: { readonly k: number; readonly distance: Float64Array }, rows: number): number {
  const { distance, k } = nn;
  const logMu: number[] = [];
  for (let i = 0; i < rows; i++) {
    const r1 = distance[i * k];
    const r2 = distance[i * k + 1];
    if (r1 > 0) logMu.push(0.5 * Math.log(r2 / r1)); // distances are squared: log mu = log(r2^2/r1^2) / 2
  }
  const n = logMu.length;
  const kept = Math.floor(KEPT_FRACTION * n);
  if (kept < 1) return Number.NaN;
  const x = Float64Array.from(logMu).sort();
  let xy = 0;
  let xx = 0;
  for (let i = 0; i < kept; i++) {
    const y = -Math.log(1 - (i + 1) / n);
    xy += x[i] * y;
    xx += x[i] * x[i];
  }
  return xx > 0 ? xy / xx : Number.NaN;
}

export const intrinsicDimensionMeasure: SimilarityMeasure<'intrinsic_dimension'> = {
  name: 'intrinsic_dimension',
  values: [
    { name: 'intrinsic_dimension_a', label: 'Intrinsic dimension, source net', alike: null },
    { name: 'intrinsic_dimension_b', label: 'Intrinsic dimension, target net', alike: null },
  ],
  blocks: 'same-block',
  reads: [],
  about: 'TwoNN (Facco et al. 2017) of each representation alone',
  reading: 'intrinsic dimension is the number of directions the data really spans',
  compute: (a, b) => [twoNNIntrinsicDimension(a), twoNNIntrinsicDimension(b)],
};
