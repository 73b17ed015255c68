import { Rng } from '../random.js';

/**
 * The seed's order of the target pool: a seed's training subset of size n is the first n rows
 * in this order (`train/subset`), so subsets are nested across n within a seed and differ
 * between seeds (docs/protocol.md).
 */
export function trainingSubsetOrder(poolRows: number, seed: number): Int32Array {
  return new Rng(seed, 'train/subset').permutation(poolRows);
}
