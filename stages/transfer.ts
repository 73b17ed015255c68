/**
 * `transfer` (docs/science.md#two-ways-to-transfer, docs/training.md): one run of the transfer protocol at (correlation, n, mode, depth,
 * seed). `defrost` copies all L hidden blocks of the source network, freezes blocks 1..depth and
 * fine-tunes the rest with a new readout; `reinit` copies and freezes blocks 1..depth and
 * re-initialises the rest. Stores the curve and test metrics (not the network).
 *
 * The work is in `training-job.ts`, loaded on demand so the scheduler never loads TensorFlow.js.
 */
import { defineStage } from '../pipeline/stage.js';
import { TRAINING_CODE } from './train-source.js';
import type { TransferParams } from './training-job.js';

export const transferStage = defineStage<TransferParams>({
  name: 'transfer',
  description: 'transfer the source network at one depth and mode, fine-tune on n target samples',
  code: ['stages/transfer.ts', ...TRAINING_CODE],
  async run(ctx) {
    const { runTransfer } = await import('./training-job.js');
    return runTransfer(ctx);
  },
});
