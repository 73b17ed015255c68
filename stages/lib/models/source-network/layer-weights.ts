/**
 * What each layer of a source network must hold, worked out from its config and the shapes that
 * reach it (docs/your-data.md, "Your network"): the layers defrost supports, the weights each
 * one has (names as TensorFlow.js names them, `<layer>/<weight>`, and shapes), and the shape it
 * passes on, layer after layer through the graph (branches, `Add`, `Concatenate`). Every network
 * goes through this one expectation: a model.json's `weightsManifest` is compared with it
 * (layers-json.ts), and so are the weights the ONNX importer made (topology.ts). An unsupported
 * layer (LSTM, Lambda), a weight missing, extra, renamed or transposed, a negative or absurd size,
 * or more weights than DEFROST_MAX_NETWORK_PARAMS is refused with exit 2 before planning — never
 * found by TensorFlow.js halfway through a run.
 */
import { envLimit } from '../../formats/input-file.js';
import type { GraphLayer } from './graph-blocks.js';
import { CONVOLUTION_LAYERS, ELEMENTWISE_LAYERS, POOLING_LAYERS, TRAINING_ONLY_LAYERS, isLayerOf } from './layer-families.js';

/** One weight a layer holds. */
export interface ExpectedWeight {
  readonly name: string;
  readonly shape: number[];
}

/** The weights of one layer and the shape of its output (without the batch axis). */
export interface LayerShapes {
  readonly weights: ExpectedWeight[];
  readonly output: number[];
}

/** A layer config as model.json has it (Keras-style snake_case). */
type Config = Readonly<Record<string, unknown>>;

/** A network graph: its input layer and the layers after it, each after the layers it takes. */
export interface NetworkGraph {
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly layers: readonly (GraphLayer & { readonly config: Config })[];
}

/** Environment variable raising the size limit of a source network, in weights (parameters). */
export const NETWORK_PARAMS_ENV = 'DEFROST_MAX_NETWORK_PARAMS';
const DEFAULT_NETWORK_PARAMS = 100_000_000;

/** Activations TensorFlow.js layers know (by their serialized names). */
const ACTIVATIONS = new Set([
  'elu',
  'hard_sigmoid',
  'hardSigmoid',
  'linear',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
]);

/** Layers without weights that pass the shape through unchanged. */
const PASS_THROUGH = new Set<string>([...TRAINING_ONLY_LAYERS, 'Activation', 'Softmax', 'ReLU', 'ELU', 'LeakyReLU']);

const ELEMENTWISE = new Set<string>(ELEMENTWISE_LAYERS);

/** The layer classes defrost supports in a source network. */
export const SUPPORTED_LAYERS = [
  'Dense',
  ...CONVOLUTION_LAYERS,
  'BatchNormalization',
  ...POOLING_LAYERS,
  'Flatten',
  'Reshape',
  'ZeroPadding2D',
  ...PASS_THROUGH,
  ...ELEMENTWISE_LAYERS,
  'Concatenate',
];

const SUPPORTED = new Set<string>(SUPPORTED_LAYERS);

/** A problem with one layer, in words (topology.ts names the file and the layer). */
export class LayerProblem extends Error {}

function fail(problem: string): never {
  throw new LayerProblem(problem);
}

/** A positive whole number from the config (`what` names it in the message). */
function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    fail(`${what} is ${JSON.stringify(value)}; expected a whole number >= 1`);
  return value;
}

/** A per-axis setting: one number for every axis, or a list of `rank` numbers. */
export function perAxis(value: unknown, rank: number, what: string, fallback?: number): number[] {
  if ((value === undefined || value === null) && fallback !== undefined) return Array.from({ length: rank }, () => fallback);
  if (typeof value === 'number') return Array.from({ length: rank }, () => positive(value, what));
  if (Array.isArray(value) && value.length === rank) return value.map((v, i) => positive(v, `${what}[${i}]`));
  return fail(`${what} is ${JSON.stringify(value)}; expected a whole number or a list of ${rank}`);
}

function expectRank(input: readonly number[], rank: number, layer: string): void {
  if (input.length !== rank) fail(`takes inputs of rank ${rank} (${layer}), but receives shape [${input.join(', ')}]`);
}

function channelsLast(config: Config): void {
  if (config.data_format !== undefined && config.data_format !== null && config.data_format !== 'channels_last')
    fail(`data_format ${JSON.stringify(config.data_format)}; only channels_last is supported`);
}

function activation(config: Config): void {
  const a = config.activation;
  if (a === undefined || a === null) return;
  if (typeof a !== 'string' || !ACTIVATIONS.has(a)) fail(`activation ${JSON.stringify(a)} is not one TensorFlow.js knows`);
}

/** Output length of a sliding window over `size` (convolutions and pooling). */
function windowed(size: number, window: number, stride: number, padding: unknown, dilation = 1): number {
  if (padding === 'same') return Math.ceil(size / stride);
  if (padding !== undefined && padding !== 'valid') fail(`padding ${JSON.stringify(padding)}; allowed: "valid" or "same"`);
  const span = (window - 1) * dilation + 1;
  const out = Math.floor((size - span) / stride) + 1;
  if (out < 1) fail(`its window (${span}) is larger than its input (${size})`);
  return out;
}

function bias(config: Config, name: string, size: number): ExpectedWeight[] {
  return config.use_bias === false ? [] : [{ name: `${name}/bias`, shape: [size] }];
}

function convolution(name: string, className: string, config: Config, input: readonly number[]): LayerShapes {
  const spatial = className === 'Conv1D' ? 1 : 2;
  expectRank(input, spatial + 1, `${spatial}D images with channels`);
  channelsLast(config);
  activation(config);
  const kernel = perAxis(config.kernel_size, spatial, 'kernel_size');
  const strides = perAxis(config.strides, spatial, 'strides', 1);
  const dilation = perAxis(config.dilation_rate, spatial, 'dilation_rate', 1);
  const channels = input[spatial];
  const out = kernel.map((k, i) => windowed(input[i], k, strides[i], config.padding ?? 'valid', dilation[i]));
  if (className === 'Conv1D' || className === 'Conv2D' || className === 'GroupedConv2D') {
    const filters = positive(config.filters, 'filters');
    // GroupedConv2D (ONNX Conv with groups, or dilated): each filter sees channels / groups inputs.
    const groups = className === 'GroupedConv2D' ? positive(config.groups, 'groups') : 1;
    if (channels % groups !== 0 || filters % groups !== 0)
      fail(`${groups} groups do not divide its ${channels} input channels and ${filters} filters`);
    return {
      weights: [{ name: `${name}/kernel`, shape: [...kernel, channels / groups, filters] }, ...bias(config, name, filters)],
      output: [...out, filters],
    };
  }
  const multiplier = config.depth_multiplier === undefined ? 1 : positive(config.depth_multiplier, 'depth_multiplier');
  const depthwise = { name: `${name}/depthwise_kernel`, shape: [...kernel, channels, multiplier] };
  if (className === 'DepthwiseConv2D')
    return { weights: [depthwise, ...bias(config, name, channels * multiplier)], output: [...out, channels * multiplier] };
  const filters = positive(config.filters, 'filters');
  return {
    weights: [
      depthwise,
      { name: `${name}/pointwise_kernel`, shape: [1, 1, channels * multiplier, filters] },
      ...bias(config, name, filters),
    ],
    output: [...out, filters],
  };
}

function pooling(className: string, config: Config, input: readonly number[]): LayerShapes {
  const spatial = className.endsWith('1D') ? 1 : 2;
  expectRank(input, spatial + 1, `${spatial}D images with channels`);
  channelsLast(config);
  if (className.startsWith('Global')) return { weights: [], output: [input[spatial]] };
  const pool = perAxis(config.pool_size, spatial, 'pool_size', 2);
  const strides = config.strides === undefined || config.strides === null ? pool : perAxis(config.strides, spatial, 'strides');
  return { weights: [], output: [...pool.map((p, i) => windowed(input[i], p, strides[i], config.padding ?? 'valid')), input[spatial]] };
}

function batchNormalization(name: string, config: Config, input: readonly number[]): LayerShapes {
  const axis = config.axis ?? -1;
  const last = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  if (last !== -1 && last !== input.length) fail(`normalizes axis ${JSON.stringify(axis)}; only the last axis (-1) is supported`);
  const c = input[input.length - 1];
  const weights: ExpectedWeight[] = [];
  if (config.scale !== false) weights.push({ name: `${name}/gamma`, shape: [c] });
  if (config.center !== false) weights.push({ name: `${name}/beta`, shape: [c] });
  weights.push({ name: `${name}/moving_mean`, shape: [c] }, { name: `${name}/moving_variance`, shape: [c] });
  return { weights, output: [...input] };
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function reshape(config: Config, input: readonly number[]): LayerShapes {
  const target = config.target_shape;
  if (!Array.isArray(target) || target.length === 0) return fail('target_shape is not a list of sizes');
  const known = target.filter((t) => t !== -1 && t !== null).map((t, i) => positive(t, `target_shape[${i}]`));
  const free = target.length - known.length;
  if (free > 1) fail('target_shape has more than one unknown size');
  const whole = size(input);
  if (free === 0 && size(known) !== whole) fail(`target_shape [${target.join(', ')}] does not hold the ${whole} values it receives`);
  if (free === 1 && whole % size(known) !== 0) fail(`target_shape [${target.join(', ')}] does not divide the ${whole} values it receives`);
  return { weights: [], output: target.map((t) => (t === -1 || t === null ? whole / size(known) : Number(t))) };
}

/** ZeroPadding2D's `padding` as [[top, bottom], [left, right]]. */
export function zeroPaddingPairs(config: Config): number[][] {
  const p = config.padding ?? 1;
  const pairs: number[][] =
    typeof p === 'number'
      ? [
          [p, p],
          [p, p],
        ]
      : Array.isArray(p) && p.length === 2
        ? p.map((q) => (typeof q === 'number' ? [q, q] : Array.isArray(q) && q.length === 2 ? q.map(Number) : [NaN, NaN]))
        : [[NaN, NaN]];
  if (pairs.length !== 2 || pairs.flat().some((v) => !Number.isSafeInteger(v) || v < 0))
    fail(`padding ${JSON.stringify(p)} is not a valid padding`);
  return pairs;
}

function zeroPadding(config: Config, input: readonly number[]): LayerShapes {
  expectRank(input, 3, '2D images with channels');
  channelsLast(config);
  const pairs = zeroPaddingPairs(config);
  return { weights: [], output: [input[0] + pairs[0][0] + pairs[0][1], input[1] + pairs[1][0] + pairs[1][1], input[2]] };
}

/** Layers taking several inputs of one shape (`Add`...): that shape. */
function elementwise(className: string, inputs: readonly (readonly number[])[]): LayerShapes {
  if (inputs.length < 2 || (className === 'Subtract' && inputs.length !== 2))
    fail(`takes ${inputs.length} input(s); a ${className} layer takes ${className === 'Subtract' ? 'two' : 'two or more'}`);
  const shapes = inputs.map((s) => `[${s.join(', ')}]`);
  if (shapes.some((s) => s !== shapes[0])) fail(`receives shapes ${shapes.join(', ')}; they must be equal`);
  return { weights: [], output: [...inputs[0]] };
}

/** Concatenate: equal shapes but along `axis`, which adds up. */
function concatenate(config: Config, inputs: readonly (readonly number[])[]): LayerShapes {
  if (inputs.length < 2) fail(`takes ${inputs.length} input(s); a Concatenate layer takes two or more`);
  const rank = inputs[0].length;
  const given = config.axis ?? -1;
  // The axis counts the batch: -1 or rank is the last axis of a sample.
  const axis = typeof given === 'number' && Number.isSafeInteger(given) ? (given < 0 ? given + rank + 1 : given) : NaN;
  if (!(axis >= 1 && axis <= rank)) fail(`axis ${JSON.stringify(given)} is not an axis of its inputs (rank ${rank})`);
  const at = axis - 1;
  const rest = (s: readonly number[]): string => s.filter((_, i) => i !== at).join(',');
  if (inputs.some((s) => s.length !== rank || rest(s) !== rest(inputs[0])))
    fail(`receives shapes ${inputs.map((s) => `[${s.join(', ')}]`).join(', ')}, which differ beyond axis ${JSON.stringify(given)}`);
  const output = [...inputs[0]];
  output[at] = inputs.reduce((sum, s) => sum + s[at], 0);
  return { weights: [], output };
}

/**
 * The weights and the output shape of one layer receiving `inputs` (one shape per layer it
 * takes); throws LayerProblem.
 */
export function layerShapes(name: string, className: string, config: Config, inputs: readonly (readonly number[])[]): LayerShapes {
  if (ELEMENTWISE.has(className)) return elementwise(className, inputs);
  if (className === 'Concatenate') return concatenate(config, inputs);
  if (inputs.length !== 1 && SUPPORTED.has(className)) fail(`takes ${inputs.length} inputs; a ${className} layer takes one`);
  const input = inputs[0] ?? [];
  if (isLayerOf(CONVOLUTION_LAYERS, className)) return convolution(name, className, config, input);
  if (isLayerOf(POOLING_LAYERS, className)) return pooling(className, config, input);
  switch (className) {
    case 'Dense': {
      activation(config);
      const units = positive(config.units, 'units');
      if (input.length === 0) fail('receives a scalar');
      const inputs = input[input.length - 1];
      return {
        weights: [{ name: `${name}/kernel`, shape: [inputs, units] }, ...bias(config, name, units)],
        output: [...input.slice(0, -1), units],
      };
    }
    case 'BatchNormalization':
      return batchNormalization(name, config, input);
    case 'Flatten':
      return { weights: [], output: [size(input)] };
    case 'Reshape':
      return reshape(config, input);
    case 'ZeroPadding2D':
      return zeroPadding(config, input);
    default:
      if (PASS_THROUGH.has(className)) {
        if (className === 'Activation') activation(config);
        return { weights: [], output: [...input] };
      }
      return fail(`is a ${className} layer, which defrost does not support; supported: ${SUPPORTED_LAYERS.join(', ')}`);
  }
}

/** The most weights a source network may hold (DEFROST_MAX_NETWORK_PARAMS, default 100 M). */
export function networkParamsLimit(): number {
  return envLimit(NETWORK_PARAMS_ENV, DEFAULT_NETWORK_PARAMS);
}

/**
 * The weights every layer of `graph` must hold (`<layer>/<weight>` -> shape), in the graph's
 * order, at most DEFROST_MAX_NETWORK_PARAMS of them. `refuse` names the file.
 */
export function expectedWeights(graph: NetworkGraph, refuse: (problem: string) => never): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const limit = networkParamsLimit();
  const shapes = new Map<string, readonly number[]>([[graph.inputName, graph.inputShape]]);
  let params = 0;
  for (const layer of graph.layers) {
    if (shapes.has(layer.name)) return refuse(`two layers are named "${layer.name}"; layer names must be unique`);
    let result: LayerShapes;
    try {
      const inputs = layer.inbound.map((i) => shapes.get(i) ?? fail(`takes "${i}", which is not a layer before it`));
      result = layerShapes(layer.name, layer.className, layer.config, inputs);
    } catch (error) {
      if (error instanceof LayerProblem) return refuse(`layer "${layer.name}" ${error.message}`);
      throw error;
    }
    for (const w of result.weights) {
      params += w.shape.reduce((a, b) => a * b, 1);
      if (params > limit)
        return refuse(
          `layer "${layer.name}" brings the network to ${params} weights, more than the ${limit} allowed; ` +
            `raise the limit with ${NETWORK_PARAMS_ENV}=<weights> if the machine has the memory`,
        );
      out.set(w.name, w.shape);
    }
    shapes.set(layer.name, result.output);
  }
  return out;
}
