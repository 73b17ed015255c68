/**
 * `predict` (docs/prediction.md): scores every transfer depth of one cell (correlation, n) with
 * three predictors that need no transfer training, and writes `prediction.arrow` and `band.arrow`
 * (see `predict-job.ts`). `aggregate` scores the predictions against the study.
 *
 * The work is in `predict-job.ts`, loaded on demand, so the scheduler never loads TensorFlow.js.
 */
import { z } from 'zod';
import { defineStage, input, inputs, type ContextOf, type StageOutcome } from '../../pipeline/stage.js';
import { baselineStage } from '../similarity/baseline.js';
import { correlationSchema, countSchema, seedSchema } from '../config/schema.js';
import { generateDataStage } from '../data/generate-data.js';
import { BAND, PREDICTION } from '../lib/tables/prediction-tables.js';
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

/**
 * What `predict` reports besides its tables: timings are not results (the same key gives the
 * same bytes), so they travel here; the report's section reads them (`section-job.ts`).
 */
export const predictSummary = z.strictObject({
  /** Each predictor's l* for the cell. */
  predicted: z.record(z.string(), z.number().int().nullable()),
  /** Each predictor's compute in seconds, the feature extraction it needs included. */
  seconds: z.record(z.string(), z.number()),
  /** The compute of the band predictor's inputs (similarity, baselines, reference networks), shared by every n of the correlation. */
  shared_seconds: z.record(z.string(), z.number()),
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
    prediction: PREDICTION.output(),
    band: BAND.output(),
  },
  summary: predictSummary,
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
