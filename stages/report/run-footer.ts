/**
 * The report of one run: the aggregate's `report.html` (a cached artifact, the same bytes for
 * every run that reuses it) with a footer saying which run it is — id, name, date, config,
 * overrides, config hash, defrost version and git commit, backend, counts — written to
 * `<store>/.reports/run-<id>/report.html`, so a page someone passes around says what made it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../pipeline/fsutil.js';
import { internalPath } from '../../pipeline/store-dirs.js';
import type { RunListing } from '../../pipeline/run-records.js';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The footer's rows, as label -> text. */
export function provenanceRows(run: RunListing): [string, string][] {
  return [
    ['run', `${run.id}${run.name ? ` (${run.name})` : ''}, ${run.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`],
    ['config', `${run.config}${run.overrides.length ? ` ${run.overrides.map((o) => `--set ${o}`).join(' ')}` : ''}`],
    ['resolved config hash', run.config_hash],
    ['defrost', `${run.version}${run.commit ? `, git ${run.commit}` : ''}`],
    ['compute', `${run.backend ?? 'nothing executed'}; ${run.executor}, ${run.jobs} job(s) x ${run.threads} thread(s)`],
    ['instances', `${run.stages}: executed ${run.executed}, cached ${run.cached}, failed ${run.failed}; wall ${run.wall_s} s`],
  ];
}

export function footerHtml(run: RunListing): string {
  const rows = provenanceRows(run)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  return (
    `<footer class="provenance" style="margin-top:40px;border-top:1px solid #d8dde3;padding-top:12px;color:#4a5361;font-size:13px">` +
    `<h2 style="font-size:15px">Provenance</h2><table>${rows}</table>` +
    `<p>Every run is recorded in the store: <code>defrost runs show ${escapeHtml(run.name ?? run.id)}</code>.</p></footer>`
  );
}

/** Writes the run's copy of the report; returns its path. */
export function writeRunReport(storeRoot: string, aggregateDir: string, run: RunListing): string {
  const html = readFileSync(join(aggregateDir, 'report.html'), 'utf8');
  const footer = footerHtml(run);
  const withFooter = html.includes('</main>')
    ? html.replace('</main>', `${footer}\n</main>`)
    : html.replace('</body>', `${footer}\n</body>`);
  // Through the store's checked accessor: a planted `.reports` link or file is refused (exit 2).
  const out = internalPath(storeRoot, '.reports', `run-${run.id}`, 'report.html');
  writeFileAtomic(out, withFooter);
  return out;
}
