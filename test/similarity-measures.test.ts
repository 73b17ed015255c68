/**
 * The similarity measures against answers known in closed form (docs/similarity.md). Each test
 * would fail on a wrong definition: a missing centring, a wrong bandwidth, self counted as a
 * neighbour, a rank off by one, the wrong TwoNN estimator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../stages/lib/random.js';
import {
  compareMatrices,
  informationImbalance,
  linearCka,
  neighbourOverlap,
  rbfCka,
  Representation,
  twoNNIntrinsicDimension,
  type Matrix,
} from '../stages/lib/measures/index.js';
import { gaussian, multiply, orthonormalColumns, permuteRows, scale } from './similarity-fixtures.js';

const rep = (m: Matrix): Representation => new Representation(m);

test('CKA(X, XQ) = 1 for orthogonal Q and CKA(X, cX) = 1 (linear and RBF)', () => {
  const rng = new Rng(1, 'cka-invariance');
  const x = gaussian(rng, 300, 20);
  const xq = multiply(x, orthonormalColumns(rng, 20, 20));
  const cx = scale(x, 3.7);
  // Also a translation: CKA is defined on centred features.
  const shifted: Matrix = { ...cx, data: cx.data.map((v, t) => v + (t % 20)) };
  for (const other of [xq, cx, shifted]) {
    assert.ok(Math.abs(linearCka(rep(x), rep(other)) - 1) < 1e-10);
    assert.ok(Math.abs(rbfCka(rep(x), rep(other), 1) - 1) < 1e-10);
  }
  // And a transform that is not orthogonal is not invariant.
  const stretched: Matrix = { ...x, data: x.data.map((v, t) => (t % 20 === 0 ? 10 * v : v)) };
  assert.ok(linearCka(rep(x), rep(stretched)) < 0.9);
});

test('linear CKA of independent Gaussian matrices is near sqrt(pq / ((N+p)(N+q)))', () => {
  const n = 500;
  const p = 20;
  const q = 30;
  const expected = Math.sqrt((p * q) / ((n + p) * (n + q)));
  const rng = new Rng(2, 'cka-independent');
  const values = [0, 1, 2].map(() => linearCka(rep(gaussian(rng, n, p)), rep(gaussian(rng, n, q))));
  const mean = values.reduce((a, b) => a + b) / values.length;
  assert.ok(Math.abs(mean - expected) < 0.2 * expected, `mean CKA ${mean}, expected about ${expected}`);
});

test('neighbour overlap: 1 with itself, about k/(N-1) with a random row permutation', () => {
  const rng = new Rng(3, 'overlap');
  const n = 1000;
  const k = 10;
  const x = gaussian(rng, n, 8);
  assert.equal(neighbourOverlap(rep(x), rep(x), k), 1);
  // A rotated copy has the same neighbours too.
  assert.equal(neighbourOverlap(rep(x), rep(multiply(x, orthonormalColumns(rng, 8, 8))), k), 1);
  const permuted = permuteRows(x, rng.permutation(n));
  const overlap = neighbourOverlap(rep(x), rep(permuted), k);
  const chance = k / (n - 1);
  assert.ok(Math.abs(overlap - chance) < 0.3 * chance, `overlap ${overlap}, chance ${chance}`);
});

test('information imbalance: Delta(X->X) = 2/N exactly, Delta(X->independent) about 1', () => {
  const rng = new Rng(4, 'imbalance');
  const n = 800;
  const x = gaussian(rng, n, 6);
  assert.equal(informationImbalance(rep(x), rep(x)), 2 / n);
  const y = gaussian(rng, n, 6);
  const delta = informationImbalance(rep(x), rep(y));
  assert.ok(Math.abs(delta - 1) < 0.1, `Delta(X->Y) = ${delta}`);
  // A function of X (its first coordinates) is predicted by X, not the other way round.
  const part: Matrix = { rows: n, cols: 1, data: x.data.filter((_, t) => t % 6 === 0) };
  const forward = informationImbalance(rep(x), rep(part));
  const backward = informationImbalance(rep(part), rep(x));
  assert.ok(forward < 0.5 && backward > 0.7, `forward ${forward}, backward ${backward}`);
});

test('TwoNN recovers d within 10% on a d-dimensional linear subspace of R^50 (N = 2,000)', () => {
  const rng = new Rng(5, 'twonn');
  for (const d of [2, 5, 10]) {
    const z = gaussian(rng, 2000, d);
    const embedding = orthonormalColumns(rng, 50, d); // 50 x d, orthonormal columns
    const transposed: Matrix = {
      rows: d,
      cols: 50,
      data: Float64Array.from({ length: d * 50 }, (_, t) => embedding.data[(t % 50) * d + Math.floor(t / 50)]),
    };
    const points = multiply(z, transposed); // 2000 x 50, spanning a d-dimensional subspace
    const estimate = twoNNIntrinsicDimension(rep(points));
    assert.ok(Math.abs(estimate - d) < 0.1 * d, `d = ${d}: TwoNN estimated ${estimate}`);
  }
});

test('ties are broken by index and exact duplicates have distance 0', () => {
  // Points on a line at integer positions, with duplicates: 0, 1, 1, 2, 3, 3, 3.
  const positions = [0, 1, 1, 2, 3, 3, 3];
  const m: Matrix = { rows: 7, cols: 2, data: Float64Array.from(positions.flatMap((v) => [v, 0.5 * v])) };
  const r = rep(m);
  const { index, distance, k } = r.neighbours(3);
  // Point 3 (at 2): nearest are 1 and 2 (at 1) and 4, 5, 6 (at 3), all at distance 1 (scaled);
  // index order among equals: 1, 2, 4.
  assert.deepEqual(Array.from(index.subarray(3 * k, 4 * k)), [1, 2, 4]);
  // Point 4 (at 3): duplicates 5 and 6 first at distance exactly 0.
  assert.deepEqual(Array.from(index.subarray(4 * k, 4 * k + 2)), [5, 6]);
  assert.equal(distance[4 * k], 0);
  assert.equal(distance[4 * k + 1], 0);
});

test('near-duplicate points keep exact distances despite large norms', () => {
  const rng = new Rng(6, 'near-duplicates');
  const base = gaussian(rng, 50, 16);
  // Points far from the centroid: each pair (2i, 2i+1) is 1e-9 apart along one axis.
  const data = new Float64Array(100 * 16);
  for (let i = 0; i < 50; i++) {
    for (let c = 0; c < 16; c++) {
      const v = 1e3 * base.data[i * 16 + c];
      data[2 * i * 16 + c] = v;
      data[(2 * i + 1) * 16 + c] = c === 0 ? v + 1e-9 * (i + 1) : v;
    }
  }
  const r = rep({ rows: 100, cols: 16, data });
  const { index, distance, k } = r.neighbours(1);
  for (let i = 0; i < 50; i++) {
    assert.equal(index[2 * i * k], 2 * i + 1);
    const expected = (1e-9 * (i + 1)) ** 2;
    // Distances come in the representation's scaled units (an exact power of two).
    const got = distance[2 * i * k] * r.squaredUnit;
    assert.ok(Math.abs(got - expected) < 1e-3 * expected, `pair ${i}: ${got} vs ${expected}`);
  }
});

test('compareMatrices reports the requested values, in docs/similarity.md order, and rejects bad input', () => {
  const rng = new Rng(7, 'compare');
  const a = gaussian(rng, 60, 5);
  const b = gaussian(rng, 60, 7);
  const all = compareMatrices(a, b, ['intrinsic_dimension', 'cka', 'information_imbalance'], { k: 5, rbfSigma: 1 });
  assert.deepEqual(Object.keys(all), [
    'cka',
    'information_imbalance_a_to_b',
    'information_imbalance_b_to_a',
    'intrinsic_dimension_a',
    'intrinsic_dimension_b',
  ]);
  assert.throws(() => compareMatrices(a, gaussian(rng, 59, 7), ['cka'], { k: 5, rbfSigma: 1 }), /different numbers of rows/);
  assert.throws(() => compareMatrices(a, b, ['neighbour_overlap'], { k: 60, rbfSigma: 1 }), /k = 60/);
  const withNaN: Matrix = { ...b, data: b.data.map((v, t) => (t === 17 ? Number.NaN : v)) };
  assert.throws(() => compareMatrices(a, withNaN, ['cka'], { k: 5, rbfSigma: 1 }), /non-finite value \(NaN\) at row 2, column 3/);
});

test('the Gram matrix split over worker threads is bit-identical to the single-thread one', async () => {
  const { gram, shiftColumns } = await import('../stages/lib/measures/matrix.js');
  const { parallelGram } = await import('../stages/lib/measures/parallel-gram.js');
  const m = shiftColumns(gaussian(new Rng(8, 'parallel-gram'), 501, 401)); // above the threshold, N not a multiple of 4
  const single = gram(m);
  const parallel = await parallelGram(m, 3);
  assert.equal(parallel.length, single.length);
  assert.ok(Buffer.from(single.buffer).equals(Buffer.from(parallel.buffer)));
  // The helper threads stay for the next matrices (a pool): reused, at another thread count too
  // (both above the parallel threshold of 5e7 multiply-adds).
  for (const [rows, threads] of [
    [520, 3],
    [600, 2],
  ]) {
    const next = shiftColumns(gaussian(new Rng(rows, 'parallel-gram'), rows, 401));
    assert.ok(
      Buffer.from(gram(next).buffer).equals(Buffer.from((await parallelGram(next, threads)).buffer)),
      `${rows} rows, ${threads} threads`,
    );
  }
});

test('the WebAssembly SIMD Gram kernel is available and bit-identical to the TypeScript one', async () => {
  const { gram, shiftColumns } = await import('../stages/lib/measures/matrix.js');
  const { simdAvailable } = await import('../stages/lib/measures/simd-kernel.js');
  assert.ok(simdAvailable(), 'WebAssembly SIMD should be available on Node 20');
  const m = shiftColumns(gaussian(new Rng(9, 'simd-gram'), 203, 77));
  const simd = gram(m);
  process.env.DEFROST_SIMILARITY_SIMD = '0';
  try {
    const plain = gram(m);
    assert.ok(Buffer.from(simd.buffer).equals(Buffer.from(plain.buffer)));
  } finally {
    delete process.env.DEFROST_SIMILARITY_SIMD;
  }
});
