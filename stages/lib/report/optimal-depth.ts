/**
 * The answer of the study (docs/protocol.md): for each (correlation, n, transfer mode), the
 * transfer depth l* with the highest mean *selection* accuracy (on data disjoint from what stopped
 * the runs), the plausible set around it, and what l* gains on *test* over the standard protocol
 * (l = L, only the readout trains), over l = 0 (every block trained) and over training from
 * scratch, with paired 95% intervals. Test accuracy never chooses anything, so a gain can be negative.
 *
 * Rules (docs/report.md and docs/protocol.md; the statistics are in `stages/lib/statistics.ts`):
 * - per-run values are aligned by replicate (task instance, seed) across depths, scratch and
 *   modes of a cell, so every comparison is paired; with two or more task instances the task is
 *   the unit of replication (`stages/lib/statistics.ts`); missing runs are left out (never counted
 *   as zero) and counted in `missing_runs`;
 * - a depth early elimination stopped (eliminations.ts) is neither l* nor plausible: the race
 *   showed it worse than the leader; its means and the gains over it rest on the runs it trained;
 * - ties of the mean go to the deeper l: it freezes more and trains less;
 * - standard errors use the sample standard deviation (n - 1) / sqrt(seeds), null for one seed.
 */
import {
  accuracyInterval,
  bestDepth,
  finiteOrNull,
  mean,
  pairedDifferenceInterval,
  plausibleSet,
  replicationUnits,
  standardError,
  type Interval,
  type Tasks,
} from '../statistics.js';
import type { OptimalDepthRow, ResultRow } from '../tables/report-tables.js';
import { eliminatedDepths, eliminationsOf } from './eliminations.js';
import { compareCorrelation, compareMode, isDepthMode, SCRATCH_MODE } from './results.js';
import type { MissingRun } from './types.js';

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
    if (acc.length > 0) byDepth.set(depth, { mean: mean(acc), se: finiteOrNull(standardError(acc)), seeds: acc.length });
  }
  return byDepth;
}

export type Metric = 'test_accuracy' | 'validation_accuracy' | 'selection_accuracy';

/** One replicate of a cell: a task instance (null: the study's one task) and a seed. */
export interface Replicate {
  readonly task: number | null;
  readonly seed: number;
}

/**
 * Per-replicate values of one metric, aligned with `replicates` (NaN where a run is missing), for
 * every depth of a cell and mode, in ascending depth order.
 */
export function scoresByDepth(
  results: readonly ResultRow[],
  correlation: number | null,
  n: number,
  mode: string,
  replicates: readonly Replicate[],
  metric: Metric,
): Map<number, number[]> {
  const rows = results.filter((r) => r.correlation === correlation && r.n === n && r.mode === mode && r.depth !== null);
  const depths = [...new Set(rows.map((r) => r.depth as number))].sort((a, b) => a - b);
  const byDepth = new Map<number, number[]>();
  for (const depth of depths)
    byDepth.set(
      depth,
      alignByReplicate(
        rows.filter((r) => r.depth === depth),
        replicates,
        metric,
      ),
    );
  return byDepth;
}

/** One metric of `rows` (one run per replicate), aligned with `replicates`; NaN where missing. */
export function alignByReplicate(rows: readonly ResultRow[], replicates: readonly Replicate[], metric: Metric): number[] {
  return replicates.map((p) => rows.find((r) => r.seed === p.seed && r.task_seed === p.task)?.[metric] ?? Number.NaN);
}

/** The replicates that appear anywhere in a cell (any mode, scratch included), by task then seed. */
export function replicatesOfCell(results: readonly ResultRow[], correlation: number | null, n: number): Replicate[] {
  const seen = new Map<string, Replicate>();
  for (const r of results)
    if (r.correlation === correlation && r.n === n) seen.set(`${r.task_seed}|${r.seed}`, { task: r.task_seed, seed: r.seed });
  return [...seen.values()].sort((a, b) => (a.task ?? -1) - (b.task ?? -1) || a.seed - b.seed);
}

/** The task of each replicate for the statistics, or null when the study has one task. */
export function tasksOf(replicates: readonly Replicate[]): Tasks {
  return replicates.some((p) => p.task !== null) ? replicates.map((p) => p.task ?? -1) : null;
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
    if (isDepthMode(r.mode)) modes.add(r.mode);
  }
  const sortedCells = [...cells.values()].sort((a, b) => compareCorrelation(a.correlation, b.correlation) || a.n - b.n);
  const sortedModes = [...modes].sort(compareMode);

  const eliminations = eliminationsOf(results);
  const rows: OptimalDepthRow[] = [];
  for (const { correlation, n } of sortedCells) {
    const replicates = replicatesOfCell(results, correlation, n);
    const tasks = tasksOf(replicates);
    const scratchRows = results.filter((r) => r.correlation === correlation && r.n === n && r.mode === SCRATCH_MODE);
    const scratchTest = alignByReplicate(scratchRows, replicates, 'test_accuracy');
    const scratch = intervalOrNull(() => accuracyInterval(scratchTest, 0.95, tasks));
    const scratchMissing = missing.filter((m) => m.correlation === correlation && m.n === n && m.mode === SCRATCH_MODE).length;
    for (const mode of sortedModes) {
      const stopped = eliminatedDepths(eliminations, correlation, n, mode);
      const selection = new Map(
        [...scoresByDepth(results, correlation, n, mode, replicates, 'selection_accuracy')].filter(([depth]) => !stopped.has(depth)),
      );
      const test = scoresByDepth(results, correlation, n, mode, replicates, 'test_accuracy');
      const best = bestDepth(selection, tasks);
      const atBest = best === null ? [] : (test.get(best) ?? []);
      const atFull = test.get(fullDepth) ?? replicates.map(() => Number.NaN);
      const units = (xs: readonly number[]): number[] => (xs.length === 0 ? [] : replicationUnits(xs, tasks));
      const standardErrorOf = (xs: readonly number[]): number | null => (units(xs).length >= 2 ? standardError(units(xs)) : null);
      const optimal = intervalOrNull(() => accuracyInterval(atBest, 0.95, tasks));
      const full = intervalOrNull(() => accuracyInterval(atFull, 0.95, tasks));
      const vsFull = intervalOrNull(() => pairedDifferenceInterval(atBest, atFull, 0.95, tasks));
      const vsScratch = intervalOrNull(() => pairedDifferenceInterval(atBest, scratchTest, 0.95, tasks));
      const finiteAtBest = atBest.filter((x) => Number.isFinite(x));
      const vsZero = intervalOrNull(() => pairedDifferenceInterval(atBest, test.get(0) ?? replicates.map(() => Number.NaN), 0.95, tasks));
      rows.push({
        correlation,
        n,
        mode,
        optimal_depth: best,
        plausible_depths: best === null ? [] : plausibleSet(selection, best, 0.95, tasks),
        optimal_selection_accuracy:
          best === null ? null : intervalOrNull(() => accuracyInterval(selection.get(best) ?? [], 0.95, tasks)).mean,
        optimal_accuracy: optimal.mean,
        optimal_accuracy_se: standardErrorOf(atBest),
        full_depth_accuracy: full.mean,
        full_depth_accuracy_se: standardErrorOf(atFull),
        scratch_accuracy: scratch.mean,
        scratch_accuracy_se: standardErrorOf(scratchTest),
        gain_over_full_depth: vsFull.mean,
        gain_vs_full_low: vsFull.low,
        gain_vs_full_high: vsFull.high,
        gain_over_zero_depth: vsZero.mean,
        gain_vs_zero_low: vsZero.low,
        gain_vs_zero_high: vsZero.high,
        gain_over_scratch: vsScratch.mean,
        gain_vs_scratch_low: vsScratch.low,
        gain_vs_scratch_high: vsScratch.high,
        seeds: finiteAtBest.length,
        tasks: tasks === null ? 1 : new Set(replicates.filter((_, i) => Number.isFinite(atBest[i])).map((p) => p.task)).size,
        missing_runs: scratchMissing + missing.filter((m) => m.correlation === correlation && m.n === n && m.mode === mode).length,
      });
    }
  }
  return rows;
}
