/**
 * Applies a transfer mode (./transfer-modes/) to TensorFlow.js networks: the network a transfer
 * starts from (docs/science.md#two-ways-to-transfer) is a fresh target network (seeded init of
 * every block and the readout) with the mode's blocks copied from the source and its frozen blocks
 * made untrainable. The readout is always the fresh one, sized for the target classes.
 */
import type * as tf from '@tensorflow/tfjs';
import { blockCount, copyBlocks, setBlocksTrainable } from './models.js';
import { transferModeOf, type TransferMode } from './transfer-modes/registry.js';

export function prepareTransfer(target: tf.LayersModel, source: tf.LayersModel, mode: TransferMode, depth: number): void {
  const L = blockCount(target);
  if (blockCount(source) !== L)
    throw new Error(`the source network has ${blockCount(source)} hidden blocks but model.hidden describes ${L}`);
  if (depth < 0 || depth > L) throw new Error(`depth ${depth} is outside 0..${L}`);
  const definition = transferModeOf(mode);
  copyBlocks(source, target, definition.copied(depth, L));
  setBlocksTrainable(target, definition.frozen(depth, L), false);
}
