/** Placeholder for the `train-scratch` stage: its owner replaces this file (keep the export name). */
import { defineStage } from '../pipeline/stage.js';
import { StageFailure } from '../pipeline/errors.js';

export const trainScratchStage = defineStage({
  name: 'train-scratch',
  description: '(not built yet)',
  code: ['stages/train-scratch.ts'],
  async run() {
    throw new StageFailure('stage train-scratch is not built yet');
  },
});
