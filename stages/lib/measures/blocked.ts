/**
 * The similarity measures for large N in memory linear in N (docs/similarity.md, "Large
 * inputs"). The small-N path (`representation.ts`) keeps N x N Gram and kernel matrices, which at
 * N = 20,000 would take 3.2 GB each; this one never holds more than a tile of 256 x 256 distances
 * per representation, plus O(N k) neighbour lists and O(N) sums.
 *
 * Squared distances are the same numbers as on the small-N path: the same packed 4 x 4 kernel for
 * the dot products (each summed over features in order, so g_ij = g_ji bit for bit), the same
 * near-duplicate rule. Two passes over the tiles of the lower triangle (i > j), each pair
 * visited once and credited to both rows:
 *   1. the k nearest neighbours of every point (neighbour overlap, TwoNN, the nearest neighbour
 *      for the information imbalance) and the exact median pairwise distance: a deterministic
 *      sample of 2^20 pairs brackets the median's rank, the pass counts the pairs below the
 *      bracket and keeps those inside it, and a selection there gives the exact median (a second
 *      pass with a wider bracket if the sample was unlucky);
 *   2. the RBF kernels (their bandwidth needs the median) accumulated into
 *      HSIC(K, L) = sum K o L - (2/N) sum_i k_i l_i + (sum K)(sum L)/N^2, k_i = row sums of K,
 *      which is tr(K H L H) without forming H K H; and the information-imbalance ranks.
 * Linear CKA uses the feature-space identity HSIC = ||A_c^T B_c||_F^2 (p x q memory).
 */
import { createBlockKernel, type BlockKernel } from './simd-kernel.js';
import { directSquaredDistance, packRows, scaleToUnit, shiftColumns, type Matrix } from './matrix.js';
import { NEAR_DUPLICATE } from './representation.js';
import type { MeasureValues } from './index.js';
import { twoNNFromNeighbours } from './intrinsic-dimension.js';
import type { MeasureOptions } from './measure.js';
import { reportedValues, type MeasureName } from './registry.js';

/**
 * The measures this path computes: the passes below are fused for them. A measure not listed has
 * no large-N path, and `compare` refuses it above `BLOCKED_ABOVE` rows (`blockedLimit`).
 */
export const TILED_MEASURES: readonly MeasureName[] = [
  'cka',
  'rbf_cka',
  'neighbour_overlap',
  'information_imbalance',
  'intrinsic_dimension',
];

/** Rows above which `compare` takes this path (below it N x N matrices cost at most ~72 MB each). */
export const BLOCKED_ABOVE = 3000;
/** Largest p x q cross-covariance linear CKA builds on this path (entries; 256 MB of float64). */
export const MAX_CROSS_ENTRIES = 2 ** 25;
const TILE = 256;
const SAMPLE = 2 ** 20;

interface Side {
  readonly n: number;
  readonly p: number;
  readonly shifted: Matrix;
  readonly norms: Float64Array;
  readonly kernel: BlockKernel;
}

function prepare(m: Matrix): Side {
  const shifted = shiftColumns(scaleToUnit(m));
  const { rows: n, cols: p, data } = shifted;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < p; k++) s += data[i * p + k] * data[i * p + k];
    norms[i] = s;
  }
  const packed = packRows(shifted);
  return { n, p, shifted, norms, kernel: createBlockKernel(packed, p) };
}

/** Squared distance from a dot product, with the small-N path's near-duplicate rule. */
function fromDot(side: Side, i: number, j: number, g: number): number {
  const scale = side.norms[i] + side.norms[j];
  const d2 = scale - 2 * g;
  return d2 < NEAR_DUPLICATE * scale ? (i === j ? 0 : directSquaredDistance(side.shifted, i, j)) : d2;
}

/** One squared distance, as the tiles compute it (dot summed over features in order). */
function squaredDistance(side: Side, i: number, j: number): number {
  const { data } = side.shifted;
  const p = side.p;
  let g = 0;
  for (let k = 0; k < p; k++) g += data[i * p + k] * data[j * p + k];
  return fromDot(side, i, j, g);
}

/** Squared distances of rows [i0, i1) x [j0, j1) into `out` (row stride TILE). */
function tile(side: Side, i0: number, i1: number, j0: number, j1: number, out: Float64Array, block: Float64Array): void {
  for (let gi = i0; gi < i1; gi += 4)
    for (let gj = j0; gj < j1 && gj <= gi + 3; gj += 4) {
      side.kernel(gi, gj, block);
      for (let s = 0; s < 4; s++) {
        const i = gi + s;
        if (i >= i1) break;
        for (let t = 0; t < 4; t++) {
          const j = gj + t;
          if (j >= j1) break;
          out[(i - i0) * TILE + (j - j0)] = fromDot(side, i, j, block[4 * s + t]);
        }
      }
    }
}

/** Calls `visit(i, j, dA, dB)` once for every pair i > j, tile by tile. */
function forEachPair(sides: readonly Side[], visit: (i: number, j: number, d: readonly Float64Array[], at: number) => void): void {
  const n = sides[0].n;
  const tiles = sides.map(() => new Float64Array(TILE * TILE));
  const block = new Float64Array(16);
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const i1 = Math.min(n, i0 + TILE);
    for (let j0 = 0; j0 <= i0; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      sides.forEach((side, s) => tile(side, i0, i1, j0, j1, tiles[s], block));
      for (let i = i0; i < i1; i++) {
        const jEnd = j0 === i0 ? i : j1;
        for (let j = j0; j < jEnd; j++) visit(i, j, tiles, (i - i0) * TILE + (j - j0));
      }
    }
  }
}

/** (da, ia) after (db, ib) in neighbour order: distance, then index. */
const farther = (da: number, ia: number, db: number, ib: number): boolean => da > db || (da === db && ia > ib);

/** k nearest neighbours of every row, kept in per-row max-heaps (farthest on top). */
class NeighbourHeaps {
  readonly index: Int32Array;
  readonly distance: Float64Array;
  private readonly size: Int32Array;
  constructor(
    readonly n: number,
    readonly k: number,
  ) {
    this.index = new Int32Array(n * k);
    this.distance = new Float64Array(n * k);
    this.size = new Int32Array(n);
  }
  offer(i: number, j: number, d: number): void {
    const k = this.k;
    const base = i * k;
    const hi = this.index;
    const hd = this.distance;
    let size = this.size[i];
    if (size < k) {
      let c = size++;
      this.size[i] = size;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!farther(d, j, hd[base + parent], hi[base + parent])) break;
        hd[base + c] = hd[base + parent];
        hi[base + c] = hi[base + parent];
        c = parent;
      }
      hd[base + c] = d;
      hi[base + c] = j;
      return;
    }
    if (!farther(hd[base], hi[base], d, j)) return;
    this.siftDown(base, size, d, j);
  }
  private siftDown(base: number, size: number, d: number, j: number): void {
    const hi = this.index;
    const hd = this.distance;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      let m = l;
      if (r < size && farther(hd[base + r], hi[base + r], hd[base + l], hi[base + l])) m = r;
      if (!farther(hd[base + m], hi[base + m], d, j)) break;
      hd[base + c] = hd[base + m];
      hi[base + c] = hi[base + m];
      c = m;
    }
    hd[base + c] = d;
    hi[base + c] = j;
  }
  /** Sorts every heap nearest first, in place (heap sort): the `neighbours()` layout. */
  finish(): { k: number; index: Int32Array; distance: Float64Array } {
    const k = this.k;
    for (let i = 0; i < this.n; i++) {
      const base = i * k;
      for (let size = this.size[i]; size > 1; size--) {
        const topD = this.distance[base];
        const topI = this.index[base];
        const lastD = this.distance[base + size - 1];
        const lastI = this.index[base + size - 1];
        this.siftDown(base, size - 1, lastD, lastI);
        this.distance[base + size - 1] = topD;
        this.index[base + size - 1] = topI;
      }
    }
    return { k, index: this.index, distance: this.distance };
  }
}

/** Ranks (0-based, ascending) of the median's order statistics among `pairs` values. */
function medianRanks(pairs: number): number[] {
  const hi = Math.floor(pairs / 2);
  return pairs % 2 === 1 ? [hi] : [hi - 1, hi];
}

/**
 * A bracket [lo, hi] of squared distances that should hold the median's ranks: the values at
 * +-`sigmas` standard deviations of the median's rank in a deterministic sample of pairs.
 */
function sampleBracket(side: Side, sigmas: number): { lo: number; hi: number } {
  const n = side.n;
  const pairs = (n * (n - 1)) / 2;
  const count = Math.min(SAMPLE, pairs);
  const values = new Float64Array(count);
  // Evenly spread pair indices t -> (i, j) with i > j, t = i (i - 1) / 2 + j.
  for (let s = 0; s < count; s++) {
    const t = Math.floor(((s + 0.5) * pairs) / count);
    let i = Math.floor((1 + Math.sqrt(1 + 8 * t)) / 2);
    while ((i * (i - 1)) / 2 > t) i--;
    while (((i + 1) * i) / 2 <= t) i++;
    values[s] = squaredDistance(side, i, t - (i * (i - 1)) / 2);
  }
  values.sort();
  const margin = Math.ceil(sigmas * Math.sqrt(count / 4)) + 1;
  const mid = count / 2;
  return { lo: values[Math.max(0, Math.floor(mid - margin))], hi: values[Math.min(count - 1, Math.ceil(mid + margin))] };
}

/** Values kept strictly inside a bracket before the data are declared too tied to bracket (1 GB). */
const MAX_INSIDE = 2 ** 27;

/**
 * Counts the pairs below the bracket and exactly at its ends, and keeps those strictly inside:
 * memory stays small even when most distances are tied (one-hot data).
 */
class MedianBracket {
  below = 0;
  atLo = 0;
  atHi = 0;
  private values = new Float64Array(1 << 16);
  private used = 0;
  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}
  add(d: number): void {
    if (d < this.lo) this.below++;
    else if (d === this.lo) this.atLo++;
    else if (d === this.hi) this.atHi++;
    else if (d < this.hi) {
      if (this.used === this.values.length) {
        if (this.used >= MAX_INSIDE)
          throw new RangeError('too many pairwise distances near the median to select it exactly; leave out rbf_cka (--measures)');
        const grown = new Float64Array(this.values.length * 2);
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.used++] = d;
    }
  }
  /** The median distance, or null if the bracket missed the median's ranks. */
  median(pairs: number): number | null {
    const ranks = medianRanks(pairs);
    const first = this.below;
    const end = this.below + this.atLo + this.used + this.atHi;
    if (ranks[0] < first || ranks[ranks.length - 1] >= end) return null;
    const inside = this.values.subarray(0, this.used).sort();
    const valueAt = (r: number): number => {
      const t = r - this.below;
      if (t < this.atLo) return this.lo;
      if (t < this.atLo + this.used) return inside[t - this.atLo];
      return this.hi;
    };
    const at = ranks.map((r) => Math.sqrt(valueAt(r)));
    return at.length === 1 ? at[0] : (at[0] + at[1]) / 2;
  }
}

/** HSIC of centred A and B through the p x q cross-covariance; linear CKA from it. */
function featureSpaceCka(a: Side, b: Side): number {
  const n = a.n;
  const centred = (side: Side): Float64Array => {
    const { p, shifted } = side;
    const mean = new Float64Array(p);
    for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) mean[k] += shifted.data[i * p + k];
    for (let k = 0; k < p; k++) mean[k] /= n;
    const out = new Float64Array(n * p);
    for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) out[i * p + k] = shifted.data[i * p + k] - mean[k];
    return out;
  };
  const ca = centred(a);
  const cb = centred(b);
  const cross = (x: Float64Array, px: number, y: Float64Array, py: number): number => {
    const c = new Float64Array(px * py);
    for (let i = 0; i < n; i++) {
      const xo = i * px;
      const yo = i * py;
      for (let u = 0; u < px; u++) {
        const v = x[xo + u];
        if (v === 0) continue;
        const co = u * py;
        for (let w = 0; w < py; w++) c[co + w] += v * y[yo + w];
      }
    }
    let s = 0;
    for (let t = 0; t < c.length; t++) s += c[t] * c[t];
    return s;
  };
  const kl = cross(ca, a.p, cb, b.p);
  const kk = cross(ca, a.p, ca, a.p);
  const ll = cross(cb, b.p, cb, b.p);
  const denominator = Math.sqrt(kk) * Math.sqrt(ll);
  return denominator > 0 ? kl / denominator : 0;
}

/** Why the blocked path cannot compute these measures on these sizes, or null. */
export function blockedLimit(a: Matrix, b: Matrix, measures: readonly MeasureName[]): string | null {
  const untiled = measures.filter((m) => !TILED_MEASURES.includes(m));
  if (untiled.length > 0)
    return (
      `${untiled.join(', ')} has no path for more than ${BLOCKED_ABOVE} rows (memory linear in N, see docs/similarity.md); ` +
      `leave it out (--measures) or compare at most ${BLOCKED_ABOVE} rows`
    );
  if (measures.includes('cka') && a.cols * b.cols > MAX_CROSS_ENTRIES)
    return (
      `linear CKA of ${a.rows} samples with ${a.cols} x ${b.cols} features needs a ${a.cols} x ${b.cols} cross-covariance, ` +
      `more than the ${MAX_CROSS_ENTRIES} entries allowed (see docs/similarity.md); reduce the features or leave out cka`
    );
  return null;
}

/** The requested measures for large N (inputs already checked by `checkComparable`). */
export function compareBlocked(a: Matrix, b: Matrix, measures: readonly MeasureName[], options: MeasureOptions): MeasureValues {
  const limit = blockedLimit(a, b, measures);
  if (limit !== null) throw new RangeError(limit);
  const n = a.rows;
  const pairs = (n * (n - 1)) / 2;
  const A = prepare(a);
  const B = prepare(b);
  const sides = [A, B];
  const wants = (m: MeasureName): boolean => measures.includes(m);
  const kk = Math.max(
    wants('neighbour_overlap') ? options.k : 0,
    wants('intrinsic_dimension') ? 2 : 0,
    wants('information_imbalance') ? 1 : 0,
  );

  // Pass 1: neighbours and the median (for RBF CKA).
  const heaps = kk > 0 ? sides.map(() => new NeighbourHeaps(n, kk)) : null;
  const bracketOf = (side: Side, sigmas: number): MedianBracket => {
    const { lo, hi } = sampleBracket(side, sigmas);
    return new MedianBracket(lo, hi);
  };
  let brackets = wants('rbf_cka') ? sides.map((side) => bracketOf(side, 8)) : null;
  if (heaps || brackets)
    forEachPair(sides, (i, j, d, at) => {
      for (let s = 0; s < 2; s++) {
        const v = d[s][at];
        if (heaps) {
          heaps[s].offer(i, j, v);
          heaps[s].offer(j, i, v);
        }
        brackets?.[s].add(v);
      }
    });
  let medians: number[] = [];
  if (brackets) {
    medians = brackets.map((br) => br.median(pairs) ?? Number.NaN);
    // An unlucky sample (an 8-sigma miss): one more pass with a bracket eight times wider.
    for (let s = 0; s < 2; s++)
      if (Number.isNaN(medians[s])) {
        const retry = bracketOf(sides[s], 64);
        forEachPair([sides[s]], (_i, _j, d, at) => retry.add(d[0][at]));
        const median = retry.median(pairs);
        if (median === null) throw new RangeError('could not bracket the median pairwise distance; leave out rbf_cka (--measures)');
        medians[s] = median;
      }
    brackets = null;
  }
  const nn = heaps?.map((h) => h.finish()) ?? null;

  const out: MeasureValues = {};
  if (wants('cka')) out.cka = featureSpaceCka(A, B);

  // Pass 2: RBF kernels and information-imbalance ranks.
  const needRbf = wants('rbf_cka');
  const needIi = wants('information_imbalance') && nn !== null;
  if (needRbf || needIi) {
    const scales = medians.map((m) => {
      const s = options.rbfSigma * m;
      return s > 0 ? -1 / (2 * s * s) : Number.NaN;
    });
    const rowK = [new Float64Array(n), new Float64Array(n)];
    let kl = 0;
    let kk2 = 0;
    let ll = 0;
    // Information imbalance X -> Y: threshold of row i = (d_Y(i, nn_X(i)), nn_X(i)).
    const thresholds = needIi
      ? [0, 1].map((x) => {
          const y = 1 - x;
          const t = new Float64Array(n);
          const idx = new Int32Array(n);
          for (let i = 0; i < n; i++) {
            idx[i] = (nn as { index: Int32Array; k: number }[])[x].index[i * (nn as { k: number }[])[x].k];
            t[i] = squaredDistance(sides[y], i, idx[i]);
          }
          return { t, idx };
        })
      : null;
    const ranks = [new Float64Array(n).fill(1), new Float64Array(n).fill(1)];
    forEachPair(sides, (i, j, d, at) => {
      const da = d[0][at];
      const db = d[1][at];
      if (needRbf) {
        const ka = Number.isNaN(scales[0]) ? 1 : Math.exp(da * scales[0]);
        const kb = Number.isNaN(scales[1]) ? 1 : Math.exp(db * scales[1]);
        kl += 2 * ka * kb;
        kk2 += 2 * ka * ka;
        ll += 2 * kb * kb;
        rowK[0][i] += ka;
        rowK[0][j] += ka;
        rowK[1][i] += kb;
        rowK[1][j] += kb;
      }
      if (thresholds) {
        // Rank in Y of X's nearest neighbour: count pairs nearer in Y, in (distance, index) order.
        for (let x = 0; x < 2; x++) {
          const dy = x === 0 ? db : da;
          const { t, idx } = thresholds[x];
          if (j !== idx[i] && (dy < t[i] || (dy === t[i] && j < idx[i]))) ranks[x][i]++;
          if (i !== idx[j] && (dy < t[j] || (dy === t[j] && i < idx[j]))) ranks[x][j]++;
        }
      }
    });
    if (needRbf) {
      // Diagonal: K_ii = 1.
      kl += n;
      kk2 += n;
      ll += n;
      let sa = 0;
      let sb = 0;
      let cross = 0;
      let crossA = 0;
      let crossB = 0;
      for (let i = 0; i < n; i++) {
        const ra = rowK[0][i] + 1;
        const rb = rowK[1][i] + 1;
        sa += ra;
        sb += rb;
        cross += ra * rb;
        crossA += ra * ra;
        crossB += rb * rb;
      }
      const hsic = (raw: number, rows: number, s1: number, s2: number): number => raw - (2 / n) * rows + (s1 * s2) / (n * n);
      const hkl = hsic(kl, cross, sa, sb);
      const hkk = Number.isNaN(scales[0]) ? 0 : hsic(kk2, crossA, sa, sa);
      const hll = Number.isNaN(scales[1]) ? 0 : hsic(ll, crossB, sb, sb);
      const denominator = Math.sqrt(hkk) * Math.sqrt(hll);
      out.rbf_cka = denominator > 0 ? hkl / denominator : 0;
    }
    if (thresholds) {
      const mean = (r: Float64Array): number => r.reduce((s, v) => s + v, 0) / n;
      out.information_imbalance_a_to_b = (2 / n) * mean(ranks[0]);
      out.information_imbalance_b_to_a = (2 / n) * mean(ranks[1]);
    }
  }
  if (wants('neighbour_overlap') && nn) {
    const k = options.k;
    const mark = new Int32Array(n).fill(-1);
    let shared = 0;
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < k; r++) mark[nn[0].index[i * kk + r]] = i;
      for (let r = 0; r < k; r++) if (mark[nn[1].index[i * kk + r]] === i) shared++;
    }
    out.neighbour_overlap = shared / (n * k);
  }
  if (wants('intrinsic_dimension') && nn) {
    out.intrinsic_dimension_a = twoNNFromNeighbours(nn[0], n);
    out.intrinsic_dimension_b = twoNNFromNeighbours(nn[1], n);
  }
  // Canonical output order, as the small-N path.
  const ordered: MeasureValues = {};
  for (const { name } of reportedValues()) if (name in out) ordered[name] = out[name];
  return ordered;
}
