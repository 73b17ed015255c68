import { blockRange, type TransferModeDefinition } from './mode.js';

/** `defrost`: every hidden block from the source; blocks 1..l frozen, l+1..L fine-tuned (l = L: the standard protocol). */
export const defrostMode: TransferModeDefinition<'defrost'> = {
  name: 'defrost',
  caption: 'copy every block, freeze blocks 1..l, fine-tune the rest',
  about:
    'all L hidden blocks start from the source weights; blocks l+1..L are fine-tuned and the readout is new. ' +
    'l = L is the standard protocol (only the readout learns), l = 0 is full fine-tuning',
  copied: (_depth, blocks) => blockRange(1, blocks),
  frozen: (depth) => blockRange(1, depth),
};
