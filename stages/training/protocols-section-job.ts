/**
 * Builds the report section "Which protocol, and at which setting?" (`protocols-section.ts`):
 * the protocols table from the sweep's results (stages/lib/report/protocol-table.ts), written as
 * `protocols.arrow`, its chart and table in the page, and the text the terminal answer ends with.
 * Nothing when the study ran no protocol beyond the frozen prefix.
 */
import { join } from 'node:path';
import { escapeHtml } from '../lib/report/html.js';
import { pairLabel } from '../lib/report/protocol-choice.js';
import { protocolAnswerText, protocolChart } from '../lib/report/protocol-report.js';
import { gainInterval, protocolRows, type ProtocolRow } from '../lib/report/protocol-table.js';
import { renderSvg } from '../lib/report/render-svg.js';
import type { SectionBuilder } from '../lib/report/section.js';
import { formatGainPoints } from '../lib/report/verdict.js';
import { PROTOCOL_CHOICES } from '../lib/tables/protocol-tables.js';
import { protocolsSection } from './protocols-section.js';

const gain = (low: number | null, mean: number | null, high: number | null): string => {
  const g = gainInterval(low, mean, high);
  return g === null ? '' : escapeHtml(formatGainPoints(g));
};

/** Every protocol's best setting per cell, the cell's best pair in bold. */
function protocolTableHtml(rows: readonly ProtocolRow[]): string {
  const head = ['ρ', 'n', 'protocol, best setting', 'test accuracy', 'vs l = L', 'vs l = 0', 'vs best l*', 'plausible settings']
    .map((h) => `<th>${h}</th>`)
    .join('');
  const body = rows
    .map((r) => {
      const label = escapeHtml(pairLabel(r));
      return (
        `<tr><td>${r.correlation ?? ''}</td><td>${r.n}</td><td class="text">${r.best === 1 ? `<b>${label}</b>` : label}</td>` +
        `<td>${r.test_accuracy.toFixed(3)}</td><td>${gain(r.gain_vs_full_low, r.gain_vs_full, r.gain_vs_full_high)}</td>` +
        `<td>${gain(r.gain_vs_zero_low, r.gain_vs_zero, r.gain_vs_zero_high)}</td>` +
        `<td>${gain(r.gain_vs_best_prefix_low, r.gain_vs_best_prefix, r.gain_vs_best_prefix_high)}</td>` +
        `<td class="text">${escapeHtml(r.plausible_settings)}</td></tr>`
      );
    })
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export const buildProtocolsSection: SectionBuilder = async ({ tables, outDir }) => {
  const rows = protocolRows(tables.results, tables.depth);
  if (rows.length === 0) return null;
  await PROTOCOL_CHOICES.write(join(outDir, PROTOCOL_CHOICES.file), rows);
  const chart = protocolChart(rows);
  const answer = protocolAnswerText(rows);
  const html = `<section id="${protocolsSection.id}"><h2>${chart.title}</h2>
<p class="caption">Beyond freezing a prefix of l blocks (docs/science.md#beyond-freezing-a-prefix): each protocol at its own best
setting on the selection split, against freezing every block (defrost at l = L), fine-tuning everything (l = 0) and the best prefix depth
l* (defrost at its l*), as test gains in accuracy points with paired 95% intervals. The plausible settings are those not significantly
worse than the cell's best pair on selection (paired t-test at 95%, across every protocol and setting). ${escapeHtml(chart.caption)}</p>
<div class="card chart" data-chart="protocols">${await renderSvg(chart.spec, 'cq')}</div>
<div class="card chart">${protocolTableHtml(rows)}</div>
<p class="caption">Per cell and protocol in <code>protocols.arrow</code>; every run in <code>results.arrow</code> (its <code>setting</code> column).</p>
</section>`;
  return { title: chart.title, html, text: answer, answer };
};
