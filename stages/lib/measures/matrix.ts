/**
 * Dense row-major matrices and the one heavy kernel the similarity measures need: the Gram
 * matrix X X^T of a representation (N samples x p features).
 *
 * Everything is Float64: CKA must agree with an independent float64 implementation to 1e-4,
 * and squared distances derived from a Gram matrix (||a||^2 + ||b||^2 - 2 a.b) lose digits to
 * cancellation when points are close, which float32 accumulation would make far worse.
 *
 * The Gram kernel is plain TypeScript, register-blocked 4x4 (16 accumulators, row panels that
 * stay in cache). It does not use TensorFlow.js: `defrost compare` then starts without loading
 * it, results do not depend on the compute backend, and every entry g_ij sums its products in
 * the same order, so two identical rows give g_ij = g_ii = g_jj bit for bit (their squared
 * distance is exactly 0, which makes tie handling exact for duplicates).
 */

import { block4x4, type BlockKernel } from './block-kernel.js';
import { createBlockKernel } from './simd-kernel.js';

/** A dense N x p matrix, row-major: entry (i, k) is `data[i * cols + k]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Wraps (copying to Float64) row-major values as a matrix, checking the size. */
export function matrixFrom(values: ArrayLike<number>, rows: number, cols: number): Matrix {
  if (values.length !== rows * cols) {
    throw new RangeError(`matrix of ${rows} x ${cols} needs ${rows * cols} values, got ${values.length}`);
  }
  return { rows, cols, data: Float64Array.from(values) };
}

/**
 * Copy with every column shifted close to zero mean, by an offset that keeps the arithmetic exact
 * where it can be: the column mean rounded to a multiple of the largest power of two not above the
 * column's standard deviation (an integer whenever the spread is at least 1). Integer-valued data
 * thus stay integers (their distances, hence their ties, are computed exactly), float32 inputs
 * shift without rounding, and what is left of the mean (at most half a standard deviation) is too
 * small to cause cancellation in distances derived from the Gram matrix.
 */
export function shiftColumns(m: Matrix): Matrix {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let k = 0; k < cols; k++) mean[k] += data[o + k];
  }
  for (let k = 0; k < cols; k++) mean[k] /= rows;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let k = 0; k < cols; k++) sq[k] += (data[o + k] - mean[k]) ** 2;
  }
  const offset = new Float64Array(cols);
  for (let k = 0; k < cols; k++) {
    const sd = Math.sqrt(sq[k] / rows);
    if (sd > 0) {
      const step = 2 ** Math.floor(Math.log2(sd));
      offset[k] = Math.round(mean[k] / step) * step;
    } else offset[k] = data[k]; // a constant column becomes exactly 0
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let k = 0; k < cols; k++) out[o + k] = data[o + k] - offset[k];
  }
  return { rows, cols, data: out };
}

/**
 * The matrix multiplied by a power of two that brings its largest magnitude into [1, 2): an exact
 * operation (only exponents change), so every measure, all invariant to isotropic scaling, is
 * unchanged, while data scaled by 1e80 or 1e-160 no longer overflows or underflows when squared
 * (distances, Gram entries and their sums then stay far inside the float64 range).
 */
export function scaleToUnit(m: Matrix): Matrix {
  const exponent = unitExponent(m);
  if (exponent === 0) return m;
  // 2^-exponent may itself overflow (subnormal data): apply it in steps of at most 2^500.
  const out = Float64Array.from(m.data);
  for (let left = -exponent; left !== 0;) {
    const step = Math.max(-500, Math.min(500, left));
    const factor = 2 ** step;
    for (let t = 0; t < out.length; t++) out[t] *= factor;
    left -= step;
  }
  return { rows: m.rows, cols: m.cols, data: out };
}

/** e such that the largest magnitude of `m` is in [2^e, 2^(e+1)); 0 for an all-zero or non-finite matrix. */
export function unitExponent(m: Matrix): number {
  let max = 0;
  for (let t = 0; t < m.data.length; t++) {
    const v = Math.abs(m.data[t]);
    if (v > max) max = v;
  }
  return max > 0 && Number.isFinite(max) ? Math.floor(Math.log2(max)) : 0;
}

/** Index of the first non-finite entry (NaN or +-Infinity), or -1. */
export function firstNonFinite(m: Matrix): number {
  const d = m.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  return -1;
}

/** Rows per panel of the Gram kernel: a panel of rows (x p features) is reused by every row block. */
const PANEL = 64;

/**
 * Gram matrix G = X X^T (N x N, symmetric, both halves filled), on this thread. See
 * `parallel-gram.ts` for the same computation split over worker threads (identical bytes).
 */
export function gram(m: Matrix): Float64Array {
  const packed = packRows(m);
  const g = new Float64Array(m.rows * m.rows);
  gramPanels(packed, m.rows, m.cols, g, 0, 1, createBlockKernel(packed, m.cols));
  mirrorLower(g, m.rows);
  return g;
}

/**
 * Rows packed in groups of 4, interleaved feature-major (`packed[i0 * p + 4k + t]` is
 * x[i0 + t][k]), zero-padded to a multiple of 4 rows, so the 4 x 4 kernel reads two contiguous
 * streams. `buffer` lets the caller put it in shared memory.
 */
export function packRows(m: Matrix, buffer?: ArrayBufferLike): Float64Array {
  const { rows: n, cols: p, data: x } = m;
  const padded = Math.ceil(n / 4) * 4;
  const packed = buffer ? new Float64Array(buffer, 0, padded * p) : new Float64Array(padded * p);
  for (let i = 0; i < n; i++) {
    const base = (i - (i % 4)) * p + (i % 4);
    const row = i * p;
    for (let k = 0; k < p; k++) packed[base + 4 * k] = x[row + k];
  }
  return packed;
}

/**
 * Computes the lower-triangle blocks of G for the column panels first, first + step, ... (panels
 * of `PANEL` rows): a worker takes every `step`-th panel. Every entry sums its p products in
 * order k = 0..p-1 with one accumulator, whoever computes it.
 */
export function gramPanels(
  packed: Float64Array,
  n: number,
  p: number,
  g: Float64Array,
  first: number,
  step: number,
  kernel: BlockKernel = (i0, j0, out) => block4x4(packed, p, i0, j0, out),
): void {
  const padded = Math.ceil(n / 4) * 4;
  const out = new Float64Array(16);
  for (let jb = first * PANEL; jb < padded; jb += step * PANEL) {
    const jEnd = Math.min(padded, jb + PANEL);
    for (let i0 = jb; i0 < padded; i0 += 4) {
      for (let j0 = jb; j0 < jEnd && j0 <= i0; j0 += 4) {
        kernel(i0, j0, out);
        for (let s = 0; s < 4; s++) {
          const i = i0 + s;
          if (i >= n) break;
          for (let t = 0; t < 4; t++) {
            const j = j0 + t;
            if (j < n) g[i * n + j] = out[4 * s + t];
          }
        }
      }
    }
  }
}

/** Copies the lower triangle into the upper one, making G exactly symmetric. */
export function mirrorLower(g: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) g[j * n + i] = g[row + j];
  }
}

/** Squared Euclidean distance between rows i and j, summed directly over k (no cancellation). */
export function directSquaredDistance(m: Matrix, i: number, j: number): number {
  const x = m.data;
  const p = m.cols;
  const a = i * p;
  const b = j * p;
  let s = 0;
  for (let k = 0; k < p; k++) {
    const d = x[a + k] - x[b + k];
    s += d * d;
  }
  return s;
}

/** In place: K <- H K H for a symmetric N x N matrix (subtract row and column means, add the grand mean). */
export function doubleCentre(k: Float64Array, n: number): void {
  const mean = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * n;
    for (let j = 0; j < n; j++) s += k[o + j];
    mean[i] = s / n;
    total += s;
  }
  const grand = total / (n * n);
  for (let i = 0; i < n; i++) {
    const o = i * n;
    const mi = mean[i] - grand;
    for (let j = 0; j < n; j++) k[o + j] -= mi + mean[j];
  }
}
