/**
 * The answer of `defrost recommend` (docs/your-data.md) from the held-out accuracy of every
 * cross-validation fold: per mode and depth the mean over folds; l* by the rule of
 * stages/lib/statistics.ts over the depths of the first mode, paired by fold (every depth and
 * scratch train on the same fold split, so fold-to-fold variation cancels); the plausible set;
 * l*'s and scratch's mean accuracy with their 95% Student t intervals over folds.
 *
 * Pure: `recommend` (the stage) computes it and stores it; the command prints it.
 */
import { accuracyInterval, bestDepth, plausibleSet, type Interval } from '../lib/statistics.js';

/** One finished fold run: a depth of a mode, or training from scratch (`mode: scratch`). */
export interface FoldResult {
  readonly mode: string;
  /** null for scratch. */
  readonly depth: number | null;
  readonly fold: number;
  /** Accuracy on the fold's held-out samples. */
  readonly accuracy: number;
}

export const SCRATCH = 'scratch';

/** What `--json` prints (SPEC: `defrost recommend`), plus the per-mode table the report shows. */
export interface Recommendation {
  readonly l_star: number;
  readonly mode: string;
  readonly plausible: number[];
  readonly accuracy: Interval;
  readonly scratch_accuracy: Interval;
  /** Mean cross-validated accuracy per depth of `mode`. */
  readonly depths: Record<string, number>;
  readonly folds: number;
  /** Every mode: depth -> [low, mean, high] over folds. */
  readonly by_mode: Record<string, Record<string, Interval>>;
}

/** Scores per depth of one mode, aligned by fold index (NaN where a fold is missing). */
function scoresByDepth(results: readonly FoldResult[], mode: string, folds: number): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const r of results) {
    if (r.mode !== mode || r.depth === null) continue;
    const scores = map.get(r.depth) ?? new Array<number>(folds).fill(Number.NaN);
    scores[r.fold] = r.accuracy;
    map.set(r.depth, scores);
  }
  return new Map([...map.entries()].sort((a, b) => a[0] - b[0]));
}

export function recommendation(results: readonly FoldResult[], modes: readonly string[], folds: number): Recommendation {
  const mode = modes[0];
  const primary = scoresByDepth(results, mode, folds);
  const lStar = bestDepth(primary);
  if (lStar === null) throw new RangeError(`no fold result for mode ${mode}`);
  const scratch = new Array<number>(folds).fill(Number.NaN);
  for (const r of results) if (r.mode === SCRATCH) scratch[r.fold] = r.accuracy;
  const byMode: Record<string, Record<string, Interval>> = {};
  for (const m of modes) {
    byMode[m] = {};
    for (const [depth, scores] of scoresByDepth(results, m, folds)) byMode[m][String(depth)] = accuracyInterval(scores);
  }
  byMode[SCRATCH] = { scratch: accuracyInterval(scratch) };
  const depths: Record<string, number> = {};
  for (const [depth, scores] of primary) depths[String(depth)] = accuracyInterval(scores)[1];
  return {
    l_star: lStar,
    mode,
    plausible: plausibleSet(primary, lStar),
    accuracy: accuracyInterval(primary.get(lStar) ?? []),
    scratch_accuracy: accuracyInterval(scratch),
    depths,
    folds,
    by_mode: byMode,
  };
}

/** The `--json` line: exactly the keys the command line documents. */
export function recommendationJson(r: Recommendation): string {
  const { l_star, plausible, accuracy, scratch_accuracy, depths, folds } = r;
  return JSON.stringify({ l_star, plausible, accuracy, scratch_accuracy, depths, folds });
}

const pct = (v: number | null): string => (v === null ? '?' : `${(100 * v).toFixed(1)}%`);

/** The short report: l*, its interval, the plausible set, scratch, and accuracy per depth. */
export function recommendationText(r: Recommendation, what: { data: string; model: string; rows: number; classes: number }): string {
  const lines = [
    `Recommendation for ${what.data} (${what.rows} samples, ${what.classes} classes) with ${what.model}:`,
    `  keep the first ${r.l_star} block(s) frozen (l* = ${r.l_star}, mode ${r.mode}): ` +
      `${pct(r.accuracy[1])} cross-validated accuracy (95% interval ${pct(r.accuracy[0])} to ${pct(r.accuracy[2])}, ${r.folds} folds)`,
    `  depths as good within the noise (plausible set): ${r.plausible.join(', ')}`,
    `  training from scratch: ${pct(r.scratch_accuracy[1])} (${pct(r.scratch_accuracy[0])} to ${pct(r.scratch_accuracy[2])})`,
    '  mean cross-validated accuracy by depth:',
  ];
  for (const [mode, table] of Object.entries(r.by_mode)) {
    if (mode === SCRATCH) continue;
    lines.push(
      `    ${mode.padEnd(8)} ${Object.entries(table)
        .map(([d, iv]) => `${d}: ${pct(iv[1])}`)
        .join('  ')}`,
    );
  }
  return lines.join('\n');
}
