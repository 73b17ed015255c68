/**
 * `cv-train` (docs/your-data.md): one fold of `recommend`'s stratified K-fold cross-validation,
 * for one transfer (mode, depth) or for training from scratch; reports the accuracy on the fold's
 * held-out samples. The work is in cv-job.ts, loaded inside `run`.
 */
import { defineStage, input, inputs, type ContextOf } from '../../pipeline/stage.js';
import { CV_METRICS } from '../lib/tables/recommend-tables.js';
import { importDataStage } from '../data/import-data.js';
import { importSourceStage } from '../data/import-source.js';
import { cvTrainParams } from '../data/import-params.js';
import { prefixStage } from '../training/prefix.js';

const declaration = {
  name: 'cv-train',
  description: 'one cross-validation fold of a transfer (mode, depth) or of training from scratch',
  module: import.meta.url,
  params: cvTrainParams,
  inputs: {
    data: input(importDataStage),
    source: input(importSourceStage),
    /**
     * Block l's outputs on every sample, for a depth that keeps blocks 1..l frozen
     * (docs/performance.md, "Frozen-prefix activations"): when cached, only blocks l+1..L and the
     * readout train, on them. Empty at l = 0, for scratch and for the protocols.
     */
    prefix: inputs(prefixStage),
  },
  outputs: {
    metrics: CV_METRICS.output(),
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
