/**
 * The `aggregate` stage: gathers every run of the l* table (the stages of `answer-stages.ts`:
 * scratch and transfer runs) and every similarity instance of the config into `results.arrow`,
 * `optimal_depth.arrow`, `similarity.arrow`, the text answer `optimal_depth.txt` and a
 * self-contained `report.html` (docs/report.md). The report's further sections
 * (`report/sections.ts`, e.g. "Can l* be predicted?") add the stages it reads and the tables it
 * writes; none is named here.
 *
 * The module stays light: the scheduler loads it on every `defrost run`, so apache-arrow and
 * vega are imported only inside `run`, through `report/build.js`.
 */
import { z } from 'zod';
import { defineStage, file, inputs } from '../../pipeline/stage.js';
import { countSchema, imageTaskSchema, syntheticTaskSchema, VALIDATION_SCHEMES } from '../config/schema.js';
import { OPTIMAL_DEPTH, RESULTS } from '../lib/tables/report-tables.js';
import { SIMILARITY } from '../lib/tables/similarity-table.js';
import { SECTION_OUTPUTS, SECTION_STAGES } from './sections.js';
import type { RunRecord } from '../lib/report/types.js';
import { similarityStage } from '../similarity/similarity.js';
import { ANSWER_STAGE_DECLARATIONS } from './answer-stages.js';

/**
 * What the planner gives aggregate: the class count, L, the task kind and, for a study with a
 * pre-trained network (docs/your-data.md), its `source_model` as configured (the report says
 * the source network was imported, not trained on a source task).
 */
export const aggregateParams = z.strictObject({
  classes: countSchema,
  depth: countSchema,
  task_kind: syntheticTaskSchema.shape.kind.or(imageTaskSchema.shape.kind),
  source_model: z.string().nullable().default(null),
  /** Where runs stopped and l* was chosen, and on how many task instances the answer rests (docs/protocol.md). */
  validation: z.enum(VALIDATION_SCHEMES),
  tasks: countSchema,
});

/** What `aggregate` reports: the headline answer, which a run record stores (`run-answer.ts`) without opening a table. */
export const aggregateSummary = z.strictObject({
  /** Published scratch and transfer runs. */
  runs: z.number().int(),
  /** (correlation, n, mode) cells. */
  cells: z.number().int(),
  /** l* (`depth`) of every cell and its plausible set (`runs diff` reads both), as in optimal_depth.arrow. */
  optimal_depth: z.array(
    z.strictObject({
      correlation: z.number().nullable(),
      n: z.number().int(),
      mode: z.string(),
      depth: z.number().int().nullable(),
      plausible: z.array(z.number().int()),
    }),
  ),
});

export function taskSubtitle(taskKind: string, sourceModel: string | null = null): string {
  if (sourceModel !== null)
    return `Image task: the target is a class subset of a dataset; the source network is the pre-trained ${sourceModel} (source_model), not trained by the study`;
  return taskKind === 'synthetic'
    ? 'Synthetic task with controlled source-target correlation'
    : taskKind === 'image'
      ? 'Image task: source and target are class subsets of real datasets'
      : `Task ${taskKind}`;
}

export const aggregateStage = defineStage({
  name: 'aggregate',
  description: 'results, optimal depth l* per (correlation, n, mode), similarity tables and report.html',
  module: import.meta.url,
  params: aggregateParams,
  inputs: {
    /** Every run of the l* table (answer-stages.ts), every similarity instance, and the sections' instances. */
    runs: inputs(...ANSWER_STAGE_DECLARATIONS, similarityStage, ...SECTION_STAGES),
  },
  outputs: {
    results: RESULTS.output(),
    optimalDepth: OPTIMAL_DEPTH.output(),
    similarity: SIMILARITY.output(),
    html: file('report.html'),
    text: file('optimal_depth.txt'),
    ...SECTION_OUTPUTS,
  },
  summary: aggregateSummary,
  async run(ctx) {
    const { buildReport } = await import('./build.js');
    const runs: RunRecord[] = ctx.inputs.runs.map((input) => ({
      id: input.id,
      stage: input.stage,
      coords: input.coords,
      published: true,
      summary: input.summary,
      durationSeconds: input.durationSeconds,
      dir: input.dir,
    }));
    const built = await buildReport({
      runs,
      depth: ctx.params.depth,
      classes: ctx.params.classes,
      taskKind: ctx.params.task_kind,
      sourceModel: ctx.params.source_model,
      outDir: ctx.outDir,
      subtitle: taskSubtitle(ctx.params.task_kind, ctx.params.source_model),
      partial: false,
      validation: ctx.params.validation,
      log: (line) => ctx.log(line),
    });
    const cells = built.tables.optimal;
    const summary: z.input<typeof aggregateSummary> = {
      runs: built.tables.results.length,
      cells: cells.length,
      optimal_depth: cells.map((r) => ({
        correlation: r.correlation,
        n: r.n,
        mode: r.mode,
        depth: r.optimal_depth,
        plausible: r.plausible_depths,
      })),
    };
    return { summary };
  },
});
