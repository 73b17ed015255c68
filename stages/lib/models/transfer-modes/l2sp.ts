import { MODE_OPTIONS } from './options.js';
import { blockRange, type TransferModeDefinition } from './mode.js';

/**
 * `l2sp` (Li, Grandvalet & Davoine 2018; docs/science.md#beyond-freezing-a-prefix): every block
 * from the source, all learn, and the loss gains (alpha / 2) ||w - w_source||^2 over the copied
 * blocks (and (beta / 2) ||w||^2 over the new readout): fine-tuning on a leash. alpha = 0 (with
 * beta = 0) is full fine-tuning bit for bit; a large alpha keeps the blocks near the source's.
 */
export const l2spMode: TransferModeDefinition<'l2sp'> = {
  name: 'l2sp',
  caption: 'copy every block, fine-tune all with an L2 pull of strength alpha to the source weights',
  copied: (_alpha, blocks) => blockRange(1, blocks),
  setting: {
    coordinate: 'setting',
    symbol: 'α',
    caption: 'the strength alpha of the pull to the source weights (Li et al. mostly use 0.1, the default)',
    integer: false,
    defaults: () => [0.1],
    all: () => null,
    check: (alpha) => (Number.isFinite(alpha) && alpha >= 0 ? null : 'alpha is a number >= 0'),
  },
  options: MODE_OPTIONS.l2sp,
  schedule: (alpha, blocks, options) => [
    { trained: blockRange(1, blocks), pull: { alpha, beta: options.beta, anchored: blockRange(1, blocks) }, length: 'converge' },
  ],
};
