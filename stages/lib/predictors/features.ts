/**
 * The frozen features a depth predictor scores: what the trainable part of the network sees when
 * depth l is frozen. Depth 0 is the input itself (flattened); depth l >= 1 is the source
 * network's block-l output. Convolutional block outputs are averaged over their spatial positions
 * (one feature per channel, as transferability estimators use pooled features): the flattened
 * map would have thousands of correlated columns and make LogME's eigendecomposition the cost.
 *
 * Heavy (TensorFlow.js): loaded only by the predict job.
 */
import * as tf from '@tensorflow/tfjs';
import { blockLayers, hiddenBlockOutputs } from '../models/models.js';
import type { FeatureMatrix } from './logme.js';

/** Channels of a block whose output is a [N, H, W, C] map; null for a flat (dense) block. */
function convChannels(model: tf.LayersModel, block: number): number | null {
  const last = blockLayers(model, block).at(-1);
  const shape = last?.outputShape as (number | null)[] | undefined;
  return shape !== undefined && shape.length === 4 ? (shape[3] as number) : null;
}

/** Features at depth 0..L of `rows` inputs (flat Float32, `rows x dim`). */
export function depthFeatures(model: tf.LayersModel, inputs: Float32Array, rows: number): FeatureMatrix[] {
  const dim = inputs.length / Math.max(1, rows);
  const x = tf.tensor2d(inputs, [rows, dim]);
  try {
    const outputs = hiddenBlockOutputs(model, x);
    const features: FeatureMatrix[] = [{ rows, cols: dim, data: Float64Array.from(inputs) }];
    outputs.forEach((flat, i) => {
      const channels = convChannels(model, i + 1);
      const pooled = channels === null ? flat : tf.tidy(() => flat.reshape([rows, -1, channels]).mean(1));
      const values = pooled.dataSync();
      features.push({ rows, cols: values.length / rows, data: Float64Array.from(values) });
      if (pooled !== flat) pooled.dispose();
    });
    tf.dispose(outputs);
    return features;
  } finally {
    x.dispose();
  }
}
