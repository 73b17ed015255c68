/**
 * The text `defrost run` ends with (the project's `afterRun` hook) and `defrost report` prints:
 * the compact l* table and the path of `report.html`.
 *
 * When the aggregate is published (the usual case, and every fully cached run) this only reads
 * its `optimal_depth.txt`: no arrow, no vega, so a cached run stays fast. When it is not (an
 * input failed), the same report is built from whatever the store holds, with the missing runs
 * marked, under `<store>/.reports/` (a directory the engine never treats as a stage).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunInstance } from '../../pipeline/project.js';
import { Store } from '../../pipeline/store.js';
import { wrapWords } from '../../pipeline/terminal-width.js';
import type { RunListing } from '../../pipeline/run-records.js';
import { answerPlace } from './answer-stages.js';
import { uncachedPrefixNotice } from './prefix-notice.js';
import { writeRunReport } from './run-footer.js';
import { aggregatePlanOf, runsOfAggregate, storeRootOf, type AggregatePlan } from './store-runs.js';

/** File names inside an aggregate instance (kept in step with `build.ts`'s REPORT_FILES). */
const TEXT_FILE = 'optimal_depth.txt';
const HTML_FILE = 'report.html';

/** The printed answer of a published aggregate instance directory. */
export function publishedReportText(aggregateDir: string): string {
  const text = readFileSync(join(aggregateDir, TEXT_FILE), 'utf8');
  return `${text.trimEnd()}\n\n${wrapWords(`Report: ${join(aggregateDir, HTML_FILE)}`).join('\n')}`;
}

/** Where a partial report of an aggregate goes. */
export function partialReportDir(storeRoot: string, aggregateKey: string): string {
  // Validated by the store: a key is 16 hex digits, `.reports` no symlink, the store marked.
  return new Store(storeRoot).partialReportDir(aggregateKey);
}

/** Builds the report of an aggregate that is not published, from what is; returns the text. */
export async function partialReportText(storeRoot: string, plan: AggregatePlan, subtitle: string): Promise<string | null> {
  const runs = runsOfAggregate(storeRoot, plan);
  if (!runs.some((r) => r.published && answerPlace(r) !== null)) return null;
  const { buildReport } = await import('./build.js');
  const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
  const built = await buildReport({
    runs,
    depth: num(plan.params.depth, 0),
    classes: num(plan.params.classes, 0),
    taskKind: String(plan.params.task_kind ?? ''),
    sourceModel: typeof plan.params.source_model === 'string' ? plan.params.source_model : null,
    validation: plan.params.validation === 'held_out' || plan.params.validation === 'external' ? plan.params.validation : null,
    outDir: partialReportDir(storeRoot, plan.key),
    subtitle,
    partial: true,
  });
  const missing = built.tables.missing.length + built.tables.missingSimilarity.length;
  return (
    `${built.text.trimEnd()}\n\n` +
    `Partial sweep: ${missing} of ${runs.length} runs have no result (shown as missing, not as zero).\n` +
    wrapWords(`Report: ${built.htmlPath}`).join('\n')
  );
}

/**
 * The `afterRun` hook: the l* table and the report path after every `defrost run`. The engine
 * hands over the plan and what the run left published; a partial report is built from the
 * aggregate's planned inputs (with their planned coordinates) when the aggregate itself failed.
 */
export async function reportAfterRun(instances: ReadonlyArray<RunInstance>, run?: RunListing): Promise<string | null> {
  const notice = uncachedPrefixNotice(instances);
  const answer = await answerAfterRun(instances, run);
  return notice === null ? answer : answer === null ? notice : `${notice}\n\n${answer}`;
}

/** The l* table and the report path of the run's aggregate (a partial report when it failed). */
async function answerAfterRun(instances: ReadonlyArray<RunInstance>, run?: RunListing): Promise<string | null> {
  const aggregate = instances.find((i) => i.stage === 'aggregate');
  if (aggregate === undefined) return null;
  if (aggregate.published && existsSync(join(aggregate.dir, TEXT_FILE))) {
    const text = publishedReportText(aggregate.dir);
    if (run === undefined || !existsSync(join(aggregate.dir, HTML_FILE))) return text;
    // This run's copy of the page, with its provenance in a footer (run-footer.ts).
    const own = writeRunReport(storeRootOf(aggregate.dir), aggregate.dir, run);
    return `${text}\n${wrapWords(`This run's report, with its provenance: ${own}`).join('\n')}`;
  }
  return partialReportText(
    storeRootOf(aggregate.dir),
    aggregatePlanOf(aggregate, instances),
    'Built from the published instances of an incomplete run',
  );
}
