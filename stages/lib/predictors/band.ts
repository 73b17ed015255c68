/**
 * The same-task band and the similarity predictor built on it (docs/prediction.md).
 *
 * Two networks trained from scratch on the target task with different seeds "learned the same
 * thing" by construction; how alike they look, block by block and measure by measure, is the
 * yardstick for source-vs-target similarity. From k such pairs the band of block l and measure m
 * is the 95% prediction interval of one more same-task pair's value: mean +- t_{0.975, k-1} s
 * sqrt(1 + 1/k) (Student t, s the pairs' sample standard deviation), i.e. where a further pair of
 * networks that learned the same thing would fall; with one pair it is that pair's value alone.
 * The pairs share networks (every pair of up to four reference seeds), so the interval is a
 * yardstick, not an exact 95%. A source-vs-target value is *inside* the band when it is at least
 * as alike as the band's least alike edge: not below the low edge for the values where higher
 * means alike (CKA, RBF CKA, neighbour overlap), not above the high edge where lower does
 * (information imbalance). A value that describes one network at a time (intrinsic dimension)
 * takes no part. Each value's direction is its measure's (`alike`, lib/measures/registry.ts).
 *
 * The predictor: a(j) = fraction of the measures inside the band at block j; block j *looks
 * same-task* when a(j) >= 1/2. The predicted l* is the deepest l whose blocks 1..l all look
 * same-task (0 when block 1 does not): freeze what the target network would have learned anyway.
 * For ranking all depths (Kendall's tau, `recommend --fast`) depth l scores
 * s(l) = sum_{j <= l} c(j), s(0) = 0, with c(j) = a(j) - 1/2 while blocks 1..j all look same-task
 * and c(j) = -1 from the first block that does not on: the argmax of s is the predicted l*
 * (ties to the deeper depth), shallower depths rank by the margin they leave unused, deeper ones
 * fall by a full point per block past the break.
 */
import { reportedValues } from '../measures/registry.js';
import type { SimilarityRow } from '../tables/similarity-table.js';
import { mean, sampleStandardDeviation, studentCriticalValue } from '../statistics.js';

/** The values that take part, by name: whether a larger value means more alike (+1) or less alike (-1). */
const BAND_MEASURES: ReadonlyMap<string, 1 | -1> = new Map(
  reportedValues().flatMap((v) => (v.alike === null ? [] : [[v.name, v.alike === 'higher' ? 1 : -1] as const])),
);

export interface BandEdge {
  readonly block: number;
  readonly measure: string;
  /** Mean over the same-task pairs. */
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  /** Same-task pairs behind the band. */
  readonly pairs: number;
}

/** The per-block values (block_a = block_b) of the band measures, keyed `measure|block`. */
function blockValues(rows: readonly SimilarityRow[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const r of rows) {
    if (r.block_a !== r.block_b || r.value === null || !BAND_MEASURES.has(r.measure)) continue;
    values.set(`${r.measure}|${r.block_a}`, r.value);
  }
  return values;
}

/** The band from the similarity tables of same-task pairs (each one pair's `similarity.arrow`). */
export function sameTaskBand(pairs: readonly (readonly SimilarityRow[])[]): BandEdge[] {
  const collected = new Map<string, number[]>();
  for (const rows of pairs) {
    for (const [key, value] of blockValues(rows)) {
      const list = collected.get(key) ?? [];
      list.push(value);
      collected.set(key, list);
    }
  }
  const edges: BandEdge[] = [];
  for (const [key, values] of collected) {
    const [measure, block] = key.split('|');
    const m = mean(values);
    const half =
      values.length < 2
        ? 0
        : studentCriticalValue(0.95, values.length - 1) * sampleStandardDeviation(values) * Math.sqrt(1 + 1 / values.length);
    edges.push({ block: Number(block), measure, mean: m, low: m - half, high: m + half, pairs: values.length });
  }
  return edges.sort((a, b) => a.block - b.block || (a.measure < b.measure ? -1 : a.measure > b.measure ? 1 : 0));
}

export function insideBand(value: number, edge: BandEdge): boolean {
  return BAND_MEASURES.get(edge.measure) === 1 ? value >= edge.low : value <= edge.high;
}

/** One source-vs-target value against its band. */
export interface BandCheck {
  readonly block: number;
  readonly measure: string;
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly pairs: number;
  readonly inside: boolean;
}

export function checkAgainstBand(source: readonly SimilarityRow[], band: readonly BandEdge[]): BandCheck[] {
  const values = blockValues(source);
  const checks: BandCheck[] = [];
  for (const edge of band) {
    const value = values.get(`${edge.measure}|${edge.block}`);
    if (value === undefined) continue;
    checks.push({ ...edge, value, inside: insideBand(value, edge) });
  }
  return checks;
}

/**
 * The similarity predictor's scores s(0..L) from the band checks (see the module comment); null
 * for depth l when some block j <= l has no comparable measure.
 */
export function bandScores(checks: readonly BandCheck[], depth: number): (number | null)[] {
  const scores: (number | null)[] = [0];
  let total: number | null = 0;
  let broken = false;
  for (let l = 1; l <= depth; l++) {
    const at = checks.filter((c) => c.block === l);
    const agreement = at.length === 0 ? null : at.filter((c) => c.inside).length / at.length;
    if (agreement !== null && agreement < 0.5) broken = true;
    total = total === null || agreement === null ? null : total + (broken ? -1 : agreement - 0.5);
    scores.push(total);
  }
  return scores;
}
