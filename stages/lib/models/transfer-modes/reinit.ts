import { blockRange, type TransferModeDefinition } from './mode.js';

/** `reinit`: blocks 1..l copied and frozen, blocks l+1..L re-initialised (l = 0: training from scratch). */
export const reinitMode: TransferModeDefinition<'reinit'> = {
  name: 'reinit',
  caption: 'copy and freeze blocks 1..l, re-initialise the rest',
  about: 'blocks l+1..L and the readout start from a fresh random initialisation. At l = 0 this is training from scratch',
  copied: (depth) => blockRange(1, depth),
  frozen: (depth) => blockRange(1, depth),
};
