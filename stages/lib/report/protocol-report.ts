/**
 * How the protocols table (`protocol-table.ts`) reads: the answer in text, within 100 columns
 * (the terminal answer ends with it), and the report's chart of each protocol's best test
 * accuracy per cell (docs/science.md#beyond-freezing-a-prefix). Pure.
 */
import type { TopLevelSpec } from 'vega-lite';
import { TERMINAL_WIDTH } from '../../../pipeline/terminal-width.js';
import { DEFAULT_TRANSFER_MODE } from '../models/transfer-modes/registry.js';
import { CHART_FONT, correlationPanel, type ChartSpec } from './charts.js';
import { pairLabel } from './protocol-choice.js';
import { cellsBeatingBestPrefix, gainInterval, type ProtocolRow } from './protocol-table.js';
import { formatGainPoints } from './verdict.js';

/** The cell's name in text: `ρ=0.95 n=100` (`n=100` for an image task). */
const cellName = (r: Pick<ProtocolRow, 'correlation' | 'n'>): string => `${r.correlation === null ? '' : `ρ=${r.correlation} `}n=${r.n}`;

/** `+4.1 [+2.0, +6.2]`, or `n/a` without the reference run. */
const gainText = (low: number | null, mean: number | null, high: number | null): string => {
  const gain = gainInterval(low, mean, high);
  return gain === null ? 'n/a' : formatGainPoints(gain);
};

/** The cells of the table, in its order. */
function cells(rows: readonly ProtocolRow[]): ProtocolRow[][] {
  const out = new Map<string, ProtocolRow[]>();
  for (const r of rows) out.set(cellName(r), [...(out.get(cellName(r)) ?? []), r]);
  return [...out.values()];
}

/**
 * The answer per cell in text: the best (protocol, setting) pair with its test accuracy and its
 * gains over l = L and over the best prefix depth l* (accuracy points, paired 95% intervals), its
 * plausible set, and how many cells some protocol beats l* in beyond the interval.
 */
export function protocolAnswerText(rows: readonly ProtocolRow[]): string {
  if (rows.length === 0) return '';
  const lines = [
    'Which protocol, and at which setting? Best pair on selection; test accuracy and gains in points',
    '(paired 95% intervals) over freezing every block (l = L) and over the best prefix depth l*:',
  ];
  for (const cell of cells(rows)) {
    const best = cell.find((r) => r.best === 1) ?? cell[0];
    const prefix = cell.find((r) => r.mode === DEFAULT_TRANSFER_MODE);
    lines.push(
      `  ${cellName(best).padEnd(13)} ${pairLabel(best).padEnd(16)} ${best.test_accuracy.toFixed(3)}  ` +
        `vs l=L ${gainText(best.gain_vs_full_low, best.gain_vs_full, best.gain_vs_full_high)}  ` +
        `vs l*${prefix === undefined ? '' : `=${prefix.setting}`} ${gainText(best.gain_vs_best_prefix_low, best.gain_vs_best_prefix, best.gain_vs_best_prefix_high)}`,
    );
    const plausible = cell.flatMap((r) =>
      r.plausible_settings === '' ? [] : r.plausible_settings.split(',').map((s) => `${r.mode} ${r.symbol}=${s}`),
    );
    let line = '    plausible:';
    for (const pair of plausible) {
      if (line.length + pair.length + 2 > TERMINAL_WIDTH) {
        lines.push(`${line},`);
        line = '     ';
      }
      line = line.endsWith(':') || line.trim() === '' ? `${line} ${pair}` : `${line}, ${pair}`;
    }
    lines.push(line);
  }
  const beating = cellsBeatingBestPrefix(rows);
  lines.push(
    `Some protocol beats the best prefix depth l* on test beyond its 95% interval in ${beating.length} of ${cells(rows).length} cells` +
      (beating.length === 0 ? '.' : ':'),
  );
  for (const cell of beating) lines.push(`  ${cellName(cell)}: ${cell.pairs.join(', ')}`);
  return lines.join('\n');
}

/** The chart: per cell, the best test accuracy of each protocol (mean, 95% interval), the cell's best pair ringed. */
export function protocolChart(rows: readonly ProtocolRow[]): ChartSpec {
  const correlations = [...new Set(rows.map((r) => r.correlation))];
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const modes = [...new Set(rows.map((r) => r.mode))];
  const values = rows.map((r) => ({
    panel: correlationPanel(r.correlation),
    n: `n = ${r.n}`,
    mode: r.mode,
    pair: pairLabel(r),
    mean: r.test_accuracy,
    lo: r.test_low ?? r.test_accuracy,
    hi: r.test_high ?? r.test_accuracy,
    best: r.best,
  }));
  const x = { field: 'mode', type: 'nominal', title: null, sort: modes, axis: { labelAngle: -40 } } as const;
  const y = { field: 'mean', type: 'quantitative', title: 'Test accuracy of the best setting', scale: { zero: false } } as const;
  const color = { field: 'mode', type: 'nominal', title: 'Protocol', sort: modes, scale: { scheme: 'tableau10' } } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: {
      column: { field: 'n', type: 'ordinal', title: null, sort: ns.map((n) => `n = ${n}`) },
      ...(correlations.every((c) => c === null)
        ? {}
        : { row: { field: 'panel', type: 'nominal', title: null, sort: correlations.map(correlationPanel) } }),
    },
    spec: {
      width: Math.max(120, Math.floor(760 / Math.max(1, ns.length)) - 40),
      height: 150,
      layer: [
        {
          mark: { type: 'errorbar', ticks: { size: 6 } },
          encoding: { x, y: { field: 'lo', type: 'quantitative', title: y.title }, y2: { field: 'hi' }, color },
        },
        {
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            x,
            y,
            color,
            tooltip: [
              { field: 'pair', type: 'nominal', title: 'best setting' },
              { field: 'mean', type: 'quantitative', title: 'test accuracy', format: '.3f' },
            ],
          },
        },
        {
          transform: [{ filter: 'datum.best === 1' }],
          mark: { type: 'point', filled: false, size: 220, strokeWidth: 1.5, color: 'black' },
          encoding: { x, y },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
    config: {
      font: CHART_FONT,
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eceff3' },
      header: { labelFontSize: 13, labelFontWeight: 600 },
      legend: { orient: 'bottom', direction: 'horizontal' },
      background: 'white',
    },
  };
  return {
    id: 'protocols',
    title: 'Which protocol, and at which setting?',
    caption:
      'Each panel is one cell (target training-set size n, and the source-target correlation); each point the test accuracy of one ' +
      'protocol at its own best setting (chosen on the selection split), with its 95% interval over the units of replication. The ringed point ' +
      'is the best (protocol, setting) pair of the cell. Each panel has its own accuracy scale.',
    spec,
  };
}
