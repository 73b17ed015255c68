/**
 * `train-scratch` (docs/training.md): the baseline of every transfer, a network trained from scratch on the
 * first n target samples; at n = `task.target_reference_size` it is also the target reference
 * network that `similarity` compares with the source network (so it keeps its `model/`).
 *
 * The work is in `training-job.ts`, loaded on demand so the scheduler never loads TensorFlow.js.
 */
import { defineStage } from '../pipeline/stage.js';
import { TRAINING_CODE } from './train-source.js';
import type { TrainScratchParams } from './training-job.js';

export const trainScratchStage = defineStage<TrainScratchParams>({
  name: 'train-scratch',
  description: 'train a network from scratch on the first n target samples (baseline and reference)',
  code: ['stages/train-scratch.ts', ...TRAINING_CODE],
  async run(ctx) {
    const { runTrainScratch } = await import('./training-job.js');
    return runTrainScratch(ctx);
  },
});
