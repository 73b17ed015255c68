/**
 * "Can l* be predicted?" (docs/prediction.md): the `predict` instances' per-depth scores set
 * against what the sweep measured. Per predictor and cell (correlation, n, mode): is its
 * predicted l* the measured l*, within one block of it, in the plausible set; Kendall's tau
 * between its scores and the measured mean accuracy per depth; its cost in seconds against the
 * sweep's (the transfer runs of the cell). The study's l* and plausible set are those of
 * stages/lib/statistics.ts, on validation accuracy when the runs record it (test accuracy otherwise,
 * and the report says so).
 *
 * Loaded only inside `aggregate.run` / `defrost report` (it renders vega charts).
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { summaryOf } from '../../pipeline/outputs.js';
import { predictStage, predictSummary } from './predict.js';
import { PREDICTION_OUTPUTS, predictionSection } from './section.js';
import { kendallTau, scorePredictor, type CellOutcome } from '../lib/predictors/scoring.js';
import { bestDepth, finiteOrNull, mean, plausibleSet } from '../lib/statistics.js';
import { CHART_FONT, integerAxis, measureLabel } from '../lib/report/charts.js';
import {
  BAND,
  PREDICTION,
  PREDICTION_SCORES,
  STUDY_PREDICTION,
  type BandRow,
  type PredictionScoreRow,
  type StudyPredictionRow,
} from '../lib/tables/prediction-tables.js';
import { replicatesOfCell, scoresByDepth, tasksOf } from '../lib/report/optimal-depth.js';
import { renderSvg } from '../lib/report/render-svg.js';
import { SCRATCH_MODE } from '../lib/report/results.js';
import type { SectionBuilder } from '../lib/report/section.js';
import type { RunRecord } from '../lib/report/types.js';
import type { ResultRow } from '../lib/tables/report-tables.js';

/** Look of this section's charts (font, background, legend, frame), shared by both. */
const CHART_CONFIG = {
  font: CHART_FONT,
  background: 'white',
  legend: { orient: 'right', labelLimit: 0, titleLimit: 0 },
  view: { stroke: '#d0d5dc' },
} as const;

/** The summary per predictor, over every cell: the table of the report's section. */
export interface PredictorSummary {
  readonly predictor: string;
  readonly cells: number;
  readonly exact: number;
  readonly within_one: number;
  readonly in_plausible: number;
  readonly kendall_tau: number | null;
  /** Mean seconds per cell of the predictor and of the sweep it stands in for. */
  readonly seconds: number | null;
  readonly sweep_seconds: number | null;
}

export interface PredictionTables {
  readonly rows: readonly StudyPredictionRow[];
  readonly cells: readonly PredictionScoreRow[];
  readonly summary: readonly PredictorSummary[];
  /** What the study's l* was chosen on here (selection accuracy, or what older runs carry). */
  readonly metric: 'selection_accuracy' | 'validation_accuracy' | 'test_accuracy';
}

/** The band checks of each correlation (the same for every n: read from its first predict instance). */
export async function gatherBand(runs: readonly RunRecord[]): Promise<BandRow[]> {
  const rows: BandRow[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    if (run.stage !== predictStage.name || !run.published || run.dir === undefined) continue;
    const c = String(run.coords.correlation ?? null);
    if (seen.has(c)) continue;
    seen.add(c);
    rows.push(...(await BAND.read(join(run.dir, predictStage.outputs.band.file))));
  }
  return rows.sort(
    (a, b) =>
      (b.correlation ?? 0) - (a.correlation ?? 0) || (a.measure < b.measure ? -1 : a.measure > b.measure ? 1 : 0) || a.block - b.block,
  );
}

/**
 * A label folded into lines of at most `width` characters (vega draws an array title as lines),
 * a parenthesis on a line of its own: `Linear CKA` / `(1 = same)`.
 */
function titleLines(label: string, width = 20): string[] {
  const paren = label.indexOf(' (');
  if (paren > 0) return [...titleLines(label.slice(0, paren), width), label.slice(paren + 1)];
  const lines: string[] = [];
  for (const word of label.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * Source-vs-target similarity per block against the same-task band: one panel per measure
 * (rows) and correlation (columns), each y axis named after its measure (charts.ts's labels),
 * every block ticked.
 */
export function bandChart(rows: readonly BandRow[]): TopLevelSpec {
  const correlations = [...new Set(rows.map((r) => r.correlation))].sort((a, b) => (b ?? 0) - (a ?? 0));
  const measures = [...new Set(rows.map((r) => r.measure))];
  const blocks = [...new Set(rows.map((r) => r.block))].sort((a, b) => a - b);
  const values = rows.map((r) => ({
    correlation: r.correlation === null ? 'target task' : `ρ = ${r.correlation}`,
    measure: r.measure,
    block: r.block,
    value: r.value,
    low: r.low,
    high: r.high,
    verdict: r.inside ? 'inside the band' : 'outside the band',
  }));
  const x = {
    field: 'block',
    type: 'quantitative' as const,
    title: 'Hidden block',
    scale: { domain: [blocks[0], blocks[blocks.length - 1]], nice: false, padding: 8 },
    axis: integerAxis(blocks),
  };
  const panel = (measure: string, correlation: number | null) => {
    const y = { field: 'value', type: 'quantitative' as const, title: titleLines(measureLabel(measure)), scale: { zero: false } };
    return {
      ...(correlations.length > 1 ? { title: correlation === null ? 'target task' : `ρ = ${correlation}` } : {}),
      transform: [
        { filter: { field: 'measure', equal: measure } },
        { filter: { field: 'correlation', equal: correlation === null ? 'target task' : `ρ = ${correlation}` } },
      ],
      width: 200,
      height: 140,
      layer: [
        {
          mark: { type: 'area' as const, color: '#c9d3e0', opacity: 0.8 },
          encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' } },
        },
        { mark: { type: 'line' as const, color: '#1b1f24' }, encoding: { x, y } },
        {
          mark: { type: 'point' as const, filled: true, size: 70 },
          encoding: {
            x,
            y,
            color: {
              field: 'verdict',
              type: 'nominal' as const,
              title: 'Source vs target',
              scale: { domain: ['inside the band', 'outside the band'], range: ['#2f7d4a', '#c0392b'] },
            },
          },
        },
      ],
    };
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    concat: measures.flatMap((m) => correlations.map((c) => panel(m, c))),
    columns: correlations.length,
    resolve: { scale: { y: 'independent' } },
    config: CHART_CONFIG,
  };
}

/** Reads every published predict instance's `prediction.arrow`, adding its seconds per predictor. */
export async function gatherPredictions(runs: readonly RunRecord[]): Promise<StudyPredictionRow[]> {
  const rows: StudyPredictionRow[] = [];
  const predicts = runs.filter((r) => r.stage === predictStage.name && r.published && r.dir !== undefined);
  for (const run of predicts) {
    const summary = summaryOf(predictSummary, run);
    // Shared inputs (the band's similarity and reference networks) serve every n of the correlation.
    const sharing = predicts.filter((r) => r.coords.correlation === run.coords.correlation).length;
    const secondsOf = (p: string): number | null => {
      const own = summary.seconds[p];
      return own === undefined ? null : own + (summary.shared_seconds[p] ?? 0) / sharing;
    };
    for (const r of await PREDICTION.read(join(run.dir as string, predictStage.outputs.prediction.file)))
      rows.push({ ...r, seconds: secondsOf(r.predictor) });
  }
  return rows.sort(
    (a, b) =>
      (b.correlation ?? 0) - (a.correlation ?? 0) ||
      a.n - b.n ||
      (a.predictor < b.predictor ? -1 : a.predictor > b.predictor ? 1 : 0) ||
      a.depth - b.depth,
  );
}

export function scorePredictions(results: readonly ResultRow[], rows: readonly StudyPredictionRow[]): PredictionTables {
  // l* is chosen on selection accuracy, as the study chooses it (docs/protocol.md); runs from
  // before the selection split have none, and runs from before validation had neither.
  const metric = results.some((r) => r.selection_accuracy !== null)
    ? 'selection_accuracy'
    : results.some((r) => r.validation_accuracy !== null)
      ? 'validation_accuracy'
      : 'test_accuracy';
  const cells: PredictionScoreRow[] = [];
  const predictors = [...new Set(rows.map((r) => r.predictor))];
  const places = [...new Map(rows.map((r) => [`${r.correlation}|${r.n}`, { correlation: r.correlation, n: r.n }])).values()];
  const modes = [...new Set(results.map((r) => r.mode))].filter((m) => m !== SCRATCH_MODE).sort();
  for (const { correlation, n } of places) {
    for (const mode of modes) {
      const runs = results.filter((r) => r.correlation === correlation && r.n === n && r.mode === mode && r.depth !== null);
      if (runs.length === 0) continue;
      const replicates = replicatesOfCell(runs, correlation, n);
      const tasks = tasksOf(replicates);
      const byDepth = scoresByDepth(results, correlation, n, mode, replicates, metric);
      const depths = [...byDepth.keys()];
      const lStar = bestDepth(byDepth, tasks);
      const plausible = lStar === null ? [] : plausibleSet(byDepth, lStar, 0.95, tasks);
      const meanByDepth = (depth: number): number | null =>
        finiteOrNull(mean((byDepth.get(depth) ?? []).filter((v) => Number.isFinite(v))));
      const sweep = runs.reduce((s, r) => s + (r.seconds ?? 0), 0);
      for (const predictor of predictors) {
        const own = rows.filter((r) => r.correlation === correlation && r.n === n && r.predictor === predictor);
        const predicted = own[0]?.predicted_depth ?? null;
        const scores = depths.map((d) => own.find((r) => r.depth === d)?.score ?? null);
        const judged = predicted !== null && lStar !== null;
        cells.push({
          correlation,
          n,
          mode,
          predictor,
          predicted_depth: predicted,
          l_star: lStar,
          plausible_depths: plausible.join(','),
          exact: judged ? Number(predicted === lStar) : null,
          within_one: judged ? Number(Math.abs(predicted - lStar) <= 1) : null,
          in_plausible: judged ? Number(plausible.includes(predicted)) : null,
          kendall_tau: kendallTau(scores, depths.map(meanByDepth)),
          seconds: own[0]?.seconds ?? null,
          sweep_seconds: sweep,
          accuracy: metric,
        });
      }
    }
  }
  const summary = predictors.map((predictor): PredictorSummary => {
    const mine = cells.filter((c) => c.predictor === predictor);
    const outcomes: CellOutcome[] = mine.map((c) => ({
      predicted: c.predicted_depth,
      lStar: c.l_star,
      plausible: c.plausible_depths === '' ? [] : c.plausible_depths.split(',').map(Number),
      tau: c.kendall_tau,
    }));
    const s = scorePredictor(outcomes);
    const secs = mine.map((c) => c.seconds).filter((v): v is number => v !== null);
    const sweeps = mine.map((c) => c.sweep_seconds).filter((v): v is number => v !== null);
    return {
      predictor,
      cells: s.cells,
      exact: s.exact,
      within_one: s.withinOne,
      in_plausible: s.inPlausible,
      kendall_tau: s.kendallTau,
      seconds: finiteOrNull(mean(secs)),
      sweep_seconds: finiteOrNull(mean(sweeps)),
    };
  });
  return { rows, cells, summary, metric };
}

/** Which predictor scores best: most cells in the plausible set, then exact, then tau. */
export function bestPredictor(summary: readonly PredictorSummary[]): string | null {
  const sorted = [...summary]
    .filter((s) => s.cells > 0)
    .sort((a, b) => b.in_plausible - a.in_plausible || b.exact - a.exact || (b.kendall_tau ?? -2) - (a.kendall_tau ?? -2));
  return sorted[0]?.predictor ?? null;
}

const PREDICTOR_LABEL: Record<string, string> = {
  similarity_band: 'similarity vs same-task band',
  logme: 'LogME',
  nearest_centroid: 'nearest-centroid probe',
};
export const predictorLabel = (p: string): string => PREDICTOR_LABEL[p] ?? p;

/** Predicted l* of each predictor against the measured l* and plausible set, per cell. */
export function predictionChart(tables: PredictionTables, depth: number): TopLevelSpec {
  const cellLabel = (c: PredictionScoreRow): string => `${c.correlation === null ? '' : `ρ ${c.correlation}, `}n ${c.n}`;
  const order = [...new Set(tables.cells.map(cellLabel))];
  const values: Record<string, string | number>[] = [];
  const seen = new Set<string>();
  for (const c of tables.cells) {
    const cell = cellLabel(c);
    const key = `${cell}|${c.mode}`;
    if (!seen.has(key)) {
      seen.add(key);
      for (const d of c.plausible_depths === '' ? [] : c.plausible_depths.split(',').map(Number))
        values.push({ cell, mode: `mode ${c.mode}`, depth: d, kind: 'plausible set (measured)', predictor: '' });
      if (c.l_star !== null) values.push({ cell, mode: `mode ${c.mode}`, depth: c.l_star, kind: 'l* (measured)', predictor: '' });
    }
    if (c.predicted_depth !== null)
      values.push({ cell, mode: `mode ${c.mode}`, depth: c.predicted_depth, kind: 'predicted', predictor: predictorLabel(c.predictor) });
  }
  const y = {
    field: 'depth',
    type: 'quantitative',
    title: 'depth l (blocks frozen)',
    scale: { domain: [-0.5, depth + 0.5] },
    axis: integerAxis(Array.from({ length: depth + 1 }, (_, d) => d)),
  };
  const x = { field: 'cell', type: 'nominal', sort: order, title: null, axis: { labelAngle: -40 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { row: { field: 'mode', type: 'nominal', title: null } },
    spec: {
      width: Math.max(320, order.length * 46),
      height: 170,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'plausible set (measured)'" }],
          mark: { type: 'square', size: 360, color: '#d5dbe3' },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.kind === 'l* (measured)'" }],
          mark: { type: 'point', size: 260, strokeWidth: 2, color: '#1b1f24', filled: false },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.kind === 'predicted'" }],
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x,
            y,
            xOffset: { field: 'predictor', type: 'nominal' },
            color: { field: 'predictor', type: 'nominal', title: 'predicted l* by' },
            shape: { field: 'predictor', type: 'nominal', title: 'predicted l* by' },
          },
        },
      ],
    },
    config: CHART_CONFIG,
  } as TopLevelSpec;
}

const pct = (v: number): string => `${Math.round(v * 100)}%`;
const fmt = (v: number | null, digits = 2): string => (v === null ? '—' : v.toFixed(digits));

/** The section's table as HTML rows (the caller escapes nothing: every cell is a number or a fixed label). */
export function predictionSummaryTable(tables: PredictionTables): string {
  const head =
    '<th class="text">predictor</th><th>cells</th><th>exact</th><th>within 1</th><th>in plausible set</th><th>Kendall τ (mean)</th><th>seconds / cell</th><th>sweep seconds / cell</th>';
  const body = tables.summary
    .map(
      (s) =>
        `<tr><td class="text">${predictorLabel(s.predictor)}</td><td>${s.cells}</td><td>${pct(s.exact)}</td><td>${pct(s.within_one)}</td>` +
        `<td>${pct(s.in_plausible)}</td><td>${fmt(s.kendall_tau)}</td><td>${fmt(s.seconds, 1)}</td><td>${fmt(s.sweep_seconds, 0)}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The same table as plain text, for the log and the docs. */
export function predictionSummaryText(tables: PredictionTables): string {
  const lines = ['predictor                     cells  exact  within1  plausible  tau    s/cell  sweep s/cell'];
  for (const s of tables.summary) {
    lines.push(
      `${predictorLabel(s.predictor).padEnd(30)}${String(s.cells).padStart(5)}  ${pct(s.exact).padStart(5)}  ${pct(s.within_one).padStart(7)}  ${pct(s.in_plausible).padStart(9)}  ${fmt(s.kendall_tau).padStart(5)}  ${fmt(s.seconds, 1).padStart(6)}  ${fmt(s.sweep_seconds, 0).padStart(12)}`,
    );
  }
  return lines.join('\n');
}

const PREDICTION_TITLE = 'Can l* be predicted?';

/** The report section "Can l* be predicted?", whatever the answer is. */
export function predictionSectionHtml(tables: PredictionTables, chartSvg: string, bandSvg: string | null): string {
  const metric = {
    selection_accuracy: 'selection accuracy',
    validation_accuracy: 'validation accuracy, as these runs record no selection accuracy',
    test_accuracy: 'test accuracy, as these runs record no validation accuracy',
  }[tables.metric];
  const best = bestPredictor(tables.summary);
  return `<section id="${predictionSection.id}"><h2>${PREDICTION_TITLE}</h2>
<p class="caption">Three predictors score every depth of a cell without any transfer training (docs/prediction.md):
the source-vs-target similarity against the band of two target networks trained from scratch with different seeds,
LogME of the frozen source network's depth-l features on the n target samples, and a leave-one-out nearest-centroid probe on the same features.
Grey squares: the measured plausible set; black ring: the measured l* (best mean ${metric}); coloured marks: each predictor's l*.
Kendall's τ compares a predictor's scores with the measured mean accuracy over depths, per cell; seconds are per (correlation, n)
for the predictor and per (correlation, n, mode) for the transfer runs it would replace.
${best === null ? '' : `Best by this table: <b>${predictorLabel(best)}</b>.`}</p>
<div class="card chart" data-chart="prediction">${chartSvg}</div>
<div class="card chart">${predictionSummaryTable(tables)}</div>
<p class="caption">Per cell in <code>prediction_scores.arrow</code>; every score in <code>prediction.arrow</code>.</p>
${
  bandSvg === null
    ? ''
    : `<h3>Source vs target against the same-task band</h3>
<p class="caption">Line: the similarity of the source network and the target reference network, block by block. Shaded: the same-task band,
the 95% prediction interval of the value for two target networks trained from scratch with different seeds (the yardstick for "learned the same thing").
Green: at least as alike as the band's less alike edge (for information imbalance, lower is more alike). In <code>band.arrow</code>.</p>
<div class="card chart" data-chart="band">${bandSvg}</div>`
}</section>`;
}

/**
 * The section's builder (`prediction/section.ts`): scores the published predict instances
 * against the sweep, writes `prediction.arrow`, `prediction_scores.arrow` and `band.arrow`, and
 * returns the HTML section and its summary table as text. Nothing when no predict is published.
 */
export const buildPredictionSection: SectionBuilder = async ({ runs, tables, outDir }) => {
  const rows = await gatherPredictions(runs);
  if (rows.length === 0) return null;
  const prediction = scorePredictions(tables.results, rows);
  await STUDY_PREDICTION.write(join(outDir, PREDICTION_OUTPUTS.prediction.file), prediction.rows);
  await PREDICTION_SCORES.write(join(outDir, PREDICTION_OUTPUTS.predictionScores.file), prediction.cells);
  const band = await gatherBand(runs);
  await BAND.write(join(outDir, PREDICTION_OUTPUTS.band.file), band);
  const bandSvg = band.length === 0 ? null : await renderSvg(bandChart(band), 'cb');
  return {
    title: PREDICTION_TITLE,
    html: predictionSectionHtml(prediction, await renderSvg(predictionChart(prediction, tables.depth), 'cp'), bandSvg),
    text: `can l* be predicted?\n${predictionSummaryText(prediction)}`,
  };
};
