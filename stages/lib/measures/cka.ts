/**
 * Centred kernel alignment (Kornblith, Norouzi, Lee and Hinton, "Similarity of neural network
 * representations revisited", ICML 2019):
 *
 *   CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),  HSIC(K, L) = tr(K H L H),
 *
 * with H = I - 11^T/N the centring matrix (the 1/(N-1)^2 factors of the HSIC estimator cancel).
 */
import { doubleCentre, mirrorLower } from './matrix.js';
import type { Representation } from './representation.js';

/**
 * Linear CKA: K = A A^T, L = B B^T on column-centred features, i.e. the doubly centred Gram
 * matrices, so HSIC(K, L) = sum_ij K_ij L_ij (= ||A^T B||_F^2). Invariant to orthogonal
 * transforms and isotropic scaling of either representation.
 */
export function linearCka(a: Representation, b: Representation): number {
  return alignment(a.centredGram, b.centredGram);
}

/** sum(K o L) / sqrt(sum(K o K) sum(L o L)) for doubly centred K and L. */
export function alignment(k: Float64Array, l: Float64Array): number {
  let kl = 0;
  let kk = 0;
  let ll = 0;
  for (let t = 0; t < k.length; t++) {
    const x = k[t];
    const y = l[t];
    kl += x * y;
    kk += x * x;
    ll += y * y;
  }
  const denominator = Math.sqrt(kk * ll);
  // A constant representation has no variance: CKA is undefined, reported as 0 similarity.
  return denominator > 0 ? kl / denominator : 0;
}

/**
 * The doubly centred Gaussian kernel H K H of a representation, K_ij = exp(-d_ij^2 / (2 s^2)),
 * with bandwidth s = `sigmaFactor` x the median pairwise Euclidean distance (pairs i < j). If all
 * points coincide (median 0) the kernel is constant and its centred form is 0.
 */
export function centredRbfKernel(r: Representation, sigmaFactor: number): Float64Array {
  const n = r.n;
  const kernel = new Float64Array(n * n);
  // Squared distances into the lower triangle, once: for the median, then the kernel in place.
  const row = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    r.squaredDistanceRow(i, row, i);
    kernel.set(row.subarray(0, i), i * n);
  }
  const s = sigmaFactor * r.medianDistance(kernel);
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

/** RBF CKA: Gaussian kernels with median-heuristic bandwidths, each scaled by `sigmaFactor`. */
export function rbfCka(a: Representation, b: Representation, sigmaFactor: number): number {
  return alignment(centredRbfKernel(a, sigmaFactor), centredRbfKernel(b, sigmaFactor));
}
