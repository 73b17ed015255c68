/**
 * The networks of the study (docs/science.md#networks-and-depth): L hidden blocks followed by a readout, built with
 * tfjs-layers so that blocks can be copied, frozen and re-initialised by index.
 *
 * Layer names are the contract that makes blocks addressable, in a freshly built network and in
 * one loaded from disk alike:
 *   MLP block i (1-based):  `block<i>_dense` (dense + activation)
 *   CNN block i:            `block<i>_conv` (conv, same padding, + activation) [+ `block<i>_pool`]
 *   then (CNN only) `gap` (global average pool), then `readout` (dense, linear: it emits logits;
 *   the softmax is part of the loss).
 *
 * Initialisation does not use tfjs's initializers: every weight is drawn from a named `Rng`
 * stream (`<scope>/<layer name>`), so a network is a pure function of (spec, seed, scope) on
 * every backend, and two networks built with the same seed and scope share the weights of the
 * layers they have in common (a `reinit` transfer at depth 0 *is* the scratch network).
 *
 * This module imports TensorFlow.js statically: stage modules must import it with
 * `await import('./models.js')` (see the conventions on scheduler start-up time).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.js';
import './layers/register.js';
import { INPUT_STATS_KEY, type InputStats } from './input-stats.js';

/** Activations the config allows (`model.activation`), all known to tfjs-layers. */
export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'selu' | 'softplus' | 'swish' | 'linear';

/** Everything that fixes a network's architecture. */
export interface NetworkSpec {
  readonly kind: 'mlp' | 'cnn';
  /** Widths of the L hidden blocks (MLP units or CNN channels). */
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** CNN only: square kernel size. */
  readonly kernelSize: number;
  /** CNN only: 1-based blocks followed by 2x2 max-pooling. */
  readonly poolAfter: readonly number[];
  /** Shape of one input sample: `[dim]` for an MLP, `[height, width, channels]` for a CNN. */
  readonly inputShape: readonly number[];
  /** Readout units: the number of classes. */
  readonly classes: number;
}

const READOUT = 'readout';
const BLOCK_NAME = /^block(\d+)_/;

/** Builds an initialised network. `scope` names the family of init streams (e.g. "target/init"). */
export function buildNetwork(spec: NetworkSpec, seed: number, scope: string): tf.LayersModel {
  const input = tf.input({ shape: [...spec.inputShape], name: 'input', dtype: 'float32' });
  let h: tf.SymbolicTensor = input;
  const L = spec.hidden.length;
  if (spec.kind === 'mlp') {
    if (spec.inputShape.length !== 1) throw new Error(`an MLP takes flat inputs, got shape [${spec.inputShape}]`);
    for (let i = 1; i <= L; i++) {
      h = tf.layers
        .dense({ units: spec.hidden[i - 1], activation: spec.activation, name: `block${i}_dense` })
        .apply(h) as tf.SymbolicTensor;
    }
  } else {
    if (spec.inputShape.length !== 3) throw new Error(`a CNN takes images [height, width, channels], got shape [${spec.inputShape}]`);
    for (let i = 1; i <= L; i++) {
      h = tf.layers
        .conv2d({
          filters: spec.hidden[i - 1],
          kernelSize: spec.kernelSize,
          padding: 'same',
          activation: spec.activation,
          name: `block${i}_conv`,
        })
        .apply(h) as tf.SymbolicTensor;
      if (spec.poolAfter.includes(i)) {
        h = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${i}_pool` }).apply(h) as tf.SymbolicTensor;
      }
    }
    h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
  }
  const logits = tf.layers.dense({ units: spec.classes, name: READOUT }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: logits, name: 'defrost' });
  initializeLayers(model, [...blockIndices(model), READOUT], seed, scope, spec.activation);
  return model;
}

/** Number L of hidden blocks of a network built here (or loaded from one). */
export function blockCount(model: tf.LayersModel): number {
  return Math.max(0, ...blockIndices(model));
}

function blockIndices(model: tf.LayersModel): number[] {
  const seen = new Set<number>();
  for (const layer of model.layers) {
    const m = BLOCK_NAME.exec(layer.name);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** The layers of hidden block `block` (1-based), in order. */
export function blockLayers(model: tf.LayersModel, block: number): tf.layers.Layer[] {
  const layers = model.layers.filter((l) => l.name.startsWith(`block${block}_`));
  if (layers.length === 0) throw new Error(`the network has no hidden block ${block} (it has ${blockCount(model)})`);
  return layers;
}

/** The readout layer. */
export function readoutLayer(model: tf.LayersModel): tf.layers.Layer {
  return model.getLayer(READOUT);
}

/** Block index (1-based) or `readout` -> the layers that hold its weights. */
function weightedLayers(model: tf.LayersModel, part: number | 'readout'): tf.layers.Layer[] {
  const layers = part === READOUT ? [readoutLayer(model)] : blockLayers(model, part);
  return layers.filter((l) => l.getWeights().length > 0);
}

/**
 * (Re-)initialises the given blocks and/or the readout from the seeded streams
 * `<scope>/<layer name>`: He-uniform kernels for rectifier-like activations (the hidden blocks of
 * a ReLU network keep their scale with depth), Glorot-uniform otherwise and for the readout;
 * zero biases.
 */
export function initializeLayers(
  model: tf.LayersModel,
  parts: readonly (number | 'readout')[],
  seed: number,
  scope: string,
  activation: Activation,
): void {
  const rectifier = activation === 'relu' || activation === 'elu' || activation === 'selu' || activation === 'swish';
  for (const part of parts) {
    for (const layer of weightedLayers(model, part)) {
      const rng = new Rng(seed, `${scope}/${layer.name}`);
      const values = layer.getWeights().map((w, index) => {
        const shape = w.shape;
        const size = w.size;
        const data = new Float32Array(size);
        if (index === 0) {
          // kernel: dense [in, out], conv [k, k, in, out]
          const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
          const fanIn = receptive * shape[shape.length - 2];
          const fanOut = receptive * shape[shape.length - 1];
          const limit = part !== READOUT && rectifier ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
          for (let k = 0; k < size; k++) data[k] = (2 * rng.uniform() - 1) * limit;
        }
        return tf.tensor(data, shape, 'float32');
      });
      layer.setWeights(values);
      tf.dispose(values);
    }
  }
}

/**
 * Copies the weights of hidden blocks `blocks` (1-based) from `from` into `to`. The two networks
 * must agree on those blocks' shapes (same input and widths); the readouts may differ.
 */
export function copyBlocks(from: tf.LayersModel, to: tf.LayersModel, blocks: readonly number[]): void {
  for (const block of blocks) {
    const src = weightedLayers(from, block);
    const dst = weightedLayers(to, block);
    if (src.length !== dst.length) throw new Error(`hidden block ${block} differs between the two networks`);
    dst.forEach((layer, i) => {
      if (src[i].name !== layer.name)
        throw new Error(`hidden block ${block} differs between the two networks (${src[i].name}, ${layer.name})`);
      const weights = src[i].getWeights();
      const mine = layer.getWeights();
      weights.forEach((w, j) => {
        if (mine[j] === undefined || w.shape.join('x') !== mine[j].shape.join('x'))
          throw new Error(`hidden block ${block} (${layer.name}) has weights of shape [${mine[j]?.shape}] but the source has [${w.shape}]`);
      });
      layer.setWeights(weights);
    });
  }
}

/** Freezes (or unfreezes) hidden blocks: frozen layers keep their weights during training. */
export function setBlocksTrainable(model: tf.LayersModel, blocks: readonly number[], trainable: boolean): void {
  for (const block of blocks) for (const layer of blockLayers(model, block)) layer.trainable = trainable;
}

/** The variables the optimizer may update: the weights of every trainable layer. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Everything training changes: the trainable weights and the running statistics of trainable
 * BatchNorm layers (frozen ones keep theirs, docs/your-data.md#batchnorm). Early stopping keeps and
 * restores these together, so the kept network normalises with the statistics of its own epoch.
 */
export function trainingState(model: tf.LayersModel): tf.Variable[] {
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const statistics = model.layers.filter((l) => l.trainable).flatMap((l) => l.nonTrainableWeights.map((w) => w.read() as tf.Variable));
  return [...trainable, ...statistics];
}

/** Weights of hidden block `block` (1-based) as plain arrays, for tests and comparisons. */
export function blockWeightValues(model: tf.LayersModel, block: number | 'readout'): Float32Array[] {
  return weightedLayers(model, block).flatMap((l) => l.getWeights().map((w) => w.dataSync() as Float32Array));
}

/**
 * The layer whose output ends hidden block `block`: the block's only layer whose output no other
 * layer of the block reads (blocks end at cuts of the graph, docs/your-data.md#blocks; in a chain,
 * its last layer).
 */
export function blockEnd(model: tf.LayersModel, block: number): tf.layers.Layer {
  const layers = blockLayers(model, block);
  const read = new Set(layers.flatMap((l) => l.inboundNodes.flatMap((node) => node.inboundLayers.map((i) => i.name))));
  const ends = layers.filter((l) => !read.has(l.name));
  if (ends.length !== 1) throw new Error(`hidden block ${block} does not end in one layer (${ends.map((l) => l.name).join(', ')})`);
  return ends[0];
}

/**
 * Activations after each of the L hidden blocks for inputs `x`, flattened to 2-D `[N, features]`,
 * in block order. `x` may be flat (`[N, dim]`): it is reshaped to the network's input shape (so
 * flattened images work with a CNN). The caller disposes the returned tensors.
 */
export function hiddenBlockOutputs(model: tf.LayersModel, x: tf.Tensor): tf.Tensor2D[] {
  const L = blockCount(model);
  const ends = Array.from({ length: L }, (_, b) => blockEnd(model, b + 1).output as tf.SymbolicTensor);
  // The same layers with the block ends as outputs (a view: nothing is copied or trained).
  const blocks = tf.model({ inputs: model.inputs, outputs: ends });
  return tf.tidy(() => {
    const inputShape = (model.inputs[0].shape as (number | null)[]).slice(1) as number[];
    const outputs = blocks.predict(x.reshape([-1, ...inputShape]));
    return (Array.isArray(outputs) ? outputs : [outputs]).map((h) => h.reshape([h.shape[0], -1]) as tf.Tensor2D);
  });
}

/**
 * Writes the network in TensorFlow.js's layers format: `<dir>/model.json` + `<dir>/weights.bin`.
 * (The pure-JS tfjs has no `file://` handler in Node, so the standard files are written here.)
 * The bytes depend only on the architecture, the weights and `inputStats`: no dates, no counters.
 * `inputStats`, the range of the training inputs, goes into `userDefinedMetadata` (input-stats.ts).
 */
export async function saveNetwork(model: tf.LayersModel, dir: string, inputStats?: InputStats): Promise<void> {
  await mkdir(dir, { recursive: true });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts || !artifacts.weightData || !artifacts.weightSpecs) throw new Error('tfjs returned no weights to save');
  const weightData = artifacts.weightData;
  const buffers = Array.isArray(weightData) ? weightData : [weightData];
  const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    ...(inputStats === undefined ? {} : { userDefinedMetadata: { [INPUT_STATS_KEY]: inputStats } }),
  };
  await writeFile(join(dir, 'weights.bin'), bytes);
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
}

/** Loads a network written by `saveNetwork` (or any single-shard TensorFlow.js layers model). */
export async function loadNetwork(dir: string): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const manifest = modelJson.weightsManifest;
  const specs = manifest.flatMap((group) => group.weights);
  const shards = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))));
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData }));
}
