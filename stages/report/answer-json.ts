/**
 * The answer as `defrost report --json` prints it (docs/protocol.md): one object per cell
 * (correlation, n, mode) with l*, its plausible set, the mean test accuracy at l*, the gains
 * over l = L, over l = 0 and over scratch as `[low, mean, high]` (paired 95% intervals; null
 * bounds with a single seed) and the cell's sentence (`verdict`, docs/report.md).
 */
import { rowVerdict } from '../lib/report/text-table.js';
import type { OptimalDepthRow } from '../lib/tables/report-tables.js';

export interface AnswerCell {
  readonly correlation: number | null;
  readonly n: number;
  readonly mode: string;
  readonly l_star: number | null;
  readonly plausible: number[];
  readonly test_accuracy: number | null;
  readonly gain_vs_full: [number | null, number | null, number | null];
  readonly gain_vs_zero: [number | null, number | null, number | null];
  readonly gain_vs_scratch: [number | null, number | null, number | null];
  readonly verdict: string | null;
}

export function answerCells(rows: readonly OptimalDepthRow[], blocks: number): { cells: AnswerCell[] } {
  return {
    cells: rows.map((r) => ({
      correlation: r.correlation,
      n: r.n,
      mode: r.mode,
      l_star: r.optimal_depth,
      plausible: [...r.plausible_depths],
      test_accuracy: r.optimal_accuracy,
      gain_vs_full: [r.gain_vs_full_low, r.gain_over_full_depth, r.gain_vs_full_high],
      gain_vs_zero: [r.gain_vs_zero_low, r.gain_over_zero_depth, r.gain_vs_zero_high],
      gain_vs_scratch: [r.gain_vs_scratch_low, r.gain_over_scratch, r.gain_vs_scratch_high],
      verdict: rowVerdict(r, blocks),
    })),
  };
}
