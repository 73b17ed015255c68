/**
 * `train-scratch` (docs/training.md): the baseline of every transfer, a network trained from scratch on the first n
 * target samples; at n = `task.target_reference_size` it is also the target reference network
 * that `similarity` compares with the source network (so it keeps its `model/`). With a
 * pre-trained `source_model` its architecture is that network's, freshly initialised.
 */
import { input, inputs, type ContextOf } from '../../pipeline/stage.js';
import { generateDataStage } from '../data/generate-data.js';
import { importSourceStage } from '../data/import-source.js';
import { NETWORK_OUTPUTS, trainingStage, trainScratchParams } from './training-stage.js';

const declaration = {
  name: 'train-scratch',
  description: 'train a network from scratch on the first n target samples (baseline and reference)',
  module: import.meta.url,
  params: trainScratchParams,
  inputs: {
    data: input(generateDataStage),
    /**
     * With `source_model` (params `model: null`): the imported network, whose architecture the
     * scratch network takes with fresh weights (docs/your-data.md); empty otherwise.
     */
    architecture: inputs(importSourceStage),
  },
  outputs: NETWORK_OUTPUTS,
} as const;

/** What `training-job.ts` gets: the context of this declaration. */
export type TrainScratchContext = ContextOf<typeof declaration>;

export const trainScratchStage = trainingStage({ ...declaration, job: (job, ctx) => job.runTrainScratch(ctx) });
