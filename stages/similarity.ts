/** Placeholder for the `similarity` stage: its owner replaces this file (keep the export name). */
import { defineStage } from '../pipeline/stage.js';
import { StageFailure } from '../pipeline/errors.js';

export const similarityStage = defineStage({
  name: 'similarity',
  description: '(not built yet)',
  code: ['stages/similarity.ts'],
  async run() {
    throw new StageFailure('stage similarity is not built yet');
  },
});
