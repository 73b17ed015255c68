/**
 * Centred kernel alignment (Kornblith, Norouzi, Lee and Hinton, "Similarity of neural network
 * representations revisited", ICML 2019):
 *
 *   CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)),  HSIC(K, L) = tr(K H L H),
 *
 * with H = I - 11^T/N the centring matrix (the 1/(N-1)^2 factors of the HSIC estimator cancel).
 * Two measures: linear CKA (`cka`) and CKA with Gaussian kernels (`rbf_cka`).
 */
import type { SimilarityMeasure } from './measure.js';
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

/** RBF CKA: Gaussian kernels with median-heuristic bandwidths, each scaled by `sigmaFactor`. */
export function rbfCka(a: Representation, b: Representation, sigmaFactor: number): number {
  return alignment(a.centredRbfKernel(sigmaFactor), b.centredRbfKernel(sigmaFactor));
}

export const ckaMeasure: SimilarityMeasure<'cka'> = {
  name: 'cka',
  values: [{ name: 'cka', label: 'Linear CKA (1 = same)', alike: 'higher' }],
  blocks: 'every-pair',
  reads: [],
  about: 'linear CKA on centred features (Kornblith et al. 2019); 1 = same up to rotation and scale',
  reading: 'CKA is 1 for identical representations',
  compute: (a, b) => [linearCka(a, b)],
};

export const rbfCkaMeasure: SimilarityMeasure<'rbf_cka'> = {
  name: 'rbf_cka',
  values: [{ name: 'rbf_cka', label: 'RBF-kernel CKA (1 = same)', alike: 'higher' }],
  blocks: 'same-block',
  reads: ['rbfSigma'],
  about: 'CKA with Gaussian kernels, bandwidth = `rbf_sigma` x median pairwise distance (pairs i < j) of each representation',
  reading: 'RBF-kernel CKA is 1 for identical representations',
  compute: (a, b, options) => [rbfCka(a, b, options.rbfSigma)],
};
