/**
 * One representation (N probe inputs x p features) with the derived quantities that several
 * measures share (the measures themselves are formulas over these, `measure.ts`), the costly ones
 * computed once and cached: the centred Gram matrix, squared distances, nearest-neighbour lists,
 * the median pairwise distance, and the centred Gaussian kernel.
 *
 * Distances. The data are first shifted near zero mean by exactness-preserving offsets
 * (`shiftColumns`). Squared distances come from the Gram matrix G of the shifted data,
 * d2(i, j) = g_ii + g_jj - 2 g_ij, in Float64. That formula cancels badly for close points, so a
 * pair whose d2 is below `NEAR_DUPLICATE` x (g_ii + g_jj) is recomputed directly as
 * sum_k (x_ik - x_jk)^2; identical rows get exactly 0, integer data exact distances. The result
 * is exactly symmetric. Linear CKA uses H G H, the Gram matrix of the exactly centred data.
 *
 * Ties. Neighbours are ordered by (squared distance, index): of two points at the same distance
 * from i the one with the lower row index is nearer. Every ranking (kNN lists, nearest neighbour,
 * ranks in the information imbalance) uses this one order, so results never depend on the order
 * a sort or a selection happened to visit points.
 */
import { parallelGram } from './parallel-gram.js';
import { directSquaredDistance, doubleCentre, gram, mirrorLower, scaleToUnit, shiftColumns, unitExponent, type Matrix } from './matrix.js';

/** Below this fraction of g_ii + g_jj a Gram-derived squared distance is recomputed directly. */
export const NEAR_DUPLICATE = 1e-4;

export class Representation {
  readonly n: number;
  readonly dim: number;
  /** The data shifted near zero mean (`shiftColumns`): every measure is translation-invariant. */
  readonly shifted: Matrix;
  private gramCache: Float64Array | null = null;
  private centredGramCache: Float64Array | null = null;
  private neighbourCache: { k: number; index: Int32Array; distance: Float64Array } | null = null;
  private medianCache: number | null = null;

  /**
   * Squared distances (and Gram entries) are those of the data scaled by 2^-e (`scaleToUnit`):
   * multiply by this, 4^e, for the original units (it may overflow for data near 1e308).
   */
  readonly squaredUnit: number;

  constructor(m: Matrix) {
    this.n = m.rows;
    this.dim = m.cols;
    this.squaredUnit = 4 ** unitExponent(m);
    // Scaled by a power of two first (exact): scale-invariant measures stay so for any finite scale.
    this.shifted = shiftColumns(scaleToUnit(m));
  }

  /**
   * Computes the Gram matrix ahead of use on `threads` threads (worker threads for large N);
   * without it the first measure computes it on the calling thread. Same bytes either way.
   */
  async prepare(threads: number): Promise<void> {
    if (this.gramCache === null) this.gramCache = await parallelGram(this.shifted, threads);
  }

  /** Gram matrix of the shifted data (N x N), the source of every distance. */
  get gram(): Float64Array {
    if (this.gramCache === null) this.gramCache = gram(this.shifted);
    return this.gramCache;
  }

  /** H G H: the Gram matrix of the column-centred data, as linear CKA needs (N x N). */
  get centredGram(): Float64Array {
    if (this.centredGramCache === null) {
      const g = Float64Array.from(this.gram);
      doubleCentre(g, this.n);
      this.centredGramCache = g;
    }
    return this.centredGramCache;
  }

  /**
   * Fills `out` with squared distances from point i to points 0..count-1 (default: all N);
   * out[i] = 0.
   */
  squaredDistanceRow(i: number, out: Float64Array, count = this.n): Float64Array {
    const g = this.gram;
    const n = this.n;
    const gii = g[i * n + i];
    const row = i * n;
    for (let j = 0; j < count; j++) {
      const gjj = g[j * n + j];
      const scale = gii + gjj;
      let d2 = scale - 2 * g[row + j];
      if (d2 < NEAR_DUPLICATE * scale) d2 = j === i ? 0 : directSquaredDistance(this.shifted, i, j);
      out[j] = d2;
    }
    return out;
  }

  /**
   * The k nearest neighbours of every point (self excluded), nearest first, in (distance, index)
   * order: `index[i * k + r]` is the (r+1)-th neighbour of i and `distance[i * k + r]` its
   * squared distance. Partial selection with a bounded max-heap: O(N^2 log k), no full sorts.
   */
  neighbours(k: number): { k: number; index: Int32Array; distance: Float64Array } {
    if (k >= this.n) throw new RangeError(`k = ${k} must be less than the number of points ${this.n}`);
    const cached = this.neighbourCache;
    if (cached !== null && cached.k >= k) return cached;
    const n = this.n;
    const index = new Int32Array(n * k);
    const distance = new Float64Array(n * k);
    const row = new Float64Array(n);
    const heapIdx = new Int32Array(k);
    const heapD = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      this.squaredDistanceRow(i, row);
      const size = selectNearest(row, i, k, heapIdx, heapD);
      // The heap holds the k nearest with the farthest on top: pop into place, farthest last.
      for (let r = size - 1; r >= 0; r--) {
        index[i * k + r] = heapIdx[0];
        distance[i * k + r] = heapD[0];
        heapPop(heapIdx, heapD, r + 1);
      }
    }
    const result = { k, index, distance };
    this.neighbourCache = result;
    return result;
  }

  /**
   * Median of the Euclidean distances over all pairs i < j (the RBF CKA bandwidth scale). With an
   * even number of pairs it is the mean of the two middle values. `lowerSquared`, an N x N array
   * whose lower triangle already holds the squared distances, saves recomputing them.
   */
  medianDistance(lowerSquared?: Float64Array): number {
    if (this.medianCache !== null) return this.medianCache;
    const n = this.n;
    const pairs = (n * (n - 1)) / 2;
    const values = new Float64Array(pairs);
    let t = 0;
    if (lowerSquared !== undefined) {
      for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) values[t++] = lowerSquared[i * n + j];
    } else {
      const row = new Float64Array(n);
      for (let i = 1; i < n; i++) {
        this.squaredDistanceRow(i, row, i);
        for (let j = 0; j < i; j++) values[t++] = row[j];
      }
    }
    const hi = Math.floor(pairs / 2);
    let median: number;
    if (pairs % 2 === 1) median = Math.sqrt(quickSelect(values, hi));
    else {
      const upper = quickSelect(values, hi);
      // After selection every value left of `hi` is <= upper: the lower middle is their maximum.
      let lower = -Infinity;
      for (let s = 0; s < hi; s++) if (values[s] > lower) lower = values[s];
      median = (Math.sqrt(lower) + Math.sqrt(upper)) / 2;
    }
    this.medianCache = median;
    return median;
  }

  /**
   * The doubly centred Gaussian kernel H K H (N x N), K_ij = exp(-d_ij^2 / (2 s^2)), with bandwidth
   * s = `sigmaFactor` x the median pairwise Euclidean distance (pairs i < j). If all points
   * coincide (median 0) the kernel is constant and its centred form is 0.
   */
  centredRbfKernel(sigmaFactor: number): Float64Array {
    const n = this.n;
    const kernel = new Float64Array(n * n);
    // Squared distances into the lower triangle, once: for the median, then the kernel in place.
    const row = new Float64Array(n);
    for (let i = 1; i < n; i++) {
      this.squaredDistanceRow(i, row, i);
      kernel.set(row.subarray(0, i), i * n);
    }
    const s = sigmaFactor * this.medianDistance(kernel);
    if (!(s > 0)) return kernel.fill(0);
    const scale = -1 / (2 * s * s);
    // Lower triangle and diagonal (exp(0) = 1), then the mirror: K is exactly symmetric.
    for (let i = 0; i < n; i++) {
      const o = i * n;
      for (let j = 0; j < i; j++) kernel[o + j] = Math.exp(kernel[o + j] * scale);
      kernel[o + i] = 1;
    }
    mirrorLower(kernel, n);
    doubleCentre(kernel, n);
    return kernel;
  }
}

/** True when (da, ia) comes after (db, ib) in neighbour order. */
function farther(da: number, ia: number, db: number, ib: number): boolean {
  return da > db || (da === db && ia > ib);
}

/**
 * Keeps the k nearest points of `row` (excluding `self`) in a max-heap (farthest on top).
 * Returns the heap size (k, since k < N).
 */
function selectNearest(row: Float64Array, self: number, k: number, heapIdx: Int32Array, heapD: Float64Array): number {
  let size = 0;
  const n = row.length;
  for (let j = 0; j < n; j++) {
    if (j === self) continue;
    const d = row[j];
    if (size < k) {
      // Sift up.
      let c = size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!farther(d, j, heapD[parent], heapIdx[parent])) break;
        heapD[c] = heapD[parent];
        heapIdx[c] = heapIdx[parent];
        c = parent;
      }
      heapD[c] = d;
      heapIdx[c] = j;
    } else if (farther(heapD[0], heapIdx[0], d, j)) {
      siftDown(heapIdx, heapD, size, d, j);
    }
  }
  return size;
}

/** Replaces the top of the heap with (d, j) and restores the heap order. */
function siftDown(heapIdx: Int32Array, heapD: Float64Array, size: number, d: number, j: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const r = l + 1;
    let m = l;
    if (r < size && farther(heapD[r], heapIdx[r], heapD[l], heapIdx[l])) m = r;
    if (!farther(heapD[m], heapIdx[m], d, j)) break;
    heapD[c] = heapD[m];
    heapIdx[c] = heapIdx[m];
    c = m;
  }
  heapD[c] = d;
  heapIdx[c] = j;
}

/** Removes the top of a heap of `size` entries. */
function heapPop(heapIdx: Int32Array, heapD: Float64Array, size: number): void {
  const last = size - 1;
  if (last <= 0) return;
  siftDown(heapIdx, heapD, last, heapD[last], heapIdx[last]);
}

/** Hoare-style quickselect: the value of rank `target` (0-based); partially reorders `a`. */
function quickSelect(a: Float64Array, target: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Median of three as pivot, deterministic.
    const mid = (lo + hi) >> 1;
    const pivot = median3(a[lo], a[mid], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
