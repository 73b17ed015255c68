import { blockRange, type TransferModeDefinition } from './mode.js';

/** ULMFiT's factor: each block learns 2.6 times slower than the one above it. */
const ULMFIT_DECAY = 0.385;

/**
 * `llrd`, layer-wise learning-rate decay or discriminative fine-tuning (Howard & Ruder 2018;
 * docs/science.md#beyond-freezing-a-prefix): every block from the source, all learn, block b at the
 * learning rate times gamma^(L + 1 - b) (the readout at the full rate). gamma = 1 is full
 * fine-tuning, gamma -> 0 approaches training the readout alone: a soft version of the prefix.
 */
export const llrdMode: TransferModeDefinition<'llrd'> = {
  name: 'llrd',
  caption: 'copy every block, fine-tune all, block b at learning rate x gamma^(L+1-b)',
  copied: (_gamma, blocks) => blockRange(1, blocks),
  setting: {
    coordinate: 'setting',
    symbol: 'γ',
    caption: 'the decay factor gamma per block down from the readout (ULMFiT: 1/2.6 = 0.385, the default)',
    integer: false,
    defaults: () => [ULMFIT_DECAY],
    all: () => null,
    check: (gamma) => (gamma > 0 && gamma <= 1 ? null : 'gamma is a number in (0, 1]'),
  },
  schedule: (gamma, blocks) => [
    { trained: blockRange(1, blocks), rateScale: blockRange(1, blocks).map((b) => gamma ** (blocks + 1 - b)), length: 'converge' },
  ],
};
