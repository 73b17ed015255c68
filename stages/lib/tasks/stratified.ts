/**
 * Stratified, nested sampling: an order of samples drawn from several classes such that every
 * prefix is as balanced as the classes allow. An image task's training split is drawn in this order
 * (pool first, then the stopping and selection sets), so each part is balanced; each seed then
 * trains on the first n rows of its own random order of the pool (subsets.ts).
 *
 * Round r takes the r-th (randomly permuted) sample of every class that still has one, the
 * classes of a round in random order; a class that runs out simply stops contributing.
 */
import { Rng } from '../random.js';

/** One chosen sample: its class position (index into the class list) and index within that class. */
export interface Pick {
  readonly classIndex: number;
  readonly item: number;
}

/** The first `total` picks of the stratified order over classes with `counts[i]` samples each. */
export function stratifiedOrder(counts: readonly number[], total: number, rng: Rng): Pick[] {
  const available = counts.reduce((a, b) => a + b, 0);
  if (total > available) throw new RangeError(`asked for ${total} samples; the classes hold ${available}`);
  const perms = counts.map((n, c) => rng.fork(`class-${c}`).permutation(n));
  const roundRng = rng.fork('rounds');
  const picks: Pick[] = [];
  for (let round = 0; picks.length < total; round++) {
    const live: number[] = [];
    for (let c = 0; c < counts.length; c++) if (round < counts[c]) live.push(c);
    roundRng.shuffle(live);
    for (const c of live) {
      if (picks.length === total) break;
      picks.push({ classIndex: c, item: perms[c][round] });
    }
  }
  return picks;
}

/** Fraction of each class among labels 0..classes-1 (for summaries and tests). */
export function classBalance(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const y of labels) counts[y]++;
  return counts.map((n) => (labels.length === 0 ? 0 : n / labels.length));
}
