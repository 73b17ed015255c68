/**
 * Applies a transfer mode (./transfer-modes/) to TensorFlow.js networks: the network a transfer
 * starts from (docs/science.md#transfer-modes) is a fresh target network (seeded init of
 * every block and the readout) with the mode's blocks copied from the source, made to learn as the
 * first phase of the mode's schedule says. The readout is always the fresh one, sized for the
 * target classes. The schedule is returned for the training loop (`trainNetwork`'s `schedule`).
 */
import type * as tf from '@tensorflow/tfjs';
import { blockCount, copyBlocks } from './models.js';
import { setPhaseTrainable } from './phases.js';
import { scheduleOf, type TrainingPhase } from './transfer-modes/mode.js';
import { transferModeOf, type TransferMode } from './transfer-modes/registry.js';

/**
 * Prepares `target` for a transfer from `source` in `mode` at `setting` (the depth l, or the
 * mode's own setting) with the mode's `options`; returns its training schedule.
 */
export function prepareTransfer(
  target: tf.LayersModel,
  source: tf.LayersModel,
  mode: TransferMode,
  setting: number,
  options: Readonly<Record<string, number>> = {},
): TrainingPhase[] {
  const L = blockCount(target);
  if (blockCount(source) !== L)
    throw new Error(`the source network has ${blockCount(source)} hidden blocks but model.hidden describes ${L}`);
  const definition = transferModeOf(mode);
  const schedule = scheduleOf(definition, setting, L, options);
  copyBlocks(source, target, definition.copied(setting, L));
  setPhaseTrainable(target, schedule[0]);
  return schedule;
}
