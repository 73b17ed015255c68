/** Seeded test matrices for the similarity tests (not a test file itself). */
import { Rng } from '../stages/lib/random.js';
import type { Matrix } from '../stages/lib/measures/index.js';

/** N x p matrix of independent N(0, 1) entries. */
export function gaussian(rng: Rng, rows: number, cols: number): Matrix {
  return { rows, cols, data: rng.fillNormal(new Float64Array(rows * cols)) };
}

/** A x B (row-major product). */
export function multiply(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError('shape mismatch');
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += v * b.data[k * b.cols + j];
    }
  return { rows: a.rows, cols: b.cols, data: out };
}

/** p x q matrix with orthonormal columns (q <= p): Gram-Schmidt on a Gaussian matrix. */
export function orthonormalColumns(rng: Rng, p: number, q: number): Matrix {
  const m = gaussian(rng, p, q);
  const d = m.data;
  for (let j = 0; j < q; j++) {
    for (let prev = 0; prev < j; prev++) {
      let dot = 0;
      for (let i = 0; i < p; i++) dot += d[i * q + j] * d[i * q + prev];
      for (let i = 0; i < p; i++) d[i * q + j] -= dot * d[i * q + prev];
    }
    let norm = 0;
    for (let i = 0; i < p; i++) norm += d[i * q + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < p; i++) d[i * q + j] /= norm;
  }
  return m;
}

export function scale(m: Matrix, c: number): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.map((v) => v * c) };
}

/** Rows reordered: row i of the result is row perm[i] of m. */
export function permuteRows(m: Matrix, perm: Int32Array): Matrix {
  const out = new Float64Array(m.data.length);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(perm[i] * m.cols, (perm[i] + 1) * m.cols), i * m.cols);
  return { rows: m.rows, cols: m.cols, data: out };
}
