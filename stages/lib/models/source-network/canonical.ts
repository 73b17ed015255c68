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
import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../../../../pipeline/stage.js';
import { Rng } from '../../random.js';
import '../layers/register.js';
import type { LayerSpec } from '../onnx/import.js';
import { functionalTopology, layersArtifacts } from '../onnx/layers-artifacts.js';
import { readSourceFiles, type SourceBlocks, type SourceModelFile } from './topology.js';

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

/** The input layer of a network taking samples of `inputShape`, named `name`. */
function inputLayer(name: string, inputShape: readonly number[]): LayerSpec {
  return {
    name,
    className: 'InputLayer',
    config: { batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false, name },
    inbound: [],
  };
}

/**
 * The functional topology of the canonical network (layers renamed, the readout linear, anything
 * after it dropped; the input layer `input`).
 */
function canonicalTopology(model: SourceModelFile, blocks: SourceBlocks): JsonObject {
  const names = canonicalNames(blocks);
  names.set(model.topology.inputName, 'input');
  const layers: LayerSpec[] = [inputLayer('input', model.topology.inputShape)];
  for (const layer of model.topology.layers) {
    const name = names.get(layer.name);
    if (name === undefined) continue; // dropped after the readout
    const config: JsonObject = { ...layer.config, name };
    if (name === 'readout') config.activation = 'linear';
    layers.push({ name, className: layer.className, config, inbound: layer.inbound.map((i) => names.get(i) ?? i) });
  }
  return functionalTopology('defrost_source', layers, 'readout');
}

/**
 * Loads the network as its author saved it (for its weights). An ONNX network was imported from
 * the bytes its sha256 names; a model.json and its weights are read again, and must be the bytes
 * topology.ts checked (`readSourceFiles`), else nothing is loaded.
 */
async function loadOriginal(model: SourceModelFile): Promise<tf.LayersModel> {
  if (model.format === 'onnx') {
    const { modelTopology, weightSpecs, weightData } = layersArtifacts(model.network);
    return tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));
  }
  const [jsonBytes, ...shards] = readSourceFiles(model);
  const json = JSON.parse(jsonBytes.toString('utf8')) as tf.io.ModelJSON;
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  // The graph as topology.ts read it (Keras 3 spellings normalised), with the author's layer names.
  const { inputName, inputShape, layers } = model.topology;
  const last = layers[layers.length - 1].name;
  const modelTopology = functionalTopology('original', [inputLayer(inputName, inputShape), ...layers], last);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs: specs, weightData }));
}

/** The pre-trained network in canonical form, with its own weights (source readout included). */
export async function canonicalSourceNetwork(model: SourceModelFile, blocks: SourceBlocks): Promise<tf.LayersModel> {
  const original = await loadOriginal(model);
  try {
    const canonical = await tf.models.modelFromJSON({ modelTopology: canonicalTopology(model, blocks) });
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
        // A depthwise kernel [kh, kw, C, k] connects each channel to its own k outputs only.
        const depthwise = base === 'depthwise_kernel';
        const fanIn = receptive * (depthwise ? 1 : shape[shape.length - 2]);
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
