/**
 * The self-contained `report.html`: inline CSS, inline SVG charts, no scripts and no external
 * resources, so it opens from a cluster's scratch disk, an e-mail or an air-gapped laptop.
 * Nothing time-dependent goes in (no dates): the same tables give the same bytes.
 */
import { sourceNetworkWords } from './charts.js';
import { eliminationLines, eliminationsOf } from './eliminations.js';
import { compareMode } from './results.js';
import { cellLabel, gainOf, modeHeading, rowVerdict } from './text-table.js';
import type { OptimalDepthRow } from '../tables/report-tables.js';
import type { MissingRun, ReportTables } from './types.js';
import { formatGainPoints, intervalsNote } from './verdict.js';

/** A rendered chart ready for the page. */
export interface RenderedChart {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly svg: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** An accuracy in percent (`84.2`), or a dash. */
const pct = (v: number | null): string => (v === null ? '—' : (100 * v).toFixed(1));
const withSe = (m: number | null, se: number | null): string => (m === null ? '—' : se === null ? pct(m) : `${pct(m)} ± ${pct(se)}`);
/** A gain in points with its interval, `—` when there is none, `itself` when l* is that depth. */
const gainCell = (itself: boolean, mean: number | null, low: number | null, high: number | null): string => {
  const gain = gainOf(mean, low, high);
  return itself ? 'l* itself' : gain === null ? '—' : formatGainPoints(gain);
};

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1b1f24;
  background: #f6f7f9; margin: 0; line-height: 1.5; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 6px; border-bottom: 1px solid #d9dde3; padding-bottom: 4px; }
p.lead { color: #4a5361; margin: 0 0 18px; }
p.caption { color: #4a5361; margin: 2px 0 12px; max-width: 920px; }
.card { background: white; border: 1px solid #dde1e6; border-radius: 8px; padding: 16px 20px; margin: 12px 0; }
.answer li { margin: 4px 0; }
p.lead-answer { margin: 4px 0 10px; font-size: 15px; }
.chart { overflow-x: auto; }
.chart svg { display: block; max-width: 100%; height: auto; }
.warning { background: #fff7e6; border-color: #f0c36d; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e6e9ed; text-align: right; white-space: nowrap; }
th { background: #f0f2f5; font-weight: 600; }
td.text, th.text { text-align: left; }
td.missing { color: #a0522d; }
code { background: #eef0f3; padding: 1px 4px; border-radius: 3px; font-size: 90%; }
nav a { margin-right: 14px; white-space: nowrap; }
.answer h3 { font-size: 15px; margin: 14px 0 2px; }
`;

/** True when an interval is known and lies wholly above (1) or below (-1) zero; 0 otherwise. */
function sign(low: number | null, high: number | null): -1 | 0 | 1 {
  if (low === null || high === null) return 0;
  return low > 0 ? 1 : high < 0 ? -1 : 0;
}

/**
 * One plain sentence per mode: the answer (l* per correlation over n), how often it beats the
 * standard protocol and scratch beyond doubt, and where it is uncertain (cells whose plausible
 * set holds more than one depth). Built only from the selection choice and the test intervals.
 */
export function openingSentences(tables: ReportTables): string[] {
  const L = tables.depth;
  const modes = [...new Set(tables.optimal.map((r) => r.mode))].sort(compareMode);
  return modes.map((mode) => {
    const rows = tables.optimal.filter((r) => r.mode === mode && r.optimal_depth !== null);
    const correlations: (number | null)[] = [];
    for (const r of rows) if (!correlations.includes(r.correlation)) correlations.push(r.correlation);
    const nsOf = (c: number | null): string =>
      rows
        .filter((r) => r.correlation === c)
        .map((r) => r.n)
        .join(', ');
    const sameNs = correlations.every((c) => nsOf(c) === nsOf(correlations[0]));
    const answers = correlations.map((c) => {
      const depths = rows.filter((r) => r.correlation === c).map((r) => r.optimal_depth);
      const where = c === null ? '' : ` at correlation ${c}`;
      return `${depths.join(', ')}${where}${sameNs ? '' : ` (n = ${nsOf(c)})`}`;
    });
    const beatsFull = rows.filter((r) => sign(r.gain_vs_full_low, r.gain_vs_full_high) > 0).length;
    const beatsScratch = rows.filter((r) => sign(r.gain_vs_scratch_low, r.gain_vs_scratch_high) > 0).length;
    const losesScratch = rows.filter((r) => sign(r.gain_vs_scratch_low, r.gain_vs_scratch_high) < 0).length;
    const sharp = rows.filter((r) => r.plausible_depths.length === 1).length;
    const widest = Math.max(0, ...rows.map((r) => r.plausible_depths.length));
    const wide = rows
      .filter((r) => r.plausible_depths.length === widest && widest > 1)
      .slice(0, 3)
      .map((r) => `${r.correlation === null ? '' : `correlation ${r.correlation}, `}n = ${r.n}`);
    const uncertainty =
      sharp === rows.length
        ? 'every cell singles out one depth'
        : `${sharp} of ${rows.length} cells single out one depth, the others leave 2 to ${widest} depths statistically as good as l* ` +
          `(least certain: ${wide.join('; ')})`;
    return (
      `Mode ${mode}: freeze ${answers.join(', ')}${sameNs ? ` (n = ${nsOf(correlations[0])})` : ''} blocks; this beats the ` +
      `standard protocol (l = ${L}) on test beyond its 95% interval in ${beatsFull} of ${rows.length} cells and training from ` +
      `scratch in ${beatsScratch}${losesScratch > 0 ? ` (scratch is better in ${losesScratch})` : ''}; ${uncertainty}.`
    );
  });
}

/**
 * The answer: per mode, one sentence per cell (verdict.ts) that says what to freeze and whether
 * it beats the two defaults, then the mode's summary; a warning first when one seed leaves every
 * gain without an interval.
 */
function answerList(tables: ReportTables): string {
  const L = tables.depth;
  const modes = [...new Set(tables.optimal.map((r) => r.mode))].sort(compareMode);
  if (modes.length === 0) return '<p>No results yet.</p>';
  const summaries = openingSentences(tables);
  const seeds = Math.max(0, ...tables.optimal.map((r) => r.seeds));
  const note = intervalsNote('seed', seeds);
  const warning =
    note === null
      ? ''
      : `<p class="lead-answer"><b>Warning</b>: ${escapeHtml(note)}; every gain below is a single estimate. ` +
        'Give the study <code>seeds</code> with 2 or more values for intervals and verdicts.</p>\n';
  const parts = modes.map((mode, i) => {
    const items = tables.optimal
      .filter((r) => r.mode === mode)
      .map((r) => {
        const sentence = rowVerdict(r, L) ?? 'missing: no run of this cell has a result.';
        const mark = r.missing_runs > 0 ? ` (${r.missing_runs} runs missing)` : '';
        return `<li><b>${escapeHtml(cellLabel(r).replaceAll('=', ' = '))}</b>${escapeHtml(mark)}: ${escapeHtml(sentence)}</li>`;
      });
    const summary = summaries[i] === undefined ? '' : `<p class="lead-answer">${escapeHtml(summaries[i])}</p>`;
    return `<h3>${escapeHtml(modeHeading(mode))}</h3>\n<ul class="answer">${items.join('\n')}</ul>\n${summary}`;
  });
  return `${warning}${parts.join('\n')}\n<p class="caption">${escapeHtml(tables.basis)}</p>`;
}

function optimalTable(rows: readonly OptimalDepthRow[], L: number): string {
  const head = [
    '<th class="text">correlation ρ</th>',
    '<th>n</th>',
    '<th class="text">mode</th>',
    '<th>l*</th>',
    '<th class="text">plausible set</th>',
    '<th>selection accuracy at l* (%)</th>',
    '<th>test accuracy at l* (%)</th>',
    `<th>at l = ${L} (%)</th>`,
    '<th>scratch (%)</th>',
    `<th>gain over l = ${L} (points) [95%]</th>`,
    '<th>gain over l = 0 (points) [95%]</th>',
    '<th>gain over scratch (points) [95%]</th>',
    '<th>seeds at l*</th>',
    '<th>missing runs</th>',
  ].join('');
  const body = rows
    .map(
      (r) =>
        `<tr><td class="text">${r.correlation ?? '—'}</td><td>${r.n}</td><td class="text">${escapeHtml(r.mode)}</td>` +
        `<td${r.optimal_depth === null ? ' class="missing"' : ''}>${r.optimal_depth ?? 'missing'}</td>` +
        `<td class="text">{${r.plausible_depths.join(', ')}}</td><td>${pct(r.optimal_selection_accuracy)}</td>` +
        `<td>${withSe(r.optimal_accuracy, r.optimal_accuracy_se)}</td><td>${withSe(r.full_depth_accuracy, r.full_depth_accuracy_se)}</td>` +
        `<td>${withSe(r.scratch_accuracy, r.scratch_accuracy_se)}</td>` +
        `<td>${escapeHtml(gainCell(r.optimal_depth === L, r.gain_over_full_depth, r.gain_vs_full_low, r.gain_vs_full_high))}</td>` +
        `<td>${escapeHtml(gainCell(r.optimal_depth === 0, r.gain_over_zero_depth, r.gain_vs_zero_low, r.gain_vs_zero_high))}</td>` +
        `<td>${escapeHtml(gainCell(false, r.gain_over_scratch, r.gain_vs_scratch_low, r.gain_vs_scratch_high))}</td>` +
        `<td>${r.seeds}</td><td${r.missing_runs > 0 ? ' class="missing"' : ''}>${r.missing_runs}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The depths early elimination stopped (docs/protocol.md#early-elimination-in-a-study); nothing without any. */
function eliminationNote(tables: ReportTables): string {
  const lines = eliminationLines(eliminationsOf(tables.results));
  if (lines.length === 0) return '';
  return (
    '<p class="caption">Early elimination (<code>transfer.eliminate</code>) stopped these depths once they trailed the leading depth ' +
    'significantly, at a stricter level than the plausible set’s; they are neither l* nor plausible, and their runs after that ' +
    `trained nothing (<code>stopped_by</code> <code>eliminated</code> in <code>results.arrow</code>):</p><ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`
  );
}

function missingSection(missing: readonly MissingRun[], missingSimilarity: readonly (number | null)[]): string {
  if (missing.length === 0 && missingSimilarity.length === 0) return '';
  const shown = missing.slice(0, 200);
  const rows = shown
    .map(
      (m) =>
        `<tr><td class="text">${m.correlation ?? '—'}</td><td>${m.n}</td><td class="text">${escapeHtml(m.mode)}</td>` +
        `<td>${m.depth ?? '—'}</td><td>${m.seed}</td><td class="text"><code>${escapeHtml(m.id)}</code></td></tr>`,
    )
    .join('\n');
  const more = missing.length > shown.length ? `<p>… and ${missing.length - shown.length} more.</p>` : '';
  const sim =
    missingSimilarity.length > 0
      ? `<p>Similarity missing for ${missingSimilarity.map((c) => (c === null ? 'the target task' : `correlation ${c}`)).join(', ')}.</p>`
      : '';
  return `<section class="card warning" id="missing"><h2 style="margin-top:0">Partial sweep: ${missing.length + missingSimilarity.length} planned runs have no result</h2>
<p>These instances failed or have not run yet. They are left out of every mean and chart (not counted as zero); a cell of the
l* table with missing runs is marked <b>*</b>, one with no result at all reads <b>missing</b>.</p>
${sim}${missing.length > 0 ? `<details><summary>The ${missing.length} missing scratch and transfer runs</summary><table><thead><tr><th class="text">correlation</th><th>n</th><th class="text">mode</th><th>depth</th><th>seed</th><th class="text">instance</th></tr></thead><tbody>\n${rows}\n</tbody></table>${more}</details>` : ''}</section>`;
}

/** A section of the page after the charts, with what the top links need. */
export interface PageSection {
  /** The anchor of its `<section>` (the top links point at it). */
  readonly id: string;
  /** Its heading, as the top link reads. */
  readonly title: string;
  readonly html: string;
}

export interface ReportPage {
  readonly tables: ReportTables;
  readonly charts: readonly RenderedChart[];
  /** One line saying which config and store the report is from (no dates). */
  readonly subtitle: string;
  /** Set for a report built from a partial sweep by `defrost report`. */
  readonly partial: boolean;
  /** Further sections after the charts (e.g. "Can l* be predicted?", stages/prediction/section-job.ts). */
  readonly sections?: readonly PageSection[];
}

/** What this study is, in one paragraph: which source network, what transfer at depth l does. */
export function studyDescription(tables: ReportTables): string {
  const L = tables.depth;
  return (
    `${sourceNetworkWords(tables).replace(/,$/, '')}${tables.sourceModel === null ? ' has' : ', cut into'} ${L} blocks. ` +
    'Transfer at depth l keeps its first l blocks frozen ' +
    'and trains the rest, with a new readout, on n target ' +
    `samples (${tables.classes} classes). l* is the depth with the best mean accuracy on a selection set disjoint ` +
    'from the samples that stopped the runs; test accuracy only measures (docs/protocol.md).'
  );
}

export function reportHtml(page: ReportPage): string {
  const { tables, charts } = page;
  const L = tables.depth;
  const missing = missingSection(tables.missing, tables.missingSimilarity);
  // The top links: every section of the page, in page order.
  const links: { id: string; title: string }[] = [
    { id: 'answer', title: 'The answer' },
    ...(missing === '' ? [] : [{ id: 'missing', title: 'Missing runs' }]),
    ...charts,
    ...(page.sections ?? []),
    { id: 'table', title: 'Table of l*' },
  ];
  const nav = links.map((l) => `<a href="#${l.id}">${escapeHtml(l.title)}</a>`).join('\n');
  const chartSections = charts
    .map(
      (c) => `<section id="${c.id}"><h2>${escapeHtml(c.title)}</h2><p class="caption">${escapeHtml(c.caption)}</p>
<div class="card chart" data-chart="${c.id}">${c.svg}</div></section>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>defrost report: how many layers to freeze</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>How many layers to freeze when transferring to the target task</h1>
<p class="lead">${escapeHtml(page.subtitle)}${page.partial ? ' — <b>partial sweep</b>' : ''}. ${escapeHtml(studyDescription(tables))}</p>
<nav>${nav}</nav>
<section class="card" id="answer"><h2 style="margin-top:0">The answer</h2>${answerList(tables)}</section>
${missing}
${chartSections}
${(page.sections ?? []).map((section) => section.html).join('\n')}
<section id="table"><h2>Table of l*</h2>
<p class="caption">l* has the best mean selection accuracy (on samples disjoint from those that stopped the runs; ties go to the deeper l);
the plausible set holds the depths whose paired selection difference from l* is not significant (two-sided paired t-test, 95%; with
several task instances the task is the unit). Accuracies are percent, means over seeds ± one
standard error (sample standard deviation / √seeds; none with one seed). Gains are mean per-seed differences of test accuracy in points
with their paired Student t 95% interval in brackets (none with one seed); l* itself is not compared with itself. The same numbers, as
fractions, are in <code>optimal_depth.arrow</code>; every run is in <code>results.arrow</code>, the similarity measures in
<code>similarity.arrow</code>.</p>
<div class="card chart">${optimalTable(tables.optimal, L)}</div>${eliminationNote(tables)}</section>
</main>
</body>
</html>
`;
}
