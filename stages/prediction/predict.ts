/**
 * `predict` (docs/prediction.md): scores every transfer depth of one cell (correlation, n) with
 * three predictors that need no transfer training, and writes `prediction.arrow` and `band.arrow`
 * (see `predict-job.ts`). `aggregate` scores the predictions against the study.
 *
 * The work is in `predict-job.ts`, loaded on demand, so the scheduler never loads TensorFlow.js.
 */
import { z } from 'zod';
import { defineStage, input, inputs, table, type ContextOf, type StageOutcome } from '../../pipeline/stage.js';
import { baselineStage } from '../similarity/baseline.js';
import { correlationSchema, countSchema, seedSchema } from '../config/schema.js';
import { generateDataStage } from '../data/generate-data.js';
import { similarityStage } from '../similarity/similarity.js';
import { trainScratchStage } from '../training/train-scratch.js';
import { importSourceStage } from '../data/import-source.js';
import { trainSourceStage } from '../training/train-source.js';

export const predictParams = z.strictObject({
  correlation: correlationSchema.nullable(),
  n: countSchema,
  /** The seed whose source network and training subset the feature predictors use. */
  seed: seedSchema,
});

const declaration = {
  name: 'predict',
  description: 'per-depth scores without transfer training: similarity vs same-task band, LogME, nearest-centroid probe',
  module: import.meta.url,
  params: predictParams,
  inputs: {
    /** The target dataset: its pool holds the n training samples. */
    data: input(generateDataStage),
    /** The source network: trained by the study, or the imported `source_model` (docs/your-data.md). */
    source: input(trainSourceStage, importSourceStage),
    /** Source vs target reference network. */
    similarity: input(similarityStage),
    /** Every same-task pair of reference networks. */
    baselines: inputs(baselineStage),
    /** The reference networks the band compares (their cost is the band predictor's). */
    references: inputs(trainScratchStage),
  },
  outputs: {
    prediction: table('prediction.arrow', {
      correlation: 'Float64',
      n: 'Int32',
      predictor: 'Utf8',
      depth: 'Int32',
      score: 'Float64',
      predicted_depth: 'Int32',
    }),
    band: table('band.arrow', {
      correlation: 'Float64',
      block: 'Int32',
      measure: 'Utf8',
      value: 'Float64',
      low: 'Float64',
      high: 'Float64',
      pairs: 'Int32',
      inside: 'Bool',
    }),
  },
} as const;

/** What `predict-job.ts` gets: the context of this declaration. */
export type PredictContext = ContextOf<typeof declaration>;

export const predictStage = defineStage({
  ...declaration,
  async run(ctx): Promise<StageOutcome> {
    const { runPredict } = await import('./predict-job.js');
    return runPredict(ctx);
  },
});
