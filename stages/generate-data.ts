/** Placeholder for the `generate-data` stage: its owner replaces this file (keep the export name). */
import { defineStage } from '../pipeline/stage.js';
import { StageFailure } from '../pipeline/errors.js';

export const generateDataStage = defineStage({
  name: 'generate-data',
  description: '(not built yet)',
  code: ['stages/generate-data.ts'],
  async run() {
    throw new StageFailure('stage generate-data is not built yet');
  },
});
