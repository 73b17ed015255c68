/**
 * `train-source` (docs/training.md): trains the source network from scratch on the whole source pool and
 * stores it (`model/`), its training curve and its test metrics. Every transfer of the same seed
 * starts from it, and `similarity` compares it with the target reference network.
 *
 * The work is in `training-job.ts`, loaded on demand so the scheduler never loads TensorFlow.js.
 */
import { defineStage } from '../pipeline/stage.js';
import type { TrainSourceParams } from './training-job.js';

/** The files whose bytes decide what every training stage computes. */
export const TRAINING_CODE = [
  'stages/training-job.ts',
  'stages/training.ts',
  'stages/train-step.ts',
  'stages/kernels/native-trainer.ts',
  'native/src/trainer.cc',
  'stages/models.ts',
  'stages/dataset-table.ts',
  'stages/random.ts',
] as const;

export const trainSourceStage = defineStage<TrainSourceParams>({
  name: 'train-source',
  description: 'train the source network on the source pool; store it, its curve and test metrics',
  code: ['stages/train-source.ts', ...TRAINING_CODE],
  async run(ctx) {
    const { runTrainSource } = await import('./training-job.js');
    return runTrainSource(ctx);
  },
});
