/** Placeholder for the `train-source` stage: its owner replaces this file (keep the export name). */
import { defineStage } from '../pipeline/stage.js';
import { StageFailure } from '../pipeline/errors.js';

export const trainSourceStage = defineStage({
  name: 'train-source',
  description: '(not built yet)',
  code: ['stages/train-source.ts'],
  async run() {
    throw new StageFailure('stage train-source is not built yet');
  },
});
