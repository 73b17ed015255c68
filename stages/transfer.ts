/** Placeholder for the `transfer` stage: its owner replaces this file (keep the export name). */
import { defineStage } from '../pipeline/stage.js';
import { StageFailure } from '../pipeline/errors.js';

export const transferStage = defineStage({
  name: 'transfer',
  description: '(not built yet)',
  code: ['stages/transfer.ts'],
  async run() {
    throw new StageFailure('stage transfer is not built yet');
  },
});
