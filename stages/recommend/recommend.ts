/**
 * `recommend` (docs/your-data.md): gathers every `cv-train` fold and answers: l* by mean
 * cross-validated accuracy, its plausible set and interval, and training from scratch. The work
 * is in summary-job.ts, loaded inside `run`.
 */
import { defineStage, file, input, inputs, type ContextOf } from '../../pipeline/stage.js';
import { CV_RESULTS } from '../lib/tables/recommend-tables.js';
import { cvTrainStage } from './cv-train.js';
import { importDataStage } from '../data/import-data.js';
import { recommendParams } from '../data/import-params.js';

const declaration = {
  name: 'recommend',
  description: 'l* by mean cross-validated accuracy, with its plausible set and intervals, vs training from scratch',
  module: import.meta.url,
  params: recommendParams,
  inputs: { data: input(importDataStage), runs: inputs(cvTrainStage) },
  outputs: {
    /** One row per fold run: mode (`scratch` for scratch), depth or setting (null for scratch), fold, accuracy. */
    cv_results: CV_RESULTS.output(),
    /** The answer, with every mode's mean and interval per depth. */
    recommendation: file('recommendation.json'),
    /** The short report `defrost recommend` prints. */
    report: file('report.txt'),
  },
} as const;
export type RecommendContext = ContextOf<typeof declaration>;

export const recommendStage = defineStage({
  ...declaration,
  async run(ctx) {
    const { runRecommendSummary } = await import('./summary-job.js');
    const summary = await runRecommendSummary(ctx);
    ctx.log(String(summary.report));
    return { summary };
  },
});
