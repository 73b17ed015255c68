/** Placeholder for the `aggregate` stage: its owner replaces this file (keep the export name). */
import { defineStage } from '../pipeline/stage.js';
import { StageFailure } from '../pipeline/errors.js';

export const aggregateStage = defineStage({
  name: 'aggregate',
  description: '(not built yet)',
  code: ['stages/aggregate.ts'],
  async run() {
    throw new StageFailure('stage aggregate is not built yet');
  },
});
