/**
 * The answer of the study (docs/protocol.md): for each (correlation, n, transfer mode), the
 * transfer depth l* with the highest mean *validation* accuracy over seeds, the plausible set
 * around it, and what l* gains on *test* over the standard protocol (l = L, only the readout
 * trains), over l = 0 (every block trained) and over training from scratch, with paired 95% intervals. Test accuracy never chooses
 * anything, so a gain can be negative.
 *
 * Rules (docs/report.md and docs/protocol.md; the statistics are in `stages/lib/statistics.ts`):
 * - per-seed values are aligned by seed across depths, scratch and modes of a cell, so every
 *   comparison is paired by seed; missing runs are left out (never counted as zero) and counted
 *   in `missing_runs`;
 * - ties of the mean go to the deeper l: it freezes more and trains less;
 * - standard errors use the sample standard deviation (n - 1) / sqrt(seeds), null for one seed.
 */
import { accuracyInterval, bestDepth, pairedDifferenceInterval, plausibleSet, type Interval } from '../statistics.js';
import { compareCorrelation, compareMode, SCRATCH_MODE } from './results.js';
import { mean, standardError } from './stats.js';
import type { MissingRun, OptimalDepthRow, ResultRow } from './types.js';

interface Cell {
  readonly correlation: number | null;
  readonly n: number;
}

const cellKey = (c: number | null, n: number): string => `${c === null ? 'none' : c}|${n}`;

/** Accuracies (non-null) of the runs matching a filter, in seed order. */
function accuracies(rows: readonly ResultRow[], match: (r: ResultRow) => boolean): number[] {
  return rows
    .filter((r) => match(r) && r.test_accuracy !== null)
    .sort((a, b) => a.seed - b.seed)
    .map((r) => r.test_accuracy as number);
}

/** Mean test accuracy per depth for one (correlation, n, mode); depths without any result are absent. */
export function meanAccuracyByDepth(
  results: readonly ResultRow[],
  correlation: number | null,
  n: number,
  mode: string,
): Map<number, { mean: number; se: number | null; seeds: number }> {
  const byDepth = new Map<number, { mean: number; se: number | null; seeds: number }>();
  const depths = [
    ...new Set(results.filter((r) => r.correlation === correlation && r.n === n && r.mode === mode).map((r) => r.depth as number)),
  ].sort((a, b) => a - b);
  for (const depth of depths) {
    const acc = accuracies(results, (r) => r.correlation === correlation && r.n === n && r.mode === mode && r.depth === depth);
    const m = mean(acc);
    if (m !== null) byDepth.set(depth, { mean: m, se: standardError(acc), seeds: acc.length });
  }
  return byDepth;
}

type Metric = 'test_accuracy' | 'validation_accuracy';

/**
 * Per-seed values of one metric, aligned with `seeds` (NaN where a run is missing), for every
 * depth of a cell and mode, in ascending depth order.
 */
export function scoresByDepth(
  results: readonly ResultRow[],
  correlation: number | null,
  n: number,
  mode: string,
  seeds: readonly number[],
  metric: Metric,
): Map<number, number[]> {
  const rows = results.filter((r) => r.correlation === correlation && r.n === n && r.mode === mode && r.depth !== null);
  const depths = [...new Set(rows.map((r) => r.depth as number))].sort((a, b) => a - b);
  const byDepth = new Map<number, number[]>();
  for (const depth of depths)
    byDepth.set(
      depth,
      alignBySeed(
        rows.filter((r) => r.depth === depth),
        seeds,
        metric,
      ),
    );
  return byDepth;
}

/** One metric of `rows` (one run per seed), aligned with `seeds`; NaN where missing. */
function alignBySeed(rows: readonly ResultRow[], seeds: readonly number[], metric: Metric): number[] {
  return seeds.map((seed) => rows.find((r) => r.seed === seed)?.[metric] ?? Number.NaN);
}

/** The seeds that appear anywhere in a cell (any mode, scratch included), ascending. */
function seedsOfCell(results: readonly ResultRow[], correlation: number | null, n: number): number[] {
  return [...new Set(results.filter((r) => r.correlation === correlation && r.n === n).map((r) => r.seed))].sort((a, b) => a - b);
}

/** An interval or nulls when there is nothing to compute it from. */
function intervalOrNull(compute: () => Interval): { low: number | null; mean: number | null; high: number | null } {
  try {
    const [low, m, high] = compute();
    return { low, mean: m, high };
  } catch {
    return { low: null, mean: null, high: null };
  }
}

export function computeOptimalDepth(results: readonly ResultRow[], missing: readonly MissingRun[], fullDepth: number): OptimalDepthRow[] {
  const cells = new Map<string, Cell>();
  const modes = new Set<string>();
  for (const r of [...results, ...missing]) {
    cells.set(cellKey(r.correlation, r.n), { correlation: r.correlation, n: r.n });
    if (r.mode !== SCRATCH_MODE) modes.add(r.mode);
  }
  const sortedCells = [...cells.values()].sort((a, b) => compareCorrelation(a.correlation, b.correlation) || a.n - b.n);
  const sortedModes = [...modes].sort(compareMode);

  const rows: OptimalDepthRow[] = [];
  for (const { correlation, n } of sortedCells) {
    const seeds = seedsOfCell(results, correlation, n);
    const scratchRows = results.filter((r) => r.correlation === correlation && r.n === n && r.mode === SCRATCH_MODE);
    const scratchTest = alignBySeed(scratchRows, seeds, 'test_accuracy');
    const scratch = intervalOrNull(() => accuracyInterval(scratchTest));
    const scratchMissing = missing.filter((m) => m.correlation === correlation && m.n === n && m.mode === SCRATCH_MODE).length;
    for (const mode of sortedModes) {
      const validation = scoresByDepth(results, correlation, n, mode, seeds, 'validation_accuracy');
      const test = scoresByDepth(results, correlation, n, mode, seeds, 'test_accuracy');
      const best = bestDepth(validation);
      const atBest = best === null ? [] : (test.get(best) ?? []);
      const atFull = test.get(fullDepth);
      const finiteAt = (xs: readonly number[]): number[] => xs.filter((x) => Number.isFinite(x));
      const optimal = intervalOrNull(() => accuracyInterval(atBest));
      const full = intervalOrNull(() => accuracyInterval(atFull ?? []));
      const vsFull = intervalOrNull(() => pairedDifferenceInterval(atBest, atFull ?? []));
      const vsZero = intervalOrNull(() => pairedDifferenceInterval(atBest, test.get(0) ?? []));
      const vsScratch = intervalOrNull(() => pairedDifferenceInterval(atBest, scratchTest));
      rows.push({
        correlation,
        n,
        mode,
        optimal_depth: best,
        plausible_depths: best === null ? [] : plausibleSet(validation, best),
        optimal_validation_accuracy: best === null ? null : intervalOrNull(() => accuracyInterval(validation.get(best) ?? [])).mean,
        optimal_accuracy: optimal.mean,
        optimal_accuracy_se: finiteAt(atBest).length >= 2 ? standardError(finiteAt(atBest)) : null,
        full_depth_accuracy: full.mean,
        full_depth_accuracy_se: standardError(finiteAt(atFull ?? [])),
        scratch_accuracy: scratch.mean,
        scratch_accuracy_se: standardError(finiteAt(scratchTest)),
        gain_over_full_depth: vsFull.mean,
        gain_vs_full_low: vsFull.low,
        gain_vs_full_high: vsFull.high,
        gain_over_zero_depth: vsZero.mean,
        gain_vs_zero_low: vsZero.low,
        gain_vs_zero_high: vsZero.high,
        gain_over_scratch: vsScratch.mean,
        gain_vs_scratch_low: vsScratch.low,
        gain_vs_scratch_high: vsScratch.high,
        seeds: finiteAt(atBest).length,
        missing_runs: scratchMissing + missing.filter((m) => m.correlation === correlation && m.n === n && m.mode === mode).length,
      });
    }
  }
  return rows;
}
