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
import { meanAccuracyByDepth } from './optimal-depth.js';
import { compareMode, SCRATCH_MODE } from './results.js';
import { mean } from './stats.js';
import { formatGain } from './text-table.js';
import type { ReportTables, SimilarityRow } from './types.js';

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

/** Width of the main column of the page (html.ts: 1180 px less padding), which charts fill. */
const PAGE_WIDTH = 1100;

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

export function correlationPanel(c: number | null): string {
  return c === null ? 'image task' : `correlation ρ = ${c}`;
}

/** Correlations in report order (high to low; null for image tasks). */
function correlationsOf(tables: ReportTables): (number | null)[] {
  const out: (number | null)[] = [];
  for (const r of [...tables.results, ...tables.missing]) if (!out.includes(r.correlation)) out.push(r.correlation);
  return out;
}

function transferModes(tables: ReportTables): string[] {
  return [...new Set([...tables.results, ...tables.missing].map((r) => r.mode))].filter((m) => m !== SCRATCH_MODE).sort(compareMode);
}

/** Row header of a transfer mode; the caption explains what each mode does. */
const modeLabel = (mode: string): string => `transfer mode ${mode}`;

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
      const m = mean(acc);
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
    axis: { tickMinStep: 1, format: 'd', values: Array.from({ length: L + 1 }, (_, i) => i) },
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
      column: { field: 'panel', type: 'nominal', title: null, sort: correlations.map(correlationPanel) },
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
        // Plausible depths (not significantly worse than l* on validation) are filled, the others
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
      `Each panel is one source-target correlation; each colour one target training-set size n. Points are the mean test ` +
      `accuracy over seeds at each transfer depth l, with bars for ± one standard error; the ringed point is l* (best mean ` +
      `validation accuracy), filled points are its plausible set (depths not significantly worse than l* on validation, paired ` +
      `t-test at 95%) and hollow points are significantly worse. The dashed line of the same colour is ` +
      `a network of the same size trained from scratch on the same n samples. l = ${L} is the standard protocol (only the readout trains). ` +
      `Mode defrost fine-tunes blocks l+1..L starting from the source weights; mode reinit re-initialises them. ` +
      `Missing runs are left out (no point), never drawn as zero.`,
    spec,
  };
}

export function optimalDepthHeatmap(tables: ReportTables): ChartSpec {
  const L = tables.depth;
  const correlations = correlationsOf(tables);
  const modes = transferModes(tables);
  const values = tables.optimal.map((r) => ({
    mode: `mode ${r.mode}`,
    n: r.n,
    correlation: correlationPanel(r.correlation),
    depth: r.optimal_depth,
    label:
      r.optimal_depth === null ? 'missing' : `l* = ${r.optimal_depth}${r.missing_runs > 0 ? '*' : ''} {${r.plausible_depths.join(',')}}`,
    gain: r.gain_over_full_depth === null ? '' : `${formatGain(r.gain_over_full_depth, r.gain_vs_full_low, r.gain_vs_full_high)} vs l=${L}`,
    accuracy: r.optimal_accuracy,
    missing: r.missing_runs,
    // viridis runs from dark (l = 0) to light (l = L): white text on the darker half.
    dark: r.optimal_depth !== null && r.optimal_depth < 0.6 * L ? 1 : 0,
  }));
  const x = { field: 'n', type: 'ordinal', title: 'Target training samples n', axis: { labelAngle: 0 } } as const;
  const y = {
    field: 'correlation',
    type: 'ordinal',
    title: 'Source-target correlation',
    sort: correlations.map(correlationPanel),
  } as const;
  const textColor = { condition: { test: 'datum.dark === 1', value: 'white' }, value: '#1b1f24' } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { column: { field: 'mode', type: 'nominal', title: null, sort: modes.map((m) => `mode ${m}`) } },
    config: { ...CONFIG, axis: { ...CONFIG.axis, grid: false } },
    spec: {
      width: { step: 150 },
      height: { step: 62 },
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
              title: ['Optimal depth l*', '(blocks frozen)'],
              // viridis: neighbouring depths differ in hue and lightness (a single-hue scale made
              // l* = 0 and l* = 1 near twins).
              scale: { domain: Array.from({ length: L + 1 }, (_, i) => i), scheme: 'viridis' },
            },
            tooltip: [
              { field: 'label', title: 'l*' },
              { field: 'accuracy', type: 'quantitative', title: 'accuracy at l*', format: '.3f' },
              { field: 'gain', title: 'gain' },
              { field: 'missing', type: 'quantitative', title: 'missing runs' },
            ],
          },
        },
        {
          transform: [{ filter: 'datum.depth === null' }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 2, color: '#e4e7eb' },
          encoding: { x, y },
        },
        {
          mark: { type: 'text', fontSize: 15, fontWeight: 700, dy: -8 },
          encoding: { x, y, text: { field: 'label' }, color: textColor },
        },
        {
          mark: { type: 'text', fontSize: 11, dy: 11 },
          encoding: { x, y, text: { field: 'gain' }, color: textColor },
        },
      ],
    },
  };
  return {
    id: 'optimal-depth',
    title: 'Optimal depth l* by target size and correlation',
    caption:
      `Each cell is the depth l* with the highest mean validation accuracy over seeds (ties go to the deeper l), its plausible ` +
      `set in braces (depths not significantly worse on validation, paired t-test at 95%), and its gain in test accuracy over ` +
      `the standard protocol l = ${L} with the paired 95% interval. Darker means more blocks frozen. Grey cells have no ` +
      `result; * marks a cell with missing runs.`,
    spec,
  };
}

const MEASURE_LABELS: Record<string, string> = {
  cka: 'Linear CKA (1 = same)',
  rbf_cka: 'RBF-kernel CKA (1 = same)',
  neighbour_overlap: 'Neighbour overlap (1 = same)',
  information_imbalance: 'Information imbalance (0 = predictive)',
  information_imbalance_a_to_b: 'Info. imbalance source→target',
  information_imbalance_b_to_a: 'Info. imbalance target→source',
  intrinsic_dimension: 'Intrinsic dimension',
  intrinsic_dimension_a: 'Intrinsic dimension, source net',
  intrinsic_dimension_b: 'Intrinsic dimension, target net',
};

export function measureLabel(measure: string): string {
  return MEASURE_LABELS[measure] ?? measure.replaceAll('_', ' ');
}

/** Per-block rows: the same block of both networks (block_a = block_b). */
function perBlock(rows: readonly SimilarityRow[]): SimilarityRow[] {
  return rows.filter((r) => r.block_a === r.block_b && r.value !== null);
}

export function similarityPerBlockChart(tables: ReportTables): ChartSpec | null {
  const rows = perBlock(tables.similarity);
  if (rows.length === 0) return null;
  const measures = [...new Set(rows.map((r) => r.measure))];
  const order = Object.keys(MEASURE_LABELS);
  measures.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || (a < b ? -1 : 1));
  const correlations: (number | null)[] = [];
  for (const r of rows) if (!correlations.includes(r.correlation)) correlations.push(r.correlation);
  correlations.sort((a, b) => (a === null ? 1 : b === null ? -1 : b - a));
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
      title: 'Hidden block (same block of both networks)',
      scale: { domain: [blocks[0], blocks[blocks.length - 1]], nice: false },
      axis: { values: blocks, format: 'd' },
    },
    y: { field: 'value', type: 'quantitative' as const, title: 'Value', scale: { zero: false } },
    color: {
      field: 'correlation',
      type: 'ordinal' as const,
      title: 'Source-target correlation',
      sort: correlations.map(correlationPanel),
      scale: { scheme: 'dark2' },
    },
  };
  // One panel per measure that has values (no empty panels), each with its own named y axis.
  const columns = Math.min(3, measures.length);
  const panel = (measure: string) => {
    const label = measureLabel(measure);
    const y = { ...encoding.y, title: label };
    return {
      transform: [{ filter: { field: 'measure', equal: label } }],
      title: label,
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
      'The source network (trained from scratch on the source task, or a pre-trained source_model) and a network trained from ' +
      'scratch on plenty of target data. Each panel is one measure ' +
      'computed on the same target probe inputs at the output of each hidden block; each colour one correlation. CKA and neighbour ' +
      'overlap are 1 for identical representations; information imbalance source→target is near 0 when the source block predicts the ' +
      'target block and near 1 when it carries no information about it; intrinsic dimension is the number of directions the data ' +
      'really spans. Representations that stay alike up to block l suggest those blocks can be frozen.',
    spec,
  };
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
