/**
 * The work of the `recommend` stage (docs/your-data.md): gathers the held-out accuracy of every
 * `cv-train` instance (its declared `metrics.arrow`), computes the answer (answer.ts)
 * and writes it: `recommendation.json` (the answer with every mode's table), `cv_results.arrow`
 * (one row per fold run) and `report.txt` (the short report the command prints).
 */
import { writeFile } from 'node:fs/promises';
import { StageFailure } from '../../pipeline/errors.js';
import type { JsonObject } from '../../pipeline/stage.js';
import { summaryOf } from '../../pipeline/outputs.js';
import { importDataSummary } from '../data/import-data.js';
import { CV_METRICS, CV_RESULTS } from '../lib/tables/recommend-tables.js';
import type { RecommendContext } from './recommend.js';
import { recommendation, recommendationText, type FoldResult } from './answer.js';
import { candidateKey, raceCandidates, replayRace, type Elimination } from '../lib/race.js';

/**
 * The race's eliminations, replayed on the fold runs gathered; a candidate whose folds are not
 * those the race trains (a hand-edited plan) is a failure, not an answer.
 */
function raceOf(results: readonly FoldResult[], modes: readonly string[], depths: readonly number[], folds: number): Elimination[] {
  const candidates = raceCandidates(modes, depths);
  const { eliminated, trainedFolds } = replayRace(results, candidates, modes[0], folds);
  for (const c of candidates) {
    const have = results.filter((r) => r.mode === c.mode && r.depth === c.depth).length;
    const want = trainedFolds.get(candidateKey(c));
    if (have !== want)
      throw new StageFailure(`recommend: ${candidateKey(c)} has ${have} fold run(s); early elimination trains it on ${want}`);
  }
  return eliminated;
}

export async function runRecommendSummary(ctx: RecommendContext): Promise<JsonObject> {
  const { params } = ctx;
  const runs = ctx.inputs.runs;
  const data = ctx.inputs.data;
  const results: FoldResult[] = [];
  for (const run of runs) {
    const [metrics] = await CV_METRICS.read(run.path('metrics'));
    if (metrics === undefined) throw new StageFailure(`recommend: ${run.id} has an empty ${CV_METRICS.file}`);
    const depth = run.coords.depth;
    const setting = run.coords.setting;
    results.push({
      mode: String(run.coords.mode),
      depth: typeof depth === 'number' ? depth : null,
      setting: typeof setting === 'number' ? setting : null,
      fold: Number(run.coords.fold),
      accuracy: metrics.fold_accuracy,
      stoppedBy: metrics.stopped_by ?? undefined,
    });
  }
  const eliminated = params.elimination ? raceOf(results, params.modes, params.depths, params.folds) : null;
  const answer = recommendation(results, params.modes, params.folds, params.blocks, params.protocols ?? [], eliminated);
  const imported = summaryOf(importDataSummary, data);
  const text = recommendationText(answer, {
    data: params.data,
    model: params.model,
    rows: imported.train_rows,
    classes: imported.classes.length,
  });
  const sorted = [...results].sort(
    (a, b) => a.mode.localeCompare(b.mode) || (a.depth ?? -1) - (b.depth ?? -1) || (a.setting ?? -1) - (b.setting ?? -1) || a.fold - b.fold,
  );
  await CV_RESULTS.write(
    ctx.output('cv_results'),
    sorted.map((r) => ({ ...r, setting: r.setting ?? null })),
  );
  const json = JSON.parse(JSON.stringify(answer)) as JsonObject;
  await writeFile(ctx.output('recommendation'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(ctx.output('report'), `${text}\n`);
  return { recommendation: json, report: text };
}
