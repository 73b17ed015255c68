/**
 * Applies one phase of a transfer's training schedule (./transfer-modes/mode.ts, `TrainingPhase`)
 * to a TensorFlow.js network: which layers learn (the phase's blocks and the readout), and each
 * learning layer's tuning for the train step (learning-rate multiplier, L2-SP pull and its anchor;
 * docs/science.md#beyond-freezing-a-prefix). The training loop (./training.ts) calls it at the
 * start of every phase.
 *
 * Imports TensorFlow.js statically: load with `await import(...)` from stage code.
 */
import type * as tf from '@tensorflow/tfjs';
import { PLAIN_LAYER, type LayerTuning } from '../kernels/native-trainer.js';
import { blockCount, blockLayers, readoutLayer } from './models.js';
import type { TrainingPhase } from './transfer-modes/mode.js';

/** The weights of the anchored blocks' layers when training starts (by layer name): what L2-SP pulls to. */
export type Anchors = ReadonlyMap<string, readonly Float32Array[]>;

/** A copy of the weights of every layer of `blocks` (the anchors of L2-SP). */
export function anchorsOf(model: tf.LayersModel, blocks: readonly number[]): Anchors {
  const anchors = new Map<string, Float32Array[]>();
  for (const block of blocks)
    for (const layer of blockLayers(model, block))
      if (layer.getWeights().length > 0)
        anchors.set(
          layer.name,
          layer.getWeights().map((w) => (w.dataSync() as Float32Array).slice()),
        );
  return anchors;
}

/** Sets which layers of `model` learn in `phase`: its blocks and the readout; every other hidden block is frozen. */
export function setPhaseTrainable(model: tf.LayersModel, phase: TrainingPhase): void {
  const L = blockCount(model);
  for (let block = 1; block <= L; block++) for (const layer of blockLayers(model, block)) layer.trainable = phase.trained.includes(block);
  readoutLayer(model).trainable = true;
}

/**
 * The tuning of every learning layer in `phase`, by layer name: block b's learning-rate multiplier,
 * and with a pull, alpha towards the anchors for an anchored block, beta towards zero for the rest.
 * Empty when the phase changes nothing about the plain step.
 */
export function phaseTuning(model: tf.LayersModel, phase: TrainingPhase, anchors: Anchors): Map<string, LayerTuning> {
  const tuning = new Map<string, LayerTuning>();
  const { rateScale, pull } = phase;
  if (rateScale === undefined && pull === undefined) return tuning;
  const tune = (layer: tf.layers.Layer, block: number | null): void => {
    // A layer without weights (pooling, an activation, a reshape) has nothing to tune or anchor.
    if (layer.getWeights().length === 0) return;
    const scale = block === null ? 1 : (rateScale?.[block - 1] ?? 1);
    const anchored = pull !== undefined && block !== null && pull.anchored.includes(block);
    const anchor = anchored ? anchors.get(layer.name) : undefined;
    if (anchored && anchor === undefined) throw new Error(`no anchor for layer ${layer.name} of block ${block}`);
    const strength = pull === undefined ? 0 : anchored ? pull.alpha : pull.beta;
    tuning.set(layer.name, { ...PLAIN_LAYER, rateScale: scale, pull: strength, anchor: anchor ?? null });
  };
  for (const block of phase.trained) for (const layer of blockLayers(model, block)) tune(layer, block);
  tune(readoutLayer(model), null);
  return tuning;
}
