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

/**
 * A CNN for 8x8x1 images with the settings a PyTorch export has too: a strided 'same' convolution,
 * BatchNorm, a 'valid' convolution, average and max pooling, flatten, dense, softmax readout.
 */
export function stridedCnn(classes = 3): tf.LayersModel {
  return tf.sequential({
    name: 'my_strided_cnn',
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        name: 'stem_conv',
      }),
      tf.layers.batchNormalization({ name: 'stem_bn' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 2, padding: 'valid', activation: 'relu', name: 'mid_conv' }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'mid_avg' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, name: 'mid_max' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 8, activation: 'tanh', name: 'features' }),
      tf.layers.dense({ units: classes, activation: 'softmax', name: 'probabilities' }),
    ],
  });
}

/** A dense network for 64 features (8x8 images, flattened): two hidden layers, softmax readout. */
export function foreignMlp(classes = 3): tf.LayersModel {
  return tf.sequential({
    name: 'my_mlp',
    layers: [
      tf.layers.dense({ inputShape: [64], units: 16, activation: 'relu', name: 'hidden1' }),
      tf.layers.dropout({ rate: 0.2, name: 'drop' }),
      tf.layers.dense({ units: 8, activation: 'relu', name: 'hidden2' }),
      tf.layers.dense({ units: classes, activation: 'softmax', name: 'probabilities' }),
    ],
  });
}
