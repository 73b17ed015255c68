/**
 * The report's charts as vega-lite specs (pure data, no rendering here). Each chart answers one
 * question a reader has, with axis titles and legends written for someone who has not read the
 * code:
 * - accuracy vs depth: where is the best depth, and how much does l = L lose?
 * - heatmap of l*: how does the best depth move with n and the correlation?
 * - similarity per block: where do source and target representations part ways?
 * - CKA block x block: which source block resembles which target block?
 */
import type { TopLevelSpec } from 'vega-lite';
import { allMeasures, reportedValues, reportedValue } from '../measures/registry.js';
import { knownTransferMode } from '../models/transfer-modes/registry.js';
import { meanAccuracyByDepth } from './optimal-depth.js';
import { compareMode, isDepthMode, SCRATCH_MODE } from './results.js';
import { finiteOrNull, mean } from '../statistics.js';
import { gainOf } from './text-table.js';
import { signedPoints } from './verdict.js';
import type { SimilarityRow } from '../tables/similarity-table.js';
import type { ReportTables } from './types.js';

/** A chart of the report: an anchor id, a heading, the question it answers, and its spec. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** One or two sentences under the heading: how to read the chart. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** The font of every chart of the report. */
export const CHART_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

/**
 * Width the charts fill: the page's main column at a 1024 px window (html.ts: 1024 px less the
 * page's and the card's padding), so no chart is scaled down, and its text shrunk, on a laptop.
 */
const PAGE_WIDTH = 900;

/** Width of one panel when `columns` panels (plus axes, legend) share the page width. */
function panelWidth(columns: number): number {
  return Math.max(200, Math.min(520, Math.floor((PAGE_WIDTH - 60) / Math.max(1, columns)) - 70));
}

const CONFIG = {
  font: CHART_FONT,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, grid: true, gridColor: '#eceff3' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, orient: 'right', labelLimit: 0, titleLimit: 0 },
  header: { labelFontSize: 13, labelFontWeight: 600, titleFontSize: 13, labelLimit: 0 },
  view: { stroke: '#d0d5dc' },
  background: 'white',
} as const;

/**
 * An axis with a tick and label at every one of `values` (depths, blocks). vega-lite gives an
 * integer format a minimum tick step of 1, and vega then keeps at most span / step of the given
 * values: with L = 2 the tick at l = 1 went missing. A step of 0.5 keeps them all.
 */
export function integerAxis(values: readonly number[]): { values: number[]; format: string; tickMinStep: number } {
  return { values: [...values], format: 'd', tickMinStep: 0.5 };
}

/** A panel or series of one correlation; an image task has one, the target task. */
export function correlationPanel(c: number | null): string {
  return c === null ? 'target task' : `correlation ρ = ${c}`;
}

/** The source network of this study, in words: imported (`source_model`), or trained by the study on which source task. */
export function sourceNetworkWords(tables: Pick<ReportTables, 'sourceModel' | 'taskKind'>): string {
  if (tables.sourceModel !== null) return `The pre-trained network ${tables.sourceModel} (source_model)`;
  return tables.taskKind === 'synthetic'
    ? 'The source network, trained by this study on the source task of the controlled task model,'
    : 'The source network, trained by this study on the source image classes,';
}

/** Correlations in report order (high to low; null for image tasks). */
function correlationsOf(tables: ReportTables): (number | null)[] {
  const out: (number | null)[] = [];
  for (const r of [...tables.results, ...tables.missing]) if (!out.includes(r.correlation)) out.push(r.correlation);
  return out;
}

function transferModes(tables: ReportTables): string[] {
  return [...new Set([...tables.results, ...tables.missing].map((r) => r.mode))].filter(isDepthMode).sort(compareMode);
}

/** Row header of a transfer mode; the caption explains what each mode does. */
const modeLabel = (mode: string): string => `transfer mode ${mode}`;

/** What each mode shown does, from its definition (lib/models/transfer-modes/): a sentence, or nothing. */
function modeCaptions(modes: readonly string[]): string {
  const known = modes.flatMap((mode) => knownTransferMode(mode) ?? []);
  return sentence(known.map((m) => `mode ${m.name}: ${m.caption}`));
}

/** Clauses joined by semicolons into one capitalised sentence with its full stop and a space; nothing for none. */
function sentence(clauses: readonly string[]): string {
  const text = clauses.join('; ');
  return text === '' ? '' : `${text.charAt(0).toUpperCase()}${text.slice(1)}. `;
}

const SERIES_TRANSFER = 'transfer at depth l (mean ± s.e.)';
const SERIES_SCRATCH = 'from scratch, same n';

export function accuracyVsDepthChart(tables: ReportTables): ChartSpec {
  const L = tables.depth;
  const values: Record<string, string | number | null>[] = [];
  const modes = transferModes(tables);
  const correlations = correlationsOf(tables);
  const ns = [...new Set(tables.results.map((r) => r.n))].sort((a, b) => a - b);
  for (const c of correlations) {
    for (const n of ns) {
      const scratch = tables.results.filter((r) => r.correlation === c && r.n === n && r.mode === SCRATCH_MODE && r.test_accuracy !== null);
      const acc = scratch.map((r) => r.test_accuracy as number);
      const m = finiteOrNull(mean(acc));
      for (const mode of modes) {
        if (m !== null)
          values.push({
            panel: correlationPanel(c),
            mode: modeLabel(mode),
            n,
            series: SERIES_SCRATCH,
            depth: null,
            mean: m,
            lo: null,
            hi: null,
            seeds: acc.length,
          });
        const answer = tables.optimal.find((r) => r.correlation === c && r.n === n && r.mode === mode);
        for (const [depth, stat] of meanAccuracyByDepth(tables.results, c, n, mode)) {
          const se = stat.se ?? 0;
          values.push({
            plausible: answer?.plausible_depths.includes(depth) ? 1 : 0,
            best: answer?.optimal_depth === depth ? 1 : 0,
            panel: correlationPanel(c),
            mode: modeLabel(mode),
            n,
            series: SERIES_TRANSFER,
            depth,
            mean: stat.mean,
            lo: stat.mean - se,
            hi: stat.mean + se,
            seeds: stat.seeds,
          });
        }
      }
    }
  }
  const color = {
    field: 'n',
    type: 'ordinal',
    title: 'Target training samples n',
    scale: { scheme: 'category10' },
  } as const;
  const isTransfer = { field: 'series', equal: SERIES_TRANSFER } as const;
  const x = {
    field: 'depth',
    type: 'quantitative' as const,
    title: `Frozen blocks l (${L} = readout only)`,
    scale: { domain: [0, L], nice: false },
    axis: integerAxis(Array.from({ length: L + 1 }, (_, i) => i)),
  };
  const y = { field: 'mean', type: 'quantitative', title: 'Target test accuracy', scale: { zero: false } } as const;
  const tooltip = [
    { field: 'n', type: 'ordinal', title: 'n' },
    { field: 'depth', type: 'quantitative', title: 'l' },
    { field: 'mean', type: 'quantitative', title: 'mean accuracy', format: '.3f' },
    { field: 'seeds', type: 'quantitative', title: 'seeds' },
  ] as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: {
      // An image task has one target task: no column of panels to tell apart.
      ...(correlations.every((c) => c === null)
        ? {}
        : { column: { field: 'panel', type: 'nominal', title: null, sort: correlations.map(correlationPanel) } }),
      row: { field: 'mode', type: 'nominal', title: null, sort: modes.map(modeLabel) },
    },
    spec: {
      width: panelWidth(correlations.length),
      height: 210,
      layer: [
        {
          // ± one standard error, with end ticks so a bar is visible next to (not under) its point.
          transform: [{ filter: isTransfer }],
          mark: { type: 'errorbar', ticks: { size: 9 }, thickness: 1.5 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'Target test accuracy' }, y2: { field: 'hi' }, color },
        },
        {
          transform: [{ filter: isTransfer }],
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x,
            y,
            color,
            strokeDash: {
              field: 'series',
              type: 'nominal',
              title: 'Line',
              scale: {
                domain: [SERIES_TRANSFER, SERIES_SCRATCH],
                range: [
                  [1, 0],
                  [6, 4],
                ],
              },
              legend: { symbolType: 'stroke', symbolStrokeWidth: 2, labelLimit: 320 },
            },
          },
        },
        // Plausible depths (not significantly worse than l* on selection) are filled, the others
        // hollow; l* itself gets a ring (docs/protocol.md).
        {
          transform: [{ filter: isTransfer }, { filter: 'datum.plausible === 1' }],
          mark: { type: 'point', filled: true, size: 46 },
          encoding: { x, y, color, tooltip: [...tooltip] },
        },
        {
          transform: [{ filter: isTransfer }, { filter: 'datum.plausible !== 1' }],
          mark: { type: 'point', filled: false, size: 40, strokeWidth: 1.5 },
          encoding: { x, y, color, tooltip: [...tooltip] },
        },
        {
          transform: [{ filter: isTransfer }, { filter: 'datum.best === 1' }],
          mark: { type: 'point', filled: false, size: 190, strokeWidth: 1.5 },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: { not: isTransfer } }],
          mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.9 },
          encoding: { y, color, strokeDash: { field: 'series', type: 'nominal' } },
        },
      ],
    },
    resolve: { scale: { y: 'shared' } },
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'bottom', direction: 'horizontal' } },
  };
  return {
    id: 'accuracy-vs-depth',
    title: 'Target accuracy against the number of frozen blocks',
    caption:
      `${correlations.every((c) => c === null) ? 'Each panel is one transfer mode' : 'Each panel is one source-target correlation and transfer mode'}; ` +
      `each colour one target training-set size n. Points are the mean test ` +
      `accuracy over seeds at each transfer depth l, with bars for ± one standard error; the ringed point is l* (best mean ` +
      `selection accuracy), filled points are its plausible set (depths not significantly worse than l* on selection, paired ` +
      `t-test at 95%) and hollow points are significantly worse. The dashed line of the same colour is ` +
      `a network of the same size trained from scratch on the same n samples. l = ${L} is the standard protocol (only the readout trains). ` +
      modeCaptions(modes) +
      `Missing runs are left out (no point), never drawn as zero.`,
    spec,
  };
}

/**
 * The l* colour scale: viridis (neighbouring depths differ in hue and lightness; a single-hue
 * scale made l* = 0 and l* = 1 near twins), reversed so that darker means more blocks frozen —
 * the caption and legend say so, and test/report-browser.test.ts checks the rendered colours
 * against this spec.
 */
export const L_STAR_SCALE = { scheme: 'viridis', reverse: true } as const;

/** Which end of the l* scale is dark, in words (viridis is dark at its start). */
const DARKER = L_STAR_SCALE.reverse ? 'more' : 'fewer';

/** Width in pixels a label of the heatmap needs at a font size (generous: DejaVu Sans is wide). */
const labelWidth = (text: string, fontSize: number, bold = false): number => [...text].length * fontSize * (bold ? 0.68 : 0.62);

export function optimalDepthHeatmap(tables: ReportTables): ChartSpec {
  const L = tables.depth;
  const correlations = correlationsOf(tables);
  const imageTask = correlations.every((c) => c === null);
  const modes = transferModes(tables);
  const values = tables.optimal.map((r) => {
    const gain = gainOf(r.gain_over_full_depth, r.gain_vs_full_low, r.gain_vs_full_high);
    const atL = r.optimal_depth === L;
    return {
      mode: `mode ${r.mode}`,
      n: r.n,
      correlation: r.correlation === null ? 'target task' : `ρ = ${r.correlation}`,
      depth: r.optimal_depth,
      // Four short lines that fit the cell: l*, its plausible set, the gain over l = L and its interval.
      label: r.optimal_depth === null ? 'missing' : `l* = ${r.optimal_depth}${r.missing_runs > 0 ? '*' : ''}`,
      plausible: r.optimal_depth === null ? '' : `{${r.plausible_depths.join(', ')}}`,
      gain:
        r.optimal_depth === null
          ? ''
          : atL
            ? 'standard protocol'
            : gain === null
              ? `l = ${L} not run`
              : `${signedPoints(gain[1])} pts vs l = ${L}`,
      interval: atL || gain === null || gain[0] === null || gain[2] === null ? '' : `[${signedPoints(gain[0])}, ${signedPoints(gain[2])}]`,
      // White text on the darker half of the scale.
      dark: r.optimal_depth !== null && (L_STAR_SCALE.reverse ? r.optimal_depth >= 0.45 * L : r.optimal_depth <= 0.55 * L) ? 1 : 0,
    };
  });
  const step = Math.ceil(
    Math.max(
      110,
      ...values.flatMap((v) => [
        labelWidth(v.label, 15, true),
        labelWidth(v.plausible, 11),
        labelWidth(v.gain, 11),
        labelWidth(v.interval, 11),
      ]),
    ) + 16,
  );
  const x = { field: 'n', type: 'ordinal', title: 'Target training samples n', axis: { labelAngle: 0 } } as const;
  const y = {
    field: 'correlation',
    type: 'ordinal',
    title: imageTask ? null : 'Source-target correlation',
    sort: correlations.map((c) => (c === null ? 'target task' : `ρ = ${c}`)),
  } as const;
  const textColor = { condition: { test: 'datum.dark === 1', value: 'white' }, value: '#1b1f24' } as const;
  const line = (field: string, dy: number, fontSize: number, fontWeight: 'normal' | 'bold' = 'normal') => ({
    mark: { type: 'text' as const, fontSize, fontWeight, dy },
    encoding: { x, y, text: { field }, color: textColor },
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { row: { field: 'mode', type: 'nominal', title: null, sort: modes.map((m) => `mode ${m}`) } },
    config: { ...CONFIG, axis: { ...CONFIG.axis, grid: false } },
    spec: {
      width: { step },
      height: { step: 84 },
      layer: [
        {
          transform: [{ filter: 'datum.depth !== null' }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
          encoding: {
            x,
            y,
            color: {
              field: 'depth',
              type: 'ordinal',
              title: ['Optimal depth l*', '(blocks frozen)', `darker = ${DARKER} frozen`],
              scale: { domain: Array.from({ length: L + 1 }, (_, i) => i), ...L_STAR_SCALE },
            },
          },
        },
        {
          transform: [{ filter: 'datum.depth === null' }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 2, color: '#e4e7eb' },
          encoding: { x, y },
        },
        line('label', -22, 15, 'bold'),
        line('plausible', -4, 11),
        line('gain', 11, 11),
        line('interval', 25, 11),
      ],
    },
  };
  return {
    id: 'optimal-depth',
    title: imageTask ? 'Optimal depth l* by target size' : 'Optimal depth l* by target size and correlation',
    caption:
      `Each cell is the depth l* with the highest mean selection accuracy (ties go to the deeper l), its plausible ` +
      `set in braces (depths not significantly worse on selection, paired t-test at 95%), and its gain in test accuracy over ` +
      `the standard protocol l = ${L} in points with the paired 95% interval. Darker means ${DARKER} blocks frozen: l* = ` +
      `${L_STAR_SCALE.reverse ? `${L} (only the readout trains)` : '0 (every block trained)'} is the darkest, l* = ` +
      `${L_STAR_SCALE.reverse ? '0 (every block trained)' : `${L} (only the readout trains)`} the lightest. Grey cells have no result; * marks a cell with ` +
      `missing runs.`,
    spec,
  };
}

/** A value's chart label, from its measure (lib/measures/registry.ts); a value no measure reports keeps its name. */
export function measureLabel(measure: string): string {
  return reportedValue(measure)?.label ?? measure.replaceAll('_', ' ');
}

/** Per-block rows: the same block of both networks (block_a = block_b). */
function perBlock(rows: readonly SimilarityRow[]): SimilarityRow[] {
  return rows.filter((r) => r.block_a === r.block_b && r.value !== null);
}

export function similarityPerBlockChart(tables: ReportTables): ChartSpec | null {
  const rows = perBlock(tables.similarity);
  if (rows.length === 0) return null;
  const measures = [...new Set(rows.map((r) => r.measure))];
  // Registry order; values no measure reports (an older table) last, by name.
  const order = reportedValues().map((v) => v.name);
  const rank = (m: string): number => (order.includes(m) ? order.indexOf(m) : order.length);
  measures.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  const correlations: (number | null)[] = [];
  for (const r of rows) if (!correlations.includes(r.correlation)) correlations.push(r.correlation);
  correlations.sort((a, b) => (a === null ? 1 : b === null ? -1 : b - a));
  const imageTask = correlations.every((c) => c === null);
  const blocks = [...new Set(rows.map((r) => r.block_a))].sort((a, b) => a - b);
  const values = rows.map((r) => ({
    measure: measureLabel(r.measure),
    block: r.block_a,
    correlation: correlationPanel(r.correlation),
    value: r.value,
  }));
  const encoding = {
    x: {
      field: 'block',
      type: 'quantitative' as const,
      title: 'Hidden block',
      scale: { domain: [blocks[0], blocks[blocks.length - 1]], nice: false },
      axis: integerAxis(blocks),
    },
    y: { field: 'value', type: 'quantitative' as const, title: 'Value', scale: { zero: false } },
    color: {
      field: 'correlation',
      type: 'ordinal' as const,
      title: 'Source-target correlation',
      sort: correlations.map(correlationPanel),
      scale: { scheme: 'dark2' },
      // An image task has one target task: nothing for a legend to tell apart.
      ...(imageTask ? { legend: null } : {}),
    },
  };
  // One panel per measure that has values (no empty panels), named by its y axis (a panel title
  // as well widened the grid past the page).
  const columns = Math.min(3, measures.length);
  const panel = (measure: string) => {
    const label = measureLabel(measure);
    const y = { ...encoding.y, title: label };
    return {
      transform: [{ filter: { field: 'measure', equal: label } }],
      width: panelWidth(columns),
      height: 170,
      layer: [
        { mark: { type: 'line' as const, strokeWidth: 2 }, encoding: { ...encoding, y } },
        {
          mark: { type: 'point' as const, filled: true, size: 45 },
          encoding: {
            ...encoding,
            y,
            tooltip: [{ field: 'value', type: 'quantitative' as const, format: '.3f' }, { field: 'block' }, { field: 'correlation' }],
          },
        },
      ],
    };
  };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    concat: measures.map(panel),
    columns,
    resolve: { scale: { y: 'independent' } },
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'top', direction: 'horizontal' } },
  };
  return {
    id: 'similarity-per-block',
    title: 'How alike are the source network and a target network, block by block',
    caption:
      `${sourceNetworkWords(tables)} against a network trained from scratch on plenty of target data. Each panel is one measure ` +
      `computed on the same target probe inputs at the output of each hidden block (the same block of both networks)${imageTask ? '' : '; each colour one correlation'}. ${readings(measures)}` +
      'Representations that stay alike up to block l suggest those blocks can be frozen.',
    spec,
  };
}

/** How to read the measures of these values, one clause each (the measures' own `reading`): a sentence, or nothing. */
function readings(values: readonly string[]): string {
  const shown = new Set(values.map((v) => reportedValue(v)?.measure));
  return sentence(
    allMeasures()
      .filter((m) => shown.has(m.name))
      .map((m) => m.reading),
  );
}

export function ckaMatrixChart(tables: ReportTables): ChartSpec | null {
  const rows = tables.similarity.filter((r) => r.measure === 'cka' && r.value !== null);
  if (rows.length === 0) return null;
  const correlations: (number | null)[] = [];
  for (const r of rows) if (!correlations.includes(r.correlation)) correlations.push(r.correlation);
  correlations.sort((a, b) => (a === null ? 1 : b === null ? -1 : b - a));
  const blocks = new Set(rows.flatMap((r) => [r.block_a, r.block_b])).size;
  const values = rows.map((r) => ({
    correlation: correlationPanel(r.correlation),
    source: r.block_a,
    target: r.block_b,
    value: r.value,
    dark: (r.value as number) > 0.6 ? 0 : 1,
  }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { ...CONFIG, axis: { ...CONFIG.axis, grid: false } },
    data: { values },
    facet: { column: { field: 'correlation', type: 'nominal', title: null, sort: correlations.map(correlationPanel) } },
    spec: {
      // Fixed size, at least wide enough for the panel title and axis title with few blocks.
      width: Math.max(190, 46 * blocks),
      height: Math.max(190, 46 * blocks),
      encoding: {
        x: { field: 'target', type: 'ordinal', title: 'Block of the target network', axis: { labelAngle: 0 } },
        y: { field: 'source', type: 'ordinal', title: 'Block of the source network', sort: 'descending' },
      },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
          encoding: {
            color: { field: 'value', type: 'quantitative', title: 'Linear CKA', scale: { domain: [0, 1], scheme: 'viridis' } },
            tooltip: [{ field: 'value', type: 'quantitative', format: '.3f', title: 'CKA' }, { field: 'source' }, { field: 'target' }],
          },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            text: { field: 'value', type: 'quantitative', format: '.2f' },
            color: { condition: { test: 'datum.dark === 1', value: 'white' }, value: '#1b1f24' },
          },
        },
      ],
    },
  };
  return {
    id: 'cka-matrix',
    title: 'Linear CKA between every block of the source and of the target network',
    caption:
      'Cell (source block i, target block j): linear CKA between their representations of the same target probe inputs (1 = identical up ' +
      'to rotation and scale). A bright diagonal that fades with depth shows where the two networks stop sharing features.',
    spec,
  };
}

export function reportCharts(tables: ReportTables): ChartSpec[] {
  const charts: (ChartSpec | null)[] = [
    tables.optimal.length > 0 ? optimalDepthHeatmap(tables) : null,
    tables.results.length > 0 ? accuracyVsDepthChart(tables) : null,
    similarityPerBlockChart(tables),
    ckaMatrixChart(tables),
  ];
  return charts.filter((c): c is ChartSpec => c !== null);
}
