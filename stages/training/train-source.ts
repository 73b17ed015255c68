/**
 * `train-source` (docs/training.md): trains the source network from scratch on the whole source pool and stores it
 * (`model/`), its training curve and its test metrics. Every transfer of the same seed starts
 * from it, and `similarity` compares it with the target reference network.
 */
import { input, type ContextOf } from '../../pipeline/stage.js';
import { generateDataStage } from '../data/generate-data.js';
import { NETWORK_OUTPUTS, trainingStage, trainSourceParams } from './training-stage.js';

const declaration = {
  name: 'train-source',
  description: 'train the source network on the source pool; store it, its curve and test metrics',
  module: import.meta.url,
  params: trainSourceParams,
  inputs: { data: input(generateDataStage) },
  outputs: NETWORK_OUTPUTS,
} as const;

/** What `training-job.ts` gets: the context of this declaration. */
export type TrainSourceContext = ContextOf<typeof declaration>;

export const trainSourceStage = trainingStage({ ...declaration, job: (job, ctx) => job.runTrainSource(ctx) });
