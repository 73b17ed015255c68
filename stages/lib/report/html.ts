/**
 * The self-contained `report.html`: inline CSS, inline SVG charts, no scripts and no external
 * resources, so it opens from a cluster's scratch disk, an e-mail or an air-gapped laptop.
 * Nothing time-dependent goes in (no dates): the same tables give the same bytes.
 */
import { compareMode } from './results.js';
import { correlationLabel, formatGain } from './text-table.js';
import type { MissingRun, OptimalDepthRow, ReportTables } from './types.js';

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

const fmt = (v: number | null, digits = 3): string => (v === null ? '—' : v.toFixed(digits));
const withSe = (m: number | null, se: number | null): string => (m === null ? '—' : se === null ? fmt(m) : `${fmt(m)} ± ${fmt(se)}`);

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
nav a { margin-right: 14px; }
`;

/** True when an interval is known and lies wholly above (1) or below (-1) zero; 0 otherwise. */
function sign(low: number | null, high: number | null): -1 | 0 | 1 {
  if (low === null || high === null) return 0;
  return low > 0 ? 1 : high < 0 ? -1 : 0;
}

/**
 * One plain sentence per mode: the answer (l* per correlation over n), how often it beats the
 * standard protocol and scratch beyond doubt, and where it is uncertain (cells whose plausible
 * set holds more than one depth). Built only from the validation choice and the test intervals.
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
      const where = c === null ? '' : ` at correlation ${correlationLabel(c)}`;
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
      .map((r) => `${r.correlation === null ? '' : `correlation ${correlationLabel(r.correlation)}, `}n = ${r.n}`);
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

function answerList(tables: ReportTables): string {
  const L = tables.depth;
  const items: string[] = [];
  const modes = [...new Set(tables.optimal.map((r) => r.mode))].sort(compareMode);
  for (const mode of modes) {
    const correlations: (number | null)[] = [];
    for (const r of tables.optimal) if (r.mode === mode && !correlations.includes(r.correlation)) correlations.push(r.correlation);
    for (const c of correlations) {
      const rows = tables.optimal.filter((r) => r.mode === mode && r.correlation === c);
      const depths = rows.map((r) => `${r.optimal_depth ?? 'missing'} (n = ${r.n})`).join(', ');
      const gains = rows
        .filter((r) => r.gain_over_full_depth !== null)
        .map((r) => `${formatGain(r.gain_over_full_depth, r.gain_vs_full_low, r.gain_vs_full_high)} (n = ${r.n})`);
      const where = c === null ? '' : `correlation ${correlationLabel(c)}, `;
      let text = `<b>${escapeHtml(where)}mode ${escapeHtml(mode)}</b>: freeze l* = ${escapeHtml(depths)}.`;
      if (gains.length > 0)
        text += ` Test accuracy gained over the standard protocol (l = ${L}), with 95% intervals: ${escapeHtml(gains.join(', '))}.`;
      items.push(`<li>${text}</li>`);
    }
  }
  if (items.length === 0) return '<p>No results yet.</p>';
  const lead = openingSentences(tables)
    .map((text) => `<p class="lead-answer">${escapeHtml(text)}</p>`)
    .join('\n');
  return `${lead}\n<ul class="answer">${items.join('\n')}</ul>`;
}

function optimalTable(rows: readonly OptimalDepthRow[], L: number): string {
  const head = [
    '<th class="text">correlation</th>',
    '<th>n</th>',
    '<th class="text">mode</th>',
    '<th>l*</th>',
    '<th class="text">plausible set</th>',
    '<th>validation accuracy at l*</th>',
    '<th>test accuracy at l*</th>',
    `<th>accuracy at l = ${L}</th>`,
    '<th>scratch accuracy</th>',
    `<th>gain over l = ${L} [95%]</th>`,
    '<th>gain over scratch [95%]</th>',
    '<th>seeds at l*</th>',
    '<th>missing runs</th>',
  ].join('');
  const body = rows
    .map(
      (r) =>
        `<tr><td class="text">${escapeHtml(correlationLabel(r.correlation))}</td><td>${r.n}</td><td class="text">${escapeHtml(r.mode)}</td>` +
        `<td${r.optimal_depth === null ? ' class="missing"' : ''}>${r.optimal_depth ?? 'missing'}</td>` +
        `<td class="text">{${r.plausible_depths.join(', ')}}</td><td>${fmt(r.optimal_validation_accuracy)}</td>` +
        `<td>${withSe(r.optimal_accuracy, r.optimal_accuracy_se)}</td><td>${withSe(r.full_depth_accuracy, r.full_depth_accuracy_se)}</td>` +
        `<td>${withSe(r.scratch_accuracy, r.scratch_accuracy_se)}</td>` +
        `<td>${escapeHtml(formatGain(r.gain_over_full_depth, r.gain_vs_full_low, r.gain_vs_full_high, 3))}</td>` +
        `<td>${escapeHtml(formatGain(r.gain_over_scratch, r.gain_vs_scratch_low, r.gain_vs_scratch_high, 3))}</td>` +
        `<td>${r.seeds}</td><td${r.missing_runs > 0 ? ' class="missing"' : ''}>${r.missing_runs}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function missingSection(missing: readonly MissingRun[], missingSimilarity: readonly (number | null)[]): string {
  if (missing.length === 0 && missingSimilarity.length === 0) return '';
  const shown = missing.slice(0, 200);
  const rows = shown
    .map(
      (m) =>
        `<tr><td class="text">${escapeHtml(correlationLabel(m.correlation))}</td><td>${m.n}</td><td class="text">${escapeHtml(m.mode)}</td>` +
        `<td>${m.depth ?? '—'}</td><td>${m.seed}</td><td class="text"><code>${escapeHtml(m.id)}</code></td></tr>`,
    )
    .join('\n');
  const more = missing.length > shown.length ? `<p>… and ${missing.length - shown.length} more.</p>` : '';
  const sim =
    missingSimilarity.length > 0
      ? `<p>Similarity missing for correlation ${missingSimilarity.map((c) => escapeHtml(correlationLabel(c))).join(', ')}.</p>`
      : '';
  return `<section class="card warning" id="missing"><h2 style="margin-top:0">Partial sweep: ${missing.length + missingSimilarity.length} planned runs have no result</h2>
<p>These instances failed or have not run yet. They are left out of every mean and chart (not counted as zero); a cell of the
l* table with missing runs is marked <b>*</b>, one with no result at all reads <b>missing</b>.</p>
${sim}${missing.length > 0 ? `<details><summary>The ${missing.length} missing scratch and transfer runs</summary><table><thead><tr><th class="text">correlation</th><th>n</th><th class="text">mode</th><th>depth</th><th>seed</th><th class="text">instance</th></tr></thead><tbody>\n${rows}\n</tbody></table>${more}</details>` : ''}</section>`;
}

export interface ReportPage {
  readonly tables: ReportTables;
  readonly charts: readonly RenderedChart[];
  /** One line saying which config and store the report is from (no dates). */
  readonly subtitle: string;
  /** Set for a report built from a partial sweep by `defrost report`. */
  readonly partial: boolean;
  /** Further sections after the charts, as HTML (e.g. "Can l* be predicted?", stages/prediction/section-job.ts). */
  readonly sections?: readonly string[];
}

export function reportHtml(page: ReportPage): string {
  const { tables, charts } = page;
  const L = tables.depth;
  const nav = charts.map((c) => `<a href="#${c.id}">${escapeHtml(c.title)}</a>`).join('\n');
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
<p class="lead">${escapeHtml(page.subtitle)}${page.partial ? ' — <b>partial sweep</b>' : ''}. A source network of ${L} hidden blocks (trained on the source task, or a pre-trained source_model);
transfer at depth l copies its blocks, keeps the first l frozen and trains the rest on n target samples (${tables.classes} classes).
l* is the depth with the best mean accuracy on a held-out validation set over seeds; test accuracy only measures (docs/protocol.md).</p>
<nav>${nav}<a href="#table">Table of l*</a></nav>
<section class="card"><h2 style="margin-top:0">The answer</h2>${answerList(tables)}</section>
${missingSection(tables.missing, tables.missingSimilarity)}
${chartSections}
${(page.sections ?? []).join('\n')}
<section id="table"><h2>Table of l*</h2>
<p class="caption">l* has the best mean validation accuracy over seeds (ties go to the deeper l); the plausible set holds the depths whose
paired validation difference from l* is not significant (two-sided paired t-test, 95%). Test accuracies are means over seeds ± one
standard error (sample standard deviation / √seeds; none with one seed). Gains are mean per-seed differences of test accuracy with their
paired Student t 95% interval in brackets ([?] with one seed). The same numbers are in <code>optimal_depth.arrow</code>;
every run is in <code>results.arrow</code>, the similarity measures in <code>similarity.arrow</code>.</p>
<div class="card chart">${optimalTable(tables.optimal, L)}</div></section>
</main>
</body>
</html>
`;
}
