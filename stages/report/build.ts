/**
 * Builds the whole report from planned runs: the three Arrow tables, the text table, the
 * sections' tables (`sections.ts`) and `report.html`, written into one directory. Both the `aggregate` stage (every run published)
 * and `defrost report` on a partial sweep (some runs missing) call this, so both produce the
 * same files. Heavy libraries (apache-arrow, vega) load here, never in the scheduler.
 */
import { access, mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../../pipeline/fsutil.js';
import { join } from 'node:path';
import { StageFailure } from '../../pipeline/errors.js';
import { wrapWords } from '../../pipeline/terminal-width.js';
import { similarityStage } from '../similarity/similarity.js';
import { reportCharts } from '../lib/report/charts.js';
import { reportHtml, type PageSection, type RenderedChart } from '../lib/report/html.js';
import { computeOptimalDepth } from '../lib/report/optimal-depth.js';
import { renderSvg } from '../lib/report/render-svg.js';
import { collectRuns, compareCorrelation } from '../lib/report/results.js';
import { answerPlace } from './answer-stages.js';
import { REPORT_SECTIONS, SECTION_OUTPUTS } from './sections.js';
import { formatOptimalDepthTable } from '../lib/report/text-table.js';
import { eliminationLines, eliminationsOf } from '../lib/report/eliminations.js';
import type { ReportTables, RunRecord } from '../lib/report/types.js';
import { answerBasis, type ValidationBasis } from '../lib/report/basis.js';
import { OPTIMAL_DEPTH, RESULTS } from '../lib/tables/report-tables.js';
import { SIMILARITY, type SimilarityRow } from '../lib/tables/similarity-table.js';

/** File names inside the aggregate instance (docs/report.md), the text answer and the sections' tables. */
export const REPORT_FILES = {
  results: RESULTS.file,
  optimalDepth: OPTIMAL_DEPTH.file,
  similarity: SIMILARITY.file,
  html: 'report.html',
  text: 'optimal_depth.txt',
  ...Object.fromEntries(Object.entries(SECTION_OUTPUTS).map(([name, output]) => [name, output.file])),
} as const;

export interface BuildReportOptions {
  readonly runs: readonly RunRecord[];
  /** Number of hidden blocks L. */
  readonly depth: number;
  readonly classes: number;
  readonly taskKind: string;
  /** `source_model` of the config (the report then says the source network was imported); null or absent: trained by the study. */
  readonly sourceModel?: string | null;
  readonly outDir: string;
  /** Where the report comes from, e.g. "experiments/default.yaml, store artifacts/". */
  readonly subtitle: string;
  readonly partial: boolean;
  /** Where runs stopped and l* was chosen (aggregate's `validation`); null: a store from before the split. */
  readonly validation?: ValidationBasis;
  readonly log?: (line: string) => void;
}

export interface BuiltReport {
  readonly tables: ReportTables;
  /** The compact l* table `run` ends with. */
  readonly text: string;
  readonly htmlPath: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Concatenates every published similarity instance's table, in a fixed order. */
async function gatherSimilarity(runs: readonly RunRecord[]): Promise<SimilarityRow[]> {
  const rows: SimilarityRow[] = [];
  for (const run of runs) {
    const file = join(run.dir ?? '', similarityStage.outputs.similarity.file);
    if (run.dir === undefined || !(await exists(file)))
      throw new StageFailure(`similarity instance ${run.id} has no ${SIMILARITY.file} (looked in ${run.dir ?? '(no directory)'})`);
    rows.push(...(await SIMILARITY.read(file)));
  }
  return rows.sort(
    (a, b) =>
      compareCorrelation(a.correlation, b.correlation) ||
      (a.measure < b.measure ? -1 : a.measure > b.measure ? 1 : 0) ||
      a.block_a - b.block_a ||
      a.block_b - b.block_b,
  );
}

/** The tables alone, without writing anything (tests and the partial report use them). */
export async function buildTables(
  options: Pick<BuildReportOptions, 'runs' | 'depth' | 'classes' | 'taskKind' | 'sourceModel' | 'validation'>,
): Promise<ReportTables> {
  const collected = collectRuns(options.runs, answerPlace);
  return {
    depth: options.depth,
    basis: answerBasis(options.validation ?? null, collected.results),
    classes: options.classes,
    taskKind: options.taskKind,
    sourceModel: options.sourceModel ?? null,
    results: collected.results,
    optimal: computeOptimalDepth(collected.results, collected.missing, options.depth),
    similarity: await gatherSimilarity(collected.similarityRuns),
    missing: collected.missing,
    missingSimilarity: collected.missingSimilarity,
  };
}

export async function buildReport(options: BuildReportOptions): Promise<BuiltReport> {
  const log = options.log ?? (() => {});
  const tables = await buildTables(options);
  log(`${tables.results.length} runs, ${tables.missing.length} missing, ${tables.similarity.length} similarity rows`);
  await mkdir(options.outDir, { recursive: true });
  await RESULTS.write(join(options.outDir, REPORT_FILES.results), tables.results);
  await OPTIMAL_DEPTH.write(join(options.outDir, REPORT_FILES.optimalDepth), tables.optimal);
  await SIMILARITY.write(join(options.outDir, REPORT_FILES.similarity), tables.similarity);

  const charts: RenderedChart[] = [];
  for (const [i, chart] of reportCharts(tables).entries()) {
    charts.push({ id: chart.id, title: chart.title, caption: chart.caption, svg: await renderSvg(chart.spec, `c${i}`) });
    log(`rendered chart ${chart.id}`);
  }
  const sections: PageSection[] = [];
  const answers: string[] = [];
  for (const section of REPORT_SECTIONS) {
    const build = await section.load();
    const built = await build({ runs: options.runs, tables, outDir: options.outDir });
    if (built === null) continue;
    sections.push({ id: section.id, title: built.title, html: built.html });
    if (built.answer !== undefined) answers.push(built.answer);
    log(built.text);
  }
  const stopped = eliminationLines(eliminationsOf(tables.results)).map((line) => wrapWords(line, '', '  ').join('\n'));
  const text = [wrapWords(tables.basis).join('\n'), formatOptimalDepthTable(tables.optimal, tables.depth), ...stopped, ...answers].join(
    '\n',
  );
  // Temp file + rename: a link planted in `.reports/partial-<key>/` is replaced, never followed.
  writeFileAtomic(join(options.outDir, REPORT_FILES.text), text);
  const htmlPath = join(options.outDir, REPORT_FILES.html);
  writeFileAtomic(htmlPath, reportHtml({ tables, charts, subtitle: options.subtitle, partial: options.partial, sections }));
  return { tables, text, htmlPath };
}
