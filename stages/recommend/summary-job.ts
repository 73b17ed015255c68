/**
 * The work of the `recommend` stage (docs/your-data.md): gathers the held-out accuracy of every
 * `cv-train` instance (from the summaries in their manifests), computes the answer (answer.ts)
 * and writes it: `recommendation.json` (the answer with every mode's table), `cv_results.arrow`
 * (one row per fold run) and `report.txt` (the short report the command prints).
 */
import { writeFile } from 'node:fs/promises';
import { StageFailure } from '../../pipeline/errors.js';
import type { JsonObject } from '../../pipeline/stage.js';
import { rowsToIPC } from '../lib/tables/arrow-tables.js';
import type { RecommendContext } from './recommend.js';
import { recommendation, recommendationText, type FoldResult } from './answer.js';

export async function runRecommendSummary(ctx: RecommendContext): Promise<JsonObject> {
  const { params } = ctx;
  const runs = ctx.inputs.runs;
  const data = ctx.inputs.data;
  const results: FoldResult[] = runs.map((run) => {
    const accuracy = run.summary.accuracy;
    if (typeof accuracy !== 'number') throw new StageFailure(`recommend: ${run.stage} ${run.key} reports no accuracy`);
    const depth = run.coords.depth;
    const stoppedBy = run.summary.stopped_by;
    return {
      mode: String(run.coords.mode),
      depth: typeof depth === 'number' ? depth : null,
      fold: Number(run.coords.fold),
      accuracy,
      ...(typeof stoppedBy === 'string' ? { stoppedBy } : {}),
    };
  });
  const answer = recommendation(results, params.modes, params.folds, params.blocks);
  const classes = Array.isArray(data.summary.classes) ? data.summary.classes.length : 0;
  const text = recommendationText(answer, {
    data: params.data,
    model: params.model,
    rows: Number(data.summary.train_rows),
    classes,
  });
  const sorted = [...results].sort((a, b) => a.mode.localeCompare(b.mode) || (a.depth ?? -1) - (b.depth ?? -1) || a.fold - b.fold);
  const rows = sorted.map((r) => ({ mode: r.mode, depth: r.depth, fold: r.fold, accuracy: r.accuracy }));
  await writeFile(ctx.output('cv_results'), rowsToIPC(rows, { mode: 'string', depth: 'int', fold: 'int', accuracy: 'float' }));
  const json = JSON.parse(JSON.stringify(answer)) as JsonObject;
  await writeFile(ctx.output('recommendation'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(ctx.output('report'), `${text}\n`);
  return { recommendation: json, report: text };
}
