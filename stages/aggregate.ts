/**
 * The `aggregate` stage: gathers every scratch, transfer and similarity instance of the config
 * into `results.arrow`, `optimal_depth.arrow`, `similarity.arrow`, the text answer
 * `optimal_depth.txt` and a self-contained `report.html` (docs/report.md).
 *
 * The module stays light: the scheduler loads it on every `defrost run`, so apache-arrow and
 * vega are imported only inside `run`, through `report/build.js`.
 */
import { defineStage, type JsonObject } from '../pipeline/stage.js';
import type { RunRecord } from './report/types.js';

/** What the planner gives aggregate: the class count, L and the task kind. */
export interface AggregateParams extends JsonObject {
  classes: number;
  depth: number;
  task_kind: string;
}

export function taskSubtitle(taskKind: string): string {
  return taskKind === 'synthetic'
    ? 'Synthetic task with controlled source-target correlation'
    : taskKind === 'image'
      ? 'Image task: source and target are class subsets of real datasets'
      : `Task ${taskKind}`;
}

export const aggregateStage = defineStage<AggregateParams>({
  name: 'aggregate',
  description: 'results, optimal depth l* per (correlation, n, mode), similarity tables and report.html',
  code: ['stages/aggregate.ts', 'stages/report/**/*.ts'],
  async run(ctx) {
    const { buildReport } = await import('./report/build.js');
    const runs: RunRecord[] = Object.entries(ctx.inputs).map(([id, input]) => ({
      id,
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
      outDir: ctx.outDir,
      subtitle: taskSubtitle(ctx.params.task_kind),
      partial: false,
      log: (line) => ctx.log(line),
    });
    const cells = built.tables.optimal;
    return {
      summary: {
        runs: built.tables.results.length,
        cells: cells.length,
        optimal_depth: cells.map((r) => ({ correlation: r.correlation, n: r.n, mode: r.mode, depth: r.optimal_depth })),
      },
    };
  },
});
