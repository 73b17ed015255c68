import { blockRange, type TransferModeDefinition } from './mode.js';

/** `defrost`: every hidden block from the source; blocks 1..l frozen, l+1..L fine-tuned (l = L: the standard protocol). */
export const defrostMode: TransferModeDefinition<'defrost'> = {
  name: 'defrost',
  caption: 'copy every block, freeze blocks 1..l, fine-tune the rest',
  copied: (_depth, blocks) => blockRange(1, blocks),
  frozen: (depth) => blockRange(1, depth),
};
