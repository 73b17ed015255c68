/**
 * The answer of the study: for each (correlation, n, transfer mode), the transfer depth l* with
 * the highest mean test accuracy over seeds, and what it gains over the standard protocol
 * (l = L, only the readout trains) and over training from scratch.
 *
 * Rules (documented in docs/report.md and the report):
 * - each depth's accuracy is the mean over the seeds that have a result; missing runs are left
 *   out of the mean (never counted as zero) and counted in `missing_runs`;
 * - ties (equal means) go to the deeper l: it freezes more and trains less, so it is the
 *   cheaper of two equally good protocols;
 * - standard errors use the sample standard deviation (n - 1) / sqrt(seeds), null for one seed.
 */
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

/** Mean accuracy per depth for one (correlation, n, mode); depths without any result are absent. */
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
    const scratchAcc = accuracies(results, (r) => r.correlation === correlation && r.n === n && r.mode === SCRATCH_MODE);
    const scratch = mean(scratchAcc);
    const scratchMissing = missing.filter((m) => m.correlation === correlation && m.n === n && m.mode === SCRATCH_MODE).length;
    for (const mode of sortedModes) {
      const byDepth = meanAccuracyByDepth(results, correlation, n, mode);
      let best: number | null = null;
      for (const [depth, stat] of byDepth) {
        const current = best === null ? undefined : byDepth.get(best);
        // `>=` with depths ascending: a tie moves l* to the deeper depth.
        if (current === undefined || stat.mean >= current.mean) best = depth;
      }
      const opt = best === null ? undefined : byDepth.get(best);
      const full = byDepth.get(fullDepth);
      const optimalAccuracy = opt?.mean ?? null;
      rows.push({
        correlation,
        n,
        mode,
        optimal_depth: best,
        optimal_accuracy: optimalAccuracy,
        optimal_accuracy_se: opt?.se ?? null,
        full_depth_accuracy: full?.mean ?? null,
        full_depth_accuracy_se: full?.se ?? null,
        scratch_accuracy: scratch,
        scratch_accuracy_se: standardError(scratchAcc),
        gain_over_full_depth: optimalAccuracy !== null && full !== undefined ? optimalAccuracy - full.mean : null,
        gain_over_scratch: optimalAccuracy !== null && scratch !== null ? optimalAccuracy - scratch : null,
        seeds: opt?.seeds ?? 0,
        missing_runs: scratchMissing + missing.filter((m) => m.correlation === correlation && m.n === n && m.mode === mode).length,
      });
    }
  }
  return rows;
}
