/**
 * The text answer `defrost run` ends with and `defrost report` re-prints
 * (docs/report.md#terminal-output-100-columns), within 100 columns: first one sentence per cell (verdict.ts:
 * what to freeze, what it gains over fine-tuning everything and over freezing every block, and
 * whether the data can tell them apart), then l* and its plausible set at a glance, one grid per
 * mode (correlation rows, n columns). The wide table with every number in each cell
 * (`l*=2 {1,2,3} 84.2% +7.1 [+5.0, +9.0]`) is `defrost report --wide`'s. A cell with missing
 * runs is marked `*`; one with no result reads `missing`.
 */
import { columnsOf, TERMINAL_WIDTH, wrapWords } from '../../../pipeline/terminal-width.js';
import { knownTransferMode } from '../models/transfer-modes/registry.js';
import { compareMode } from './results.js';
import type { OptimalDepthRow } from '../tables/report-tables.js';
import { formatGainPoints, intervalsNote, verdictSentence, type Gain } from './verdict.js';

/** A gain of a row as `[low, mean, high]`, or null when it has no mean. */
export function gainOf(mean: number | null, low: number | null, high: number | null): Gain | null {
  return mean === null ? null : [low, mean, high];
}

/** The sentence of one cell (verdict.ts), or null when the cell has no result. */
export function rowVerdict(row: OptimalDepthRow, blocks: number): string | null {
  if (row.optimal_depth === null) return null;
  return verdictSentence({
    mode: row.mode,
    lStar: row.optimal_depth,
    blocks,
    plausible: row.plausible_depths,
    vsFreezeAll: gainOf(row.gain_over_full_depth, row.gain_vs_full_low, row.gain_vs_full_high),
    vsFineTuneAll: gainOf(row.gain_over_zero_depth, row.gain_vs_zero_low, row.gain_vs_zero_high),
    vsScratch: gainOf(row.gain_over_scratch, row.gain_vs_scratch_low, row.gain_vs_scratch_high),
    replicates: row.seeds,
    unit: 'seed',
  });
}

/** `ρ=0.95` for a row label; image tasks have no correlation. */
export function correlationLabel(c: number | null): string {
  return c === null ? '' : `ρ=${c}`;
}

/** `ρ=0.95, n=100` (or `n=100` for an image task): where a cell sits. */
export function cellLabel(row: Pick<OptimalDepthRow, 'correlation' | 'n'>): string {
  return row.correlation === null ? `n=${row.n}` : `${correlationLabel(row.correlation)}, n=${row.n}`;
}

/** The mode's heading: `mode defrost (copy every block, freeze blocks 1..l, fine-tune the rest)`. */
export function modeHeading(mode: string): string {
  const caption = knownTransferMode(mode)?.caption;
  return `mode ${mode}${caption === undefined ? '' : ` (${caption})`}`;
}

/** Seeds behind the answer: the most seeds any cell has at l*. */
function seedsOf(rows: readonly OptimalDepthRow[]): number {
  return Math.max(0, ...rows.map((r) => r.seeds));
}

/** `l*=2 {1,2,3} 84.2% +7.1 [+5.0, +9.0]`: one cell of the wide table; the gain is over l = L. */
export function formatCell(row: OptimalDepthRow | undefined, blocks: number): string {
  if (row === undefined || row.optimal_depth === null || row.optimal_accuracy === null) return 'missing';
  const mark = row.missing_runs > 0 ? '*' : '';
  const gain = gainOf(row.gain_over_full_depth, row.gain_vs_full_low, row.gain_vs_full_high);
  const versus = row.optimal_depth === blocks ? `(l=${blocks} itself)` : gain === null ? '(l=L not run)' : formatGainPoints(gain);
  return `l*=${row.optimal_depth}${mark} {${row.plausible_depths.join(',')}} ${(100 * row.optimal_accuracy).toFixed(1)}% ${versus}`;
}

/** `1 {0,1}` (or `1* {0,1}` with missing runs): l* and its plausible set in the glance grid. */
function glanceCell(row: OptimalDepthRow | undefined, withSet: boolean): string {
  if (row === undefined || row.optimal_depth === null) return 'missing';
  const mark = row.missing_runs > 0 ? '*' : '';
  return `${row.optimal_depth}${mark}${withSet ? ` {${row.plausible_depths.join(',')}}` : ''}`;
}

function correlationsOf(rows: readonly OptimalDepthRow[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (const r of rows) if (!out.includes(r.correlation)) out.push(r.correlation);
  return out;
}

/** Rows of cells padded into aligned columns (two spaces between), trailing spaces trimmed. */
function alignColumns(lines: readonly string[][]): string[] {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((line) => columnsOf(line[i]))));
  return lines.map((cells) => `  ${cells.map((cell, i) => cell + ' '.repeat(widths[i] - columnsOf(cell))).join('  ')}`.trimEnd());
}

/** One grid per mode (correlation rows, n columns, a cell per (correlation, n)), their columns aligned across modes. */
function grids(rows: readonly OptimalDepthRow[], cell: (row: OptimalDepthRow | undefined) => string): string[][] {
  const modes = [...new Set(rows.map((r) => r.mode))].sort(compareMode);
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const correlations = correlationsOf(rows);
  const lines = alignColumns(
    modes.flatMap((mode) => [
      [`mode ${mode}`, ...ns.map((n) => `n=${n}`)],
      ...correlations.map((c) => [
        c === null ? 'l* {plausible}' : correlationLabel(c),
        ...ns.map((n) => cell(rows.find((r) => r.mode === mode && r.correlation === c && r.n === n))),
      ]),
    ]),
  );
  const height = correlations.length + 1;
  return modes.map((_, i) => lines.slice(i * height, (i + 1) * height));
}

/** The lines that say how to read the answer, and the one-seed warning when it applies. */
function preamble(rows: readonly OptimalDepthRow[], blocks: number): string[] {
  const seeds = seedsOf(rows);
  const lines = wrapWords(
    `Optimal transfer depth l*: how many of the ${blocks} hidden blocks to keep frozen (l = ${blocks}: only the readout ` +
      `trains), chosen on selection accuracy over ${seeds} run${seeds === 1 ? '' : 's'}; gains are on test, in accuracy ` +
      'points with paired 95% intervals.',
  );
  const note = intervalsNote('seed', seeds);
  if (note !== null)
    lines.push(...wrapWords(`Warning: ${note}; the gains below are single estimates. Set \`seeds\` to 2 or more values for intervals.`));
  return lines;
}

/** The default answer: a sentence per cell, then l* at a glance; every line within 100 columns. */
export function formatOptimalDepthTable(rows: readonly OptimalDepthRow[], blocks: number): string {
  if (rows.length === 0) return 'No scratch or transfer results yet: nothing to report.\n';
  const lines = preamble(rows, blocks);
  const modes = [...new Set(rows.map((r) => r.mode))].sort(compareMode);
  for (const mode of modes) {
    lines.push('', `${modeHeading(mode)}:`);
    for (const row of rows.filter((r) => r.mode === mode)) {
      const sentence = rowVerdict(row, blocks) ?? 'missing: no run of this cell has a result.';
      const mark = row.missing_runs > 0 ? ` (${row.missing_runs} runs missing)` : '';
      lines.push(...wrapWords(`${cellLabel(row)}${mark}: ${sentence}`, '  ', '      '));
    }
  }
  // The glance grids, with plausible sets when they fit; l* alone otherwise.
  const withSets = grids(rows, (row) => glanceCell(row, true));
  const fits = withSets.flat().every((line) => columnsOf(line) <= TERMINAL_WIDTH);
  const glance = fits ? withSets : grids(rows, (row) => glanceCell(row, false));
  const legend = [fits ? 'plausible set in braces' : '', rows.some((r) => r.missing_runs > 0) ? '* some runs missing' : ''].filter(Boolean);
  lines.push('', `l* at a glance${legend.length === 0 ? '' : ` (${legend.join('; ')})`}:`);
  for (const grid of glance) lines.push(...grid);
  lines.push('Every number of every cell: `defrost report --wide`, and the report below.');
  return `${lines.join('\n')}\n`;
}

/** The wide table of `defrost report --wide`: every number of a cell in one grid cell (may exceed 100 columns). */
export function formatWideTable(rows: readonly OptimalDepthRow[], blocks: number): string {
  if (rows.length === 0) return 'No scratch or transfer results yet: nothing to report.\n';
  const lines = [
    ...preamble(rows, blocks),
    `Cell: l*, {plausible set}, test accuracy at l*, gain over l=${blocks} in points [paired 95% interval].` +
      `${rows.some((r) => r.missing_runs > 0) ? '  * some runs missing.' : ''}`,
  ];
  for (const grid of grids(rows, (row) => formatCell(row, blocks))) lines.push('', ...grid);
  return `${lines.join('\n')}\n`;
}
