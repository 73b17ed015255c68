/**
 * `train-scratch` (docs/training.md): the baseline of every transfer, a network trained from scratch on the first n
 * target samples; at n = `task.target_reference_size` it is also the target reference network
 * that `similarity` compares with the source network (so it keeps its `model/`).
 */
import { input, type ContextOf } from '../pipeline/stage.js';
import { generateDataStage } from './generate-data.js';
import { NETWORK_OUTPUTS, trainingStage, trainScratchParams } from './training-stage.js';

const declaration = {
  name: 'train-scratch',
  description: 'train a network from scratch on the first n target samples (baseline and reference)',
  module: import.meta.url,
  params: trainScratchParams,
  inputs: { data: input(generateDataStage) },
  outputs: NETWORK_OUTPUTS,
} as const;

/** What `training-job.ts` gets: the context of this declaration. */
export type TrainScratchContext = ContextOf<typeof declaration>;

export const trainScratchStage = trainingStage({ ...declaration, job: (job, ctx) => job.runTrainScratch(ctx) });
