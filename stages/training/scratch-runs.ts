/**
 * `train-scratch` in the l* table: one run per cell (correlation, n, seed), the baseline every
 * depth is compared with (mode `scratch`, no depth).
 */
import { SCRATCH_MODE } from '../lib/models/transfer-modes/registry.js';
import type { AnswerStage } from './answer-stage.js';
import { trainScratchStage } from './train-scratch.js';

export const scratchRuns: AnswerStage<typeof trainScratchStage> = {
  stage: trainScratchStage,
  plan: (cell) => [cell.scratch(cell.n, cell.seed)],
  place: () => ({ mode: SCRATCH_MODE, depth: null, setting: null }),
};
