/**
 * The compact text answer `defrost run` ends with and `defrost report` re-prints: per transfer
 * mode, a grid of l* over correlation (rows) and n (columns). Each cell reads
 * `l*=2 {1,2,3} 0.842 +0.07 [+0.05,+0.09]`: l* (chosen on validation), its plausible set, mean
 * test accuracy at l*, and the gain over l = L on test with its paired 95% interval
 * (docs/protocol.md). A cell with missing runs is marked `*`; one with no result reads `missing`.
 */
import { compareMode } from './results.js';
import type { OptimalDepthRow } from './types.js';

function signed(value: number | null, digits = 3): string {
  if (value === null) return '?';
  const text = value.toFixed(digits);
  // A negative value that rounds to zero keeps its sign: an interval bound of "-0.00" does not exclude 0.
  return value >= 0 ? `+${text}` : text;
}

/** A gain with its interval: `+0.07 [+0.05,+0.09]`; `[?]` when the interval is unknown (one seed). */
export function formatGain(mean: number | null, low: number | null, high: number | null, digits = 2): string {
  const bounds = low === null || high === null ? '[?]' : `[${signed(low, digits)},${signed(high, digits)}]`;
  return `${signed(mean, digits)} ${bounds}`;
}

/** One grid cell; also what tests parse back (`l*=D {SET} ACC GAIN [LOW,HIGH]`). */
export function formatCell(row: OptimalDepthRow | undefined): string {
  if (row === undefined || row.optimal_depth === null || row.optimal_accuracy === null) return 'missing';
  const mark = row.missing_runs > 0 ? '*' : '';
  return (
    `l*=${row.optimal_depth}${mark} {${row.plausible_depths.join(',')}} ${row.optimal_accuracy.toFixed(3)} ` +
    formatGain(row.gain_over_full_depth, row.gain_vs_full_low, row.gain_vs_full_high)
  );
}

export function correlationLabel(c: number | null): string {
  return c === null ? '(image task)' : String(c);
}

export function formatOptimalDepthTable(rows: readonly OptimalDepthRow[], fullDepth: number): string {
  if (rows.length === 0) return 'No scratch or transfer results yet: nothing to report.\n';
  const lines: string[] = [
    `Optimal transfer depth l* (leading blocks frozen, 0..${fullDepth}; l=${fullDepth} trains only the readout), by mean validation accuracy over seeds.`,
    `Cell: l*, {plausible set: depths not significantly worse on validation}, test accuracy at l*, gain over l=${fullDepth} on test [paired 95% interval].` +
      `${rows.some((r) => r.missing_runs > 0) ? '  * some runs missing.' : ''}`,
  ];
  const modes = [...new Set(rows.map((r) => r.mode))].sort(compareMode);
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const correlations: (number | null)[] = [];
  for (const r of rows) if (!correlations.includes(r.correlation)) correlations.push(r.correlation);
  for (const mode of modes) {
    const header = ['correlation', ...ns.map((n) => `n=${n}`)];
    const body = correlations.map((c) => [
      correlationLabel(c),
      ...ns.map((n) => formatCell(rows.find((r) => r.mode === mode && r.correlation === c && r.n === n))),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i].length)));
    const pad = (cells: string[]): string => `  ${cells.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd();
    lines.push('', `mode ${mode}:`, pad(header), ...body.map(pad));
  }
  return `${lines.join('\n')}\n`;
}
