import { MODE_OPTIONS } from './options.js';
import { blockRange, type TransferModeDefinition } from './mode.js';

/** The blocks surgical fine-tuning trains at block b: b and the `width` - 1 blocks above it. */
const group = (b: number, options: Readonly<Record<string, number>>): number[] => blockRange(b, b + (options.width ?? 1) - 1);

/**
 * `surgical` (Lee et al. 2023; docs/science.md#beyond-freezing-a-prefix): every block from the
 * source, only block b (or the contiguous group b..b+width-1) and the new readout learn; the swept
 * setting is b. Tuning the first block suits a shift of the inputs, the last one a shift of the rule.
 */
export const surgicalMode: TransferModeDefinition<'surgical'> = {
  name: 'surgical',
  caption: 'copy every block, train only block b (and the readout)',
  copied: (_b, blocks) => blockRange(1, blocks),
  setting: {
    coordinate: 'setting',
    symbol: 'b',
    caption: 'the block that learns (the first of the group with width > 1)',
    integer: true,
    defaults: (blocks, options) => blockRange(1, blocks - (options.width ?? 1) + 1),
    all: (blocks, options) => blockRange(1, blocks - (options.width ?? 1) + 1),
    check: (b, blocks, options) => {
      const last = blocks - (options.width ?? 1) + 1;
      return Number.isInteger(b) && b >= 1 && b <= last
        ? null
        : `b is a whole number in 1..${last} (L = ${blocks}, width ${options.width ?? 1})`;
    },
  },
  options: MODE_OPTIONS.surgical,
  schedule: (b, _blocks, options) => [{ trained: group(b, options), length: 'converge' }],
};
