/**
 * LogME (You et al., "LogME: Practical Assessment of Pre-trained Models for Transfer Learning",
 * ICML 2021): the maximum log evidence per sample of a Bayesian linear model from frozen features
 * to the one-hot labels, averaged over classes. Higher = the features explain the labels with a
 * simpler linear readout. docs/prediction.md says why it is one of defrost's depth predictors.
 *
 * For one label column y (N) and features F (N x D) the model is y = F w + noise, w ~ N(0, 1/alpha),
 * noise ~ N(0, 1/beta). With sigma_i the eigenvalues of F^T F (zero beyond the rank) and
 * x_i = u_i^T y the label's coordinates on F's left singular vectors, t = alpha / beta:
 *   gamma = sum sigma_i / (sigma_i + t)            (effective number of parameters)
 *   |m|^2 = sum sigma_i x_i^2 / (t + sigma_i)^2    (posterior mean weight norm)
 *   res^2 = sum x_i^2 t^2 / (t + sigma_i)^2 + (|y|^2 - sum x_i^2)
 * and the published fixed-point (MacKay) updates alpha = gamma / (|m|^2 + eps),
 * beta = (N - gamma) / (res^2 + eps), eps = 1e-5 as in the authors' code (it keeps the fixed point
 * finite when the features interpolate a column exactly, as they always do when N < D). We iterate
 * to convergence (relative change of t below 1e-12), not the authors' fixed 10 steps, so the value
 * does not depend on an iteration count. Log evidence per sample:
 *   [D/2 log alpha + N/2 log beta - 1/2 sum_{i<=D} log(alpha + beta sigma_i)
 *    - beta/2 res^2 - alpha/2 |m|^2 - N/2 log 2 pi] / N.
 * The sum over log(alpha + beta sigma_i) runs over all D eigenvalues, zeros included (the
 * determinant of the D x D posterior precision), also when N < D.
 *
 * Checked against test/reference/logme_reference.py, an independent naive numpy implementation
 * (explicit D x D matrix inverse, no eigendecomposition), through the committed fixture
 * test/fixtures/logme/reference.json.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** The authors' guard in the fixed-point denominators (thuml/LogME). */
const EPS = 1e-5;
const TOLERANCE = 1e-12;
const MAX_ITERATIONS = 10_000;

/** Row-major feature matrix: `rows` samples of `cols` features. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: ArrayLike<number>;
}

/**
 * The spectrum of F that every label column shares: the nonzero eigenvalues sigma_i of F^T F and
 * a map from a label column y to x_i = u_i^T y. Computed once per feature matrix from whichever
 * Gram matrix is smaller (D x D or N x N).
 */
interface Spectrum {
  readonly sigma: Float64Array;
  project(y: Float64Array): Float64Array;
}

function spectrum(f: FeatureMatrix): Spectrum {
  const { rows: n, cols: d, data } = f;
  const byFeatures = d <= n;
  const size = byFeatures ? d : n;
  const g = new Float64Array(size * size);
  if (byFeatures) {
    // F^T F, accumulated row by row.
    for (let r = 0; r < n; r++) {
      const o = r * d;
      for (let i = 0; i < d; i++) {
        const fi = data[o + i];
        if (fi === 0) continue;
        for (let j = i; j < d; j++) g[i * d + j] += fi * data[o + j];
      }
    }
  } else {
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += data[a * d + k] * data[b * d + k];
        g[a * n + b] = s;
      }
    }
  }
  const rowsOfG: number[][] = [];
  for (let i = 0; i < size; i++) {
    const row = new Array<number>(size);
    for (let j = 0; j < size; j++) row[j] = i <= j ? g[i * size + j] : g[j * size + i];
    rowsOfG.push(row);
  }
  const evd = new EigenvalueDecomposition(new Matrix(rowsOfG), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const largest = Math.max(0, ...values);
  // Eigenvalues at rounding level are zeros of the exact spectrum (rank deficiency).
  const floor = largest * size * 1e-13;
  const kept = values.map((v, i) => ({ v, i })).filter(({ v }) => v > floor);
  const sigma = Float64Array.from(kept, ({ v }) => v);
  const columns = kept.map(({ i }) => Float64Array.from(vectors.getColumn(i)));
  return {
    sigma,
    project(y: Float64Array): Float64Array {
      const x = new Float64Array(kept.length);
      if (byFeatures) {
        // u_i^T y = v_i^T F^T y / sqrt(sigma_i).
        const fty = new Float64Array(d);
        for (let r = 0; r < n; r++) {
          const yr = y[r];
          if (yr === 0) continue;
          for (let j = 0; j < d; j++) fty[j] += yr * data[r * d + j];
        }
        columns.forEach((v, k) => {
          let s = 0;
          for (let j = 0; j < d; j++) s += v[j] * fty[j];
          x[k] = s / Math.sqrt(sigma[k]);
        });
      } else {
        columns.forEach((u, k) => {
          let s = 0;
          for (let r = 0; r < n; r++) s += u[r] * y[r];
          x[k] = s;
        });
      }
      return x;
    },
  };
}

/** Log evidence per sample of one label column, at the converged fixed point. */
function columnEvidence(s: Spectrum, y: Float64Array, n: number, d: number): number {
  const { sigma } = s;
  const x = s.project(y);
  const x2 = x.map((v) => v * v);
  let y2 = 0;
  for (const v of y) y2 += v * v;
  let x2sum = 0;
  for (const v of x2) x2sum += v;
  const outside = Math.max(0, y2 - x2sum);
  let alpha = 1;
  let beta = 1;
  let gamma = 0;
  let m2 = 0;
  let res2 = 0;
  const terms = (t: number): void => {
    gamma = 0;
    m2 = 0;
    res2 = outside;
    for (let i = 0; i < sigma.length; i++) {
      const q = t + sigma[i];
      gamma += sigma[i] / q;
      m2 += (sigma[i] * x2[i]) / (q * q);
      res2 += (x2[i] * t * t) / (q * q);
    }
  };
  let converged = false;
  for (let it = 0; it < MAX_ITERATIONS && !converged; it++) {
    const t = alpha / beta;
    terms(t);
    alpha = gamma / (m2 + EPS);
    beta = (n - gamma) / (res2 + EPS);
    converged = Math.abs(alpha / beta - t) / t < TOLERANCE;
  }
  if (!converged) return Number.NaN;
  terms(alpha / beta);
  let logDet = (d - sigma.length) * Math.log(alpha);
  for (const v of sigma) logDet += Math.log(alpha + beta * v);
  const evidence =
    (d / 2) * Math.log(alpha) +
    (n / 2) * Math.log(beta) -
    logDet / 2 -
    (beta / 2) * res2 -
    (alpha / 2) * m2 -
    (n / 2) * Math.log(2 * Math.PI);
  return evidence / n;
}

/**
 * LogME of features for integer labels 0..classes-1: the mean over the classes present in
 * `labels` of the per-sample log evidence of their one-hot column. NaN when the fixed point does
 * not converge (never seen; the caller reports it as a missing score).
 */
export function logme(features: FeatureMatrix, labels: ArrayLike<number>, classes: number): number {
  const { rows: n, cols: d } = features;
  if (labels.length !== n) throw new Error(`logme: ${labels.length} labels for ${n} feature rows`);
  if (n === 0 || d === 0) return Number.NaN;
  const s = spectrum(features);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const y = new Float64Array(n);
    let count = 0;
    for (let r = 0; r < n; r++) {
      if (labels[r] !== c) continue;
      y[r] = 1;
      count++;
    }
    if (count === 0) continue;
    sum += columnEvidence(s, y, n, d);
    present++;
  }
  return present === 0 ? Number.NaN : sum / present;
}
