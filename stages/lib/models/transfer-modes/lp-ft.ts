import { blockRange, DEPTH_SETTING, type TransferModeDefinition } from './mode.js';

/**
 * `lp-ft` (Kumar et al. 2022; docs/science.md#beyond-freezing-a-prefix): every block from the
 * source; phase 1 trains only the new readout on the frozen features (a linear probe) until early
 * stopping, phase 2 then fine-tunes blocks l+1..L with it until early stopping. The paper's LP-FT is
 * l = 0 (the default); a fine-tuned readout no longer tears at the features it starts from.
 */
export const lpFtMode: TransferModeDefinition<'lp-ft'> = {
  name: 'lp-ft',
  caption: 'copy every block, train the readout alone, then fine-tune blocks l+1..L with it',
  copied: (_l, blocks) => blockRange(1, blocks),
  setting: { ...DEPTH_SETTING, caption: 'depth l: blocks 1..l stay frozen in phase 2 too', defaults: () => [0] },
  schedule: (l, blocks) => [
    { trained: [], length: 'converge' },
    { trained: blockRange(l + 1, blocks), length: 'converge' },
  ],
};
