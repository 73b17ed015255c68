/**
 * Splits a network at the end of hidden block l into its frozen prefix (blocks 1..l) and the rest
 * (docs/performance.md, "Frozen-prefix activations"): the `prefix` stage runs the prefix once over
 * every sample, and a transfer at depth l then trains only the rest on those activations. The two
 * parts are fresh networks made of copies of the network's own layers (same classes, configs,
 * names and weights), so the rest trains with the same steps, the same init streams and the same
 * native trainer as the whole network did; the network itself is left untouched.
 *
 * Only a chain splits (every layer reads the one before it, as in defrost's own networks and
 * canonicalised TF.js layers sources), and only a prefix whose output does not depend on training
 * mode: a BatchNorm or dropout layer in it refuses (`splitRefusal` says why).
 *
 * Imports TensorFlow.js statically: load with `await import(...)` from stage code.
 */
import * as tf from '@tensorflow/tfjs';
import { blockCount } from './models.js';

/**
 * Layer classes whose output is a fixed function of their input and weights, in training as in
 * inference: what a cached prefix may hold. Anything else (BatchNormalization, Dropout, noise
 * layers, layers this list does not know) keeps the prefix uncached.
 */
const DETERMINISTIC = new Set([
  'Dense',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Activation',
  'ReLU',
  'ZeroPadding2D',
]);

const BLOCK_NAME = /^block(\d+)_/;

/** The layers of `model` after its input, or why it is not a chain (each layer reads the one before it). */
function chainLayers(model: tf.LayersModel): tf.layers.Layer[] | string {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return 'the network has several inputs or outputs';
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  for (let i = 0; i < layers.length; i++) {
    const inbound = layers[i].inboundNodes.flatMap((node) => node.inboundLayers);
    const expected = i === 0 ? 'InputLayer' : layers[i - 1];
    const follows = i === 0 ? inbound[0]?.getClassName() === expected : inbound[0] === expected;
    if (inbound.length !== 1 || !follows)
      return `layer ${layers[i].name} does not read the layer before it (the network is a graph, not a chain)`;
  }
  return layers;
}

/** Index in `layers` just past the last layer of block `depth` (blocks contiguous and in order). */
function endOfBlock(layers: readonly tf.layers.Layer[], depth: number): number | string {
  let end = -1;
  let current = 0;
  let found = false;
  for (let i = 0; i < layers.length; i++) {
    const m = BLOCK_NAME.exec(layers[i].name);
    if (m === null) continue;
    const block = Number(m[1]);
    if (block < current) return `layer ${layers[i].name} of block ${block} follows block ${current}`;
    current = block;
    found ||= block === depth;
    if (block <= depth) end = i + 1;
  }
  return found ? end : `the network has no hidden block ${depth}`;
}

/**
 * Why blocks 1..`depth` of `model` cannot be run once and cached, or null when they can: the
 * network must be a chain and every layer of the prefix deterministic (no BatchNorm in training
 * mode, no dropout).
 */
export function splitRefusal(model: tf.LayersModel, depth: number): string | null {
  const layers = chainLayers(model);
  if (typeof layers === 'string') return layers;
  if (depth < 1 || depth > blockCount(model)) return `depth ${depth} is not a hidden block of a network with ${blockCount(model)}`;
  const end = endOfBlock(layers, depth);
  if (typeof end === 'string') return end;
  const odd = layers.slice(0, end).find((l) => !DETERMINISTIC.has(l.getClassName()));
  if (odd === undefined) return null;
  const why = odd.getClassName() === 'BatchNormalization' ? ' (it would run in training mode)' : '';
  return `layer ${odd.name} of the prefix is a ${odd.getClassName()}${why}`;
}

/** A fresh network of copies of `layers[from..to)` of `model` (configs and weights), taking inputs of `inputShape`. */
function segment(layers: readonly tf.layers.Layer[], from: number, to: number, inputShape: readonly number[]): tf.Sequential {
  const net = tf.sequential();
  layers.slice(from, to).forEach((layer, i) => {
    const config = { ...layer.getConfig() } as tf.serialization.ConfigDict;
    if (i === 0) config.batchInputShape = [null, ...inputShape];
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
    const copy = fromConfig(cls, config);
    if (!(copy instanceof tf.layers.Layer)) throw new Error(`layer ${layer.name}: its class ${layer.getClassName()} made no layer`);
    net.add(copy);
  });
  layers.slice(from, to).forEach((layer, i) => {
    const copy = net.layers[i];
    copy.setWeights(layer.getWeights());
    copy.trainable = layer.trainable;
  });
  return net;
}

/** The layers and the split point at block `depth`; throws with `splitRefusal`'s reason. */
function split(model: tf.LayersModel, depth: number): { layers: tf.layers.Layer[]; end: number } {
  const refusal = splitRefusal(model, depth);
  if (refusal !== null) throw new Error(`cannot split the network after block ${depth}: ${refusal}`);
  const layers = chainLayers(model) as tf.layers.Layer[];
  return { layers, end: endOfBlock(layers, depth) as number };
}

/** Input shape of one sample (without the batch dimension). */
export function inputShapeOf(model: tf.LayersModel): number[] {
  return (model.inputs[0].shape as (number | null)[]).slice(1).map(Number);
}

/** Shape of one sample's output of block `depth` (0: the input). */
export function blockOutputShape(model: tf.LayersModel, depth: number): number[] {
  if (depth === 0) return inputShapeOf(model);
  const { layers, end } = split(model, depth);
  return (layers[end - 1].outputShape as (number | null)[]).slice(1).map(Number);
}

/** Blocks `from`..`to` of `model` as a network of their own, taking block `from - 1`'s outputs. */
export function blocksNetwork(model: tf.LayersModel, from: number, to: number): tf.Sequential {
  const { layers, end } = split(model, to);
  const start = from <= 1 ? 0 : split(model, from - 1).end;
  return segment(layers, start, end, blockOutputShape(model, from - 1));
}

/** Everything after block `depth` (blocks depth+1..L and the readout), taking block `depth`'s outputs. */
export function suffixNetwork(model: tf.LayersModel, depth: number): tf.Sequential {
  const { layers, end } = split(model, depth);
  return segment(layers, end, layers.length, blockOutputShape(model, depth));
}

/** Floats of activations a forward pass over a chunk of rows may hold (~64 MB). */
const CHUNK_FLOATS = 16 << 20;

/** `network`'s outputs for `rows` inputs (flattened rows of its input shape), as flattened rows. */
export function activationsOf(network: tf.LayersModel, features: Float32Array, rows: number): Float32Array {
  const inShape = inputShapeOf(network);
  const inWidth = inShape.reduce((a, b) => a * b, 1);
  const outWidth = (network.outputs[0].shape as (number | null)[]).slice(1).reduce((a: number, b) => a * Number(b), 1);
  const perRow = network.layers.reduce(
    (sum, l) => sum + (l.outputShape as (number | null)[]).slice(1).reduce((a: number, b) => a * Number(b), 1),
    0,
  );
  const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(1, perRow + inWidth)));
  const out = new Float32Array(rows * outWidth);
  for (let start = 0; start < rows; start += chunk) {
    const count = Math.min(chunk, rows - start);
    const values = tf.tidy(() => {
      const x = tf.tensor(features.subarray(start * inWidth, (start + count) * inWidth), [count, ...inShape], 'float32');
      return (network.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(values, start * outWidth);
  }
  return out;
}
