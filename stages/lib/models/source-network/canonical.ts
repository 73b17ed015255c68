/**
 * Turns a pre-trained network (topology.ts) into the form every defrost training stage works
 * with (stages/lib/models/models.ts): layers renamed `block<i>_<own name>` by block, the readout renamed
 * `readout` and made linear (it emits logits; the loss applies the softmax), anything after the
 * readout dropped. The weights are the network's own. `targetNetworkLike` then builds the
 * network a target task trains: the same blocks, a fresh readout for the target classes, every
 * weight drawn from seeded streams, so a run is a pure function of its key as for defrost's own
 * networks.
 *
 * Imports TensorFlow.js statically: load it with `await import(...)` from stage code.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../../../../pipeline/stage.js';
import { Rng } from '../../random.js';
import type { SourceBlocks, SourceModelFile } from './topology.js';

const RECTIFIERS = new Set(['relu', 'relu6', 'elu', 'selu', 'swish', 'gelu']);

/** The canonical name of each kept layer: `block<i>_<name>` or `readout`. */
export function canonicalNames(blocks: SourceBlocks): Map<string, string> {
  const names = new Map<string, string>();
  // A defrost network's own layers (`block2_conv`) keep their names.
  blocks.blocks.forEach((group, b) =>
    group.forEach((name) => names.set(name, name.startsWith(`block${b + 1}_`) ? name : `block${b + 1}_${name}`)),
  );
  names.set(blocks.readout, 'readout');
  return names;
}

/** A Sequential topology of the canonical chain; `readoutUnits` sizes the readout. */
function canonicalTopology(model: SourceModelFile, blocks: SourceBlocks, readoutUnits: number | null): JsonObject {
  const names = canonicalNames(blocks);
  const layers: JsonObject[] = [];
  for (const layer of model.topology.layers) {
    const name = names.get(layer.name);
    if (name === undefined) continue; // dropped after the readout
    const config: JsonObject = { ...layer.config, name };
    if (name === 'readout') {
      config.activation = 'linear';
      if (readoutUnits !== null) config.units = readoutUnits;
    }
    if (layers.length === 0) config.batch_input_shape = [null, ...model.topology.inputShape];
    else delete config.batch_input_shape;
    delete config.batch_shape;
    delete config.input_shape;
    layers.push({ class_name: layer.className, config });
  }
  return { class_name: 'Sequential', config: { name: 'defrost_source', layers } };
}

/** Loads the network as its author saved it (for its weights). */
async function loadOriginal(model: SourceModelFile): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(model.modelJson, 'utf8')) as tf.io.ModelJSON;
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const shards = await Promise.all(model.weightFiles.map((f) => readFile(f)));
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

/** The pre-trained network in canonical form, with its own weights (source readout included). */
export async function canonicalSourceNetwork(model: SourceModelFile, blocks: SourceBlocks): Promise<tf.LayersModel> {
  const original = await loadOriginal(model);
  try {
    const canonical = await tf.models.modelFromJSON({ modelTopology: canonicalTopology(model, blocks, null) });
    for (const [from, to] of canonicalNames(blocks)) canonical.getLayer(to).setWeights(original.getLayer(from).getWeights());
    return canonical;
  } finally {
    original.dispose();
  }
}

/** Whether a block's kernels should get He (rectifier) or Glorot scaling. */
function isRectified(model: tf.LayersModel, block: number): boolean {
  return model.layers
    .filter((l) => l.name.startsWith(`block${block}_`))
    .some((l) => {
      const config = l.getConfig();
      const activation = typeof config.activation === 'string' ? config.activation : null;
      return (activation !== null && RECTIFIERS.has(activation)) || ['ReLU', 'ELU', 'LeakyReLU'].includes(l.getClassName());
    });
}

/**
 * Seeded init of every weight of `model` (streams `<scope>/<layer name>`): dense/conv kernels
 * He-uniform in rectified blocks and Glorot-uniform otherwise (and in the readout), as
 * stages/lib/models/models.ts does for defrost's own networks; biases and batch-norm shifts and means 0,
 * batch-norm scales and variances 1.
 */
export function initializeLike(model: tf.LayersModel, seed: number, scope: string): void {
  for (const layer of model.layers) {
    const weights = layer.weights;
    if (weights.length === 0) continue;
    const block = /^block(\d+)_/.exec(layer.name);
    const rectified = block !== null && isRectified(model, Number(block[1]));
    const rng = new Rng(seed, `${scope}/${layer.name}`);
    const values = weights.map((w) => {
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      const base = w.originalName.split('/').pop() ?? w.originalName;
      if (/kernel/.test(base) && shape.length >= 2) {
        const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
        const fanIn = receptive * shape[shape.length - 2];
        const fanOut = receptive * shape[shape.length - 1];
        const limit = rectified ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
        for (let k = 0; k < size; k++) data[k] = (2 * rng.uniform() - 1) * limit;
      } else if (/gamma|moving_variance/.test(base)) data.fill(1);
      else if (!/bias|beta|moving_mean/.test(base))
        throw new Error(`layer ${layer.name} (${layer.getClassName()}) has a weight "${base}" defrost cannot initialise`);
      return tf.tensor(data, shape, 'float32');
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/**
 * The network a target task trains, shaped like the canonical source `source`: same blocks, a
 * readout of `classes` units, all weights from the seeded streams of `scope` (transfer then copies
 * blocks from the source, as for defrost's own networks).
 */
export async function targetNetworkLike(source: tf.LayersModel, classes: number, seed: number, scope: string): Promise<tf.LayersModel> {
  // A JSON copy of the topology (plain data), with the readout resized.
  const topology = JSON.parse(JSON.stringify(source.toJSON(null, false))) as JsonObject;
  const layers = (topology.config as JsonObject).layers as JsonObject[];
  for (const layer of layers) {
    const config = layer.config as JsonObject;
    if (config.name === 'readout') config.units = classes;
  }
  const model = await tf.models.modelFromJSON({ modelTopology: topology });
  initializeLike(model, seed, scope);
  return model;
}
