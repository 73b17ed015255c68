import { MODE_OPTIONS } from './options.js';
import { blockRange, DEPTH_SETTING, type TrainingPhase, type TransferModeDefinition } from './mode.js';

/**
 * `gradual`, gradual unfreezing (Howard & Ruder 2018; docs/science.md#beyond-freezing-a-prefix):
 * every block from the source; the readout trains alone for one stage, then block L joins it for a
 * stage, then block L-1, and so on; the last stage, with blocks l+1..L learning, runs until early
 * stopping. ULMFiT unfreezes down to the first layer (l = 0, the default) with a stage of one epoch;
 * a stage here is `stage_steps` optimizer steps, since an epoch of n = 20 samples is a single step.
 */
export const gradualMode: TransferModeDefinition<'gradual'> = {
  name: 'gradual',
  caption: 'copy every block, unfreeze from the top one block per stage down to block l+1',
  copied: (_l, blocks) => blockRange(1, blocks),
  setting: { ...DEPTH_SETTING, caption: 'depth l: blocks 1..l are never unfrozen', defaults: () => [0] },
  options: MODE_OPTIONS.gradual,
  schedule: (l, blocks, options) => {
    const stages: TrainingPhase[] = [];
    // Stage k trains the readout and the top k blocks, k = 0 .. L - l - 1; the last one, L - l blocks.
    for (let k = 0; k < blocks - l; k++)
      stages.push({ trained: blockRange(blocks - k + 1, blocks), length: { steps: options.stage_steps } });
    stages.push({ trained: blockRange(l + 1, blocks), length: 'converge' });
    return stages;
  },
};
