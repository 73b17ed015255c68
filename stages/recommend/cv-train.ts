/**
 * `cv-train` (docs/your-data.md): one fold of `recommend`'s stratified K-fold cross-validation,
 * for one transfer (mode, depth) or for training from scratch; reports the accuracy on the fold's
 * held-out samples. The work is in cv-job.ts, loaded inside `run`.
 */
import { defineStage, input, table, type ContextOf } from '../../pipeline/stage.js';
import { importDataStage } from '../data/import-data.js';
import { importSourceStage } from '../data/import-source.js';
import { cvTrainParams } from '../data/import-params.js';

const declaration = {
  name: 'cv-train',
  description: 'one cross-validation fold of a transfer (mode, depth) or of training from scratch',
  module: import.meta.url,
  params: cvTrainParams,
  inputs: { data: input(importDataStage), source: input(importSourceStage) },
  outputs: {
    metrics: table('metrics.arrow', {
      fold_accuracy: 'Float64',
      fold_loss: 'Float64',
      validation_accuracy: 'Float64',
      train_steps: 'Int32',
      epochs: 'Int32',
      best_epoch: 'Int32',
    }),
  },
} as const;
export type CvTrainContext = ContextOf<typeof declaration>;

export const cvTrainStage = defineStage({
  ...declaration,
  async run(ctx) {
    const { runCvTrain } = await import('./cv-job.js');
    return { summary: await runCvTrain(ctx) };
  },
});
