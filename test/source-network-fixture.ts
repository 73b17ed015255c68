/**
 * A source network from outside defrost: built with plain TensorFlow.js layers code, layer names
 * of its own, saved as model.json + a weights shard the way TensorFlow.js writes them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Saves `model` in the TensorFlow.js layers format under `dir`; returns the model.json path. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const bytes = Buffer.concat((Array.isArray(data) ? data : data ? [data] : []).map((b) => Buffer.from(b)));
      writeFileSync(join(dir, 'group1-shard1of1.bin'), bytes);
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: 'a test',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  return join(dir, 'model.json');
}

/** A small CNN for 8x8x1 images: conv-pool, conv, flatten, dense, softmax readout (3 blocks). */
export function foreignCnn(inputShape: [number, number, number] = [8, 8, 1], classes = 3): tf.LayersModel {
  return tf.sequential({
    name: 'my_cnn',
    layers: [
      tf.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem_conv' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'stem_pool' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'mid_conv' }),
      tf.layers.activation({ activation: 'relu', name: 'mid_relu' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 8, activation: 'tanh', name: 'features' }),
      tf.layers.dense({ units: classes, activation: 'softmax', name: 'probabilities' }),
    ],
  });
}
