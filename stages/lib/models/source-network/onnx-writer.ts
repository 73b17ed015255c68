/**
 * A TensorFlow.js layers network written as ONNX (docs/your-data.md#the-model-out), opset 13, so a
 * network fine-tuned from a TensorFlow.js source loads in onnxruntime and PyTorch too. Every layer
 * the TensorFlow.js source path accepts (layer-weights.ts) becomes the ONNX operators computing
 * what TensorFlow.js computes, with the same weights in ONNX's order.
 *
 * Layout: the graph input `input` keeps the network's own layout, NHWC ([batch, H, W, C], the
 * batch dynamic), as defrost's data are. ONNX's convolutions and pooling take NCHW, so each tensor
 * is carried in whichever layout the operators using it need, and a `Transpose` is placed where
 * the layout changes (once after the input of a CNN, once before a Flatten or Reshape, which
 * take the channels-last order TensorFlow.js flattens in, so Dense kernels keep their rows).
 * Kernels are copied from TensorFlow.js's [kh, kw, in, out] to ONNX's [out, in, kh, kw], value for
 * value; 'same' padding becomes the explicit pads TensorFlow.js computes (the odd one at the end).
 *
 * A layer or setting with no exact ONNX form is refused with an OnnxError naming the layer; with
 * no weights given (`onnxWriteProblem`) the same pass checks a network before anything trains.
 */
import type onnxProto from 'onnx-proto';
import { encodeOnnxProto, onnxSchema, OnnxError } from '../onnx/proto.js';
import { CONVOLUTION_LAYERS, ELEMENTWISE_LAYERS, POOLING_LAYERS, TRAINING_ONLY_LAYERS, isLayerOf } from './layer-families.js';
import { layerShapes, LayerProblem, perAxis, zeroPaddingPairs, type NetworkGraph } from './layer-weights.js';

/** The graph to write: its layers up to `output`, which emits the network's result. */
export interface WritableNetwork extends NetworkGraph {
  readonly output: string;
}

/** The value of weight `weight` (`kernel`, `bias`, `gamma`...) of layer `layer`, in TensorFlow.js order. */
export type LayerWeightValues = (layer: string, weight: string) => Float32Array | undefined;

type Config = Readonly<Record<string, unknown>>;
type NodeProto = onnxProto.onnx.INodeProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** ONNX opset written; IR version 7 is the one that goes with it. */
const ONNX_OPSET = 13;
const IR_VERSION = 7;

/** A tensor of the graph: its name, its TensorFlow.js shape (no batch), and how it is laid out. */
interface Value {
  readonly name: string;
  readonly shape: readonly number[];
  /** `first`: channels moved to axis 1 (NCHW); `last`: TensorFlow.js's own order. */
  readonly layout: 'first' | 'last';
}

/** SELU's constants as TensorFlow.js has them (scale * alpha, scale). */
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.7580993408473768 / SELU_SCALE;

function attribute(name: string, value: number | readonly number[], float = false): AttributeProto {
  const types = onnxSchema().AttributeProto.AttributeType;
  if (Array.isArray(value)) return { name, type: float ? types.FLOATS : types.INTS, [float ? 'floats' : 'ints']: [...value] };
  return float ? { name, type: types.FLOAT, f: value as number } : { name, type: types.INT, i: value as number };
}

class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly converted = new Map<string, Value>();

  constructor(private readonly weights: LayerWeightValues | null) {}

  /** A fresh tensor name starting with `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  node(opType: string, inputs: readonly string[], output: string, attributes: AttributeProto[] = []): string {
    const out = this.fresh(output);
    this.nodes.push({ opType, name: out, input: [...inputs], output: [out], attribute: attributes });
    return out;
  }

  floats(base: string, dims: readonly number[], values: Float32Array): string {
    const name = this.fresh(base);
    const raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    values.forEach((v, k) => view.setFloat32(4 * k, v, true));
    this.initializers.push({ name, dims: [...dims], dataType: onnxSchema().TensorProto.DataType.FLOAT, rawData: raw });
    return name;
  }

  scalar(base: string, value: number): string {
    return this.floats(base, [], Float32Array.of(value));
  }

  int64s(base: string, values: readonly number[]): string {
    const name = this.fresh(base);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, k) => view.setBigInt64(8 * k, BigInt(v), true));
    this.initializers.push({ name, dims: [values.length], dataType: onnxSchema().TensorProto.DataType.INT64, rawData: raw });
    return name;
  }

  /**
   * Weight `weight` of `layer` (TensorFlow.js order, `size` values) as an initializer of ONNX dims
   * `dims`, its values placed by `order` (ONNX index -> TensorFlow.js index), or null when the
   * layer has no such weight. Without weights (a check), an empty name.
   */
  weight(layer: string, weight: string, dims: readonly number[], order: ((k: number) => number) | null, required = true): string | null {
    if (this.weights === null) return '';
    const values = this.weights(layer, weight);
    if (values === undefined) {
      if (required) throw new OnnxError(`layer "${layer}" has no weight "${weight}"`);
      return null;
    }
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new OnnxError(`weight ${layer}/${weight} holds ${values.length} values for ONNX dims [${dims}]`);
    const placed = order === null ? values : Float32Array.from({ length: size }, (_, k) => values[order(k)]);
    return this.floats(`${layer}.${weight}`, dims, placed);
  }

  /** How many values weight `weight` of `layer` holds (null when checking without weights, or no such weight). */
  weightSize(layer: string, weight: string): number | null {
    return this.weights?.(layer, weight)?.length ?? null;
  }

  /** `value` in `layout` (a Transpose, made once per value and layout). Flat values have one layout. */
  as(value: Value, layout: 'first' | 'last'): Value {
    if (value.layout === layout || value.shape.length < 2) return value;
    const key = `${value.name}\0${layout}`;
    const known = this.converted.get(key);
    if (known) return known;
    const r = value.shape.length;
    const perm = layout === 'first' ? [0, r, ...range(1, r)] : [0, ...range(2, r + 1), 1];
    const name = this.node('Transpose', [value.name], `${value.name}.${layout === 'first' ? 'nchw' : 'nhwc'}`, [attribute('perm', perm)]);
    const out = { name, shape: value.shape, layout };
    this.converted.set(key, out);
    return out;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

/** The ONNX axis of TensorFlow.js sample axis `axis` (0-based, no batch) of `value`. */
function onnxAxis(value: Value, axis: number): number {
  if (value.layout === 'last' || value.shape.length < 2) return axis + 1;
  return axis === value.shape.length - 1 ? 1 : axis + 2;
}

/** A TensorFlow.js axis counting the batch (negative from the end) as a sample axis; null for the batch. */
function sampleAxis(given: unknown, rank: number, fallback: number): number | null {
  const raw = Array.isArray(given) && given.length === 1 ? given[0] : (given ?? fallback);
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw new LayerProblem(`has axis ${JSON.stringify(given)}`);
  const axis = raw < 0 ? raw + rank + 1 : raw;
  if (axis < 0 || axis > rank) throw new LayerProblem(`has axis ${JSON.stringify(given)}, not an axis of its input`);
  return axis === 0 ? null : axis - 1;
}

/** ONNX index -> TensorFlow.js index of a kernel [...spatial, in, out] stored as [out, in, ...spatial]. */
function kernelOrder(tfShape: readonly number[]): (k: number) => number {
  const out = tfShape[tfShape.length - 1];
  const inputs = tfShape[tfShape.length - 2];
  const spatial = tfShape.slice(0, -2).reduce((a, b) => a * b, 1);
  return (k) => {
    const s = k % spatial;
    const c = Math.floor(k / spatial) % inputs;
    const o = Math.floor(k / (spatial * inputs));
    return (s * inputs + c) * out + o;
  };
}

/** Explicit ONNX pads [begin..., end...] of a window over `sizes` as TensorFlow.js pads it. */
function windowPads(
  sizes: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padding: unknown,
): number[] {
  if (padding !== 'same') return [...sizes.map(() => 0), ...sizes.map(() => 0)];
  const total = sizes.map((n, i) => Math.max((Math.ceil(n / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - n, 0));
  return [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
}

/** Applies TensorFlow.js activation `name` to `value` (channels wherever the layout has them). */
function activate(b: GraphBuilder, value: Value, name: unknown, base: string): Value {
  const x = value.name;
  const one = (op: string, attributes: AttributeProto[] = []): string => b.node(op, [x], `${base}.${op}`, attributes);
  let out: string;
  switch (name ?? 'linear') {
    case 'linear':
      return value;
    case 'relu':
      out = one('Relu');
      break;
    case 'relu6':
      out = b.node('Clip', [x, b.scalar(`${base}.min`, 0), b.scalar(`${base}.max`, 6)], `${base}.Clip`);
      break;
    case 'elu':
      out = one('Elu', [attribute('alpha', 1, true)]);
      break;
    case 'selu':
      out = one('Selu', [attribute('alpha', SELU_ALPHA, true), attribute('gamma', SELU_SCALE, true)]);
      break;
    case 'sigmoid':
      out = one('Sigmoid');
      break;
    case 'hard_sigmoid':
    case 'hardSigmoid':
      out = one('HardSigmoid', [attribute('alpha', 0.2, true), attribute('beta', 0.5, true)]);
      break;
    case 'softplus':
      out = one('Softplus');
      break;
    case 'softsign':
      out = one('Softsign');
      break;
    case 'tanh':
      out = one('Tanh');
      break;
    case 'softmax':
      out = one('Softmax', [attribute('axis', onnxAxis(value, value.shape.length - 1))]);
      break;
    case 'swish':
      out = b.node('Mul', [x, one('Sigmoid')], `${base}.swish`);
      break;
    case 'mish':
      out = b.node('Mul', [x, b.node('Tanh', [one('Softplus')], `${base}.Tanh`)], `${base}.mish`);
      break;
    case 'gelu': {
      // x * 0.5 * (1 + erf(x / sqrt(2))), in TensorFlow.js's order of operations.
      const erf = b.node('Erf', [b.node('Div', [x, b.scalar(`${base}.sqrt2`, Math.SQRT2)], `${base}.Div`)], `${base}.Erf`);
      const cdf = b.node(
        'Mul',
        [b.scalar(`${base}.half`, 0.5), b.node('Add', [b.scalar(`${base}.one`, 1), erf], `${base}.Add`)],
        `${base}.cdf`,
      );
      out = b.node('Mul', [x, cdf], `${base}.gelu`);
      break;
    }
    case 'gelu_new': {
      // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))).
      const cube = b.node('Mul', [x, b.node('Mul', [x, x], `${base}.square`)], `${base}.cube`);
      const inner = b.node('Add', [x, b.node('Mul', [b.scalar(`${base}.c`, 0.044715), cube], `${base}.Mul`)], `${base}.inner`);
      const t = b.node('Tanh', [b.node('Mul', [b.scalar(`${base}.k`, Math.sqrt(2 / Math.PI)), inner], `${base}.scaled`)], `${base}.Tanh`);
      const gate = b.node('Add', [b.scalar(`${base}.one`, 1), t], `${base}.gate`);
      out = b.node('Mul', [b.scalar(`${base}.half`, 0.5), b.node('Mul', [x, gate], `${base}.xgate`)], `${base}.gelu`);
      break;
    }
    default:
      throw new LayerProblem(`has activation ${JSON.stringify(name)}, which defrost cannot write as ONNX`);
  }
  return { ...value, name: out };
}

/** Conv1D/Conv2D/GroupedConv2D/DepthwiseConv2D/SeparableConv2D. */
function convolution(b: GraphBuilder, name: string, className: string, config: Config, input: Value, output: readonly number[]): Value {
  const x = b.as(input, 'first');
  const spatial = x.shape.length - 1;
  const sizes = x.shape.slice(0, spatial);
  const channels = x.shape[spatial];
  const kernel = perAxis(config.kernel_size, spatial, 'kernel_size');
  const strides = perAxis(config.strides, spatial, 'strides', 1);
  const dilations = perAxis(config.dilation_rate, spatial, 'dilation_rate', 1);
  const window = [
    attribute('kernel_shape', kernel),
    attribute('strides', strides),
    attribute('dilations', dilations),
    attribute('pads', windowPads(sizes, kernel, strides, dilations, config.padding)),
  ];
  const filters = output[output.length - 1];
  const bias = (size: number): string[] => {
    const t = config.use_bias === false ? null : b.weight(name, 'bias', [size], null);
    return t === null ? [] : [t];
  };
  let y: string;
  if (className === 'DepthwiseConv2D' || className === 'SeparableConv2D') {
    // TensorFlow.js leaves SeparableConv2D's depth_multiplier out of its config: the kernel's size tells.
    const held = b.weightSize(name, 'depthwise_kernel');
    const given = typeof config.depth_multiplier === 'number' ? config.depth_multiplier : 1;
    const multiplier = held === null ? given : held / (kernel.reduce((p, k) => p * k, 1) * channels);
    // [kh, kw, C, m] is [kh, kw, 1, C*m] for the copy: output channel c*m + j is group c's j-th.
    const order = kernelOrder([...kernel, 1, channels * multiplier]);
    const depthwise = b.weight(name, 'depthwise_kernel', [channels * multiplier, 1, ...kernel], order) ?? '';
    const inputs = [x.name, depthwise, ...(className === 'DepthwiseConv2D' ? bias(filters) : [])];
    y = b.node('Conv', inputs, `${name}.depthwise`, [...window, attribute('group', channels)]);
    if (className === 'SeparableConv2D') {
      const ones = kernel.map(() => 1);
      const pointwise =
        b.weight(
          name,
          'pointwise_kernel',
          [filters, channels * multiplier, ...ones],
          kernelOrder([...ones, channels * multiplier, filters]),
        ) ?? '';
      y = b.node('Conv', [y, pointwise, ...bias(filters)], `${name}.pointwise`, [attribute('kernel_shape', ones)]);
    }
  } else {
    const groups = className === 'GroupedConv2D' ? Number(config.groups) : 1;
    const per = channels / groups;
    const w = b.weight(name, 'kernel', [filters, per, ...kernel], kernelOrder([...kernel, per, filters])) ?? '';
    y = b.node('Conv', [x.name, w, ...bias(filters)], name, [...window, attribute('group', groups)]);
  }
  return activate(b, { name: y, shape: output, layout: 'first' }, config.activation, name);
}

function pooling(b: GraphBuilder, name: string, className: string, config: Config, input: Value, output: readonly number[]): Value {
  if (className.startsWith('Global')) {
    const axes = range(0, input.shape.length - 1).map((a) => onnxAxis(input, a));
    const op = className.includes('Average') ? 'ReduceMean' : 'ReduceMax';
    return { name: b.node(op, [input.name], name, [attribute('axes', axes), attribute('keepdims', 0)]), shape: output, layout: 'last' };
  }
  const x = b.as(input, 'first');
  const spatial = x.shape.length - 1;
  const pool = perAxis(config.pool_size, spatial, 'pool_size', 2);
  const strides = config.strides === undefined || config.strides === null ? pool : perAxis(config.strides, spatial, 'strides');
  const ones = pool.map(() => 1);
  const attributes = [
    attribute('kernel_shape', pool),
    attribute('strides', strides),
    attribute('pads', windowPads(x.shape.slice(0, spatial), pool, strides, ones, config.padding)),
  ];
  // AveragePool leaves 'same' padding out of the count (count_include_pad 0), as TensorFlow.js does.
  const op = className.startsWith('Max') ? 'MaxPool' : 'AveragePool';
  return { name: b.node(op, [x.name], name, attributes), shape: output, layout: 'first' };
}

function batchNormalization(b: GraphBuilder, name: string, config: Config, input: Value): Value {
  const x = b.as(input, 'first');
  const c = x.shape[x.shape.length - 1];
  const constant = (weight: string, fill: number): string =>
    b.weight(name, weight, [c], null, false) ?? b.floats(`${name}.${weight}`, [c], new Float32Array(c).fill(fill));
  // Without `scale` or `center` (no gamma or beta), ONNX takes ones and zeros.
  const inputs = [
    x.name,
    constant('gamma', 1),
    constant('beta', 0),
    b.weight(name, 'moving_mean', [c], null) ?? '',
    b.weight(name, 'moving_variance', [c], null) ?? '',
  ];
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
  return { name: b.node('BatchNormalization', inputs, name, [attribute('epsilon', epsilon, true)]), shape: x.shape, layout: x.layout };
}

function dense(b: GraphBuilder, name: string, config: Config, input: Value, output: readonly number[]): Value {
  const x = b.as(input, 'last');
  const units = output[output.length - 1];
  const inputs = x.shape[x.shape.length - 1];
  const kernel = b.weight(name, 'kernel', [inputs, units], null) ?? '';
  const bias = config.use_bias === false ? null : b.weight(name, 'bias', [units], null);
  let y: string;
  if (x.shape.length === 1 && bias !== null) y = b.node('Gemm', [x.name, kernel, bias], name);
  else {
    y = b.node('MatMul', [x.name, kernel], bias === null ? name : `${name}.MatMul`);
    if (bias !== null) y = b.node('Add', [y, bias], name);
  }
  return activate(b, { name: y, shape: output, layout: 'last' }, config.activation, name);
}

/** Add, Subtract, Multiply, Average, Maximum, Minimum of equal shapes; Concatenate. */
function merge(
  b: GraphBuilder,
  name: string,
  className: string,
  config: Config,
  inputs: readonly Value[],
  output: readonly number[],
): Value {
  const layout = inputs[0].layout;
  const names = inputs.map((v) => b.as(v, layout).name);
  const like = { name: '', shape: inputs[0].shape, layout };
  if (className === 'Concatenate') {
    const axis = sampleAxis(config.axis, like.shape.length, -1);
    if (axis === null) throw new LayerProblem('concatenates along the batch axis');
    return { name: b.node('Concat', names, name, [attribute('axis', onnxAxis(like, axis))]), shape: output, layout };
  }
  const variadic: Record<string, string> = { Add: 'Sum', Average: 'Mean', Maximum: 'Max', Minimum: 'Min' };
  let y: string;
  if (className in variadic) y = b.node(variadic[className], names, name);
  else if (className === 'Subtract') y = b.node('Sub', names, name);
  else y = names.slice(1).reduce((acc, n, k) => b.node('Mul', [acc, n], k === names.length - 2 ? name : `${name}.Mul`), names[0]);
  return { name: y, shape: output, layout };
}

/** The ONNX value of one layer, given its inputs' values and its output shape. */
function writeLayer(
  b: GraphBuilder,
  name: string,
  className: string,
  config: Config,
  inputs: readonly Value[],
  output: readonly number[],
): Value {
  const input = inputs[0];
  if (isLayerOf(CONVOLUTION_LAYERS, className)) return convolution(b, name, className, config, input, output);
  if (isLayerOf(POOLING_LAYERS, className)) return pooling(b, name, className, config, input, output);
  if (isLayerOf(TRAINING_ONLY_LAYERS, className)) return input; // identities at inference
  if (isLayerOf(ELEMENTWISE_LAYERS, className) || className === 'Concatenate') return merge(b, name, className, config, inputs, output);
  switch (className) {
    case 'Dense':
      return dense(b, name, config, input, output);
    case 'BatchNormalization':
      return batchNormalization(b, name, config, input);
    case 'Flatten':
      return { name: b.node('Flatten', [b.as(input, 'last').name], name, [attribute('axis', 1)]), shape: output, layout: 'last' };
    case 'Reshape': {
      const shape = b.int64s(`${name}.shape`, [-1, ...output]);
      return { name: b.node('Reshape', [b.as(input, 'last').name, shape], name), shape: output, layout: 'last' };
    }
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = zeroPaddingPairs(config);
      const pads =
        input.layout === 'first' && input.shape.length > 1
          ? [0, 0, top, left, 0, 0, bottom, right]
          : [0, top, left, 0, 0, bottom, right, 0];
      return { name: b.node('Pad', [input.name, b.int64s(`${name}.pads`, pads)], name), shape: output, layout: input.layout };
    }
    case 'Activation':
      return activate(b, input, config.activation, name);
    case 'ReLU':
      return typeof config.max_value === 'number'
        ? { ...input, name: b.node('Clip', [input.name, b.scalar(`${name}.min`, 0), b.scalar(`${name}.max`, config.max_value)], name) }
        : activate(b, input, 'relu', name);
    case 'ELU': {
      const alpha = typeof config.alpha === 'number' ? config.alpha : 1;
      return { ...input, name: b.node('Elu', [input.name], name, [attribute('alpha', alpha, true)]) };
    }
    case 'LeakyReLU': {
      const alpha = typeof config.alpha === 'number' ? config.alpha : 0.3;
      return { ...input, name: b.node('LeakyRelu', [input.name], name, [attribute('alpha', alpha, true)]) };
    }
    case 'Softmax': {
      // TensorFlow.js's Softmax layer counts the batch in `axis`, and defaults to 1.
      const axis = sampleAxis(config.axis, input.shape.length, 1);
      if (axis === null)
        throw new LayerProblem('takes its softmax across the batch axis (axis 0), which has no ONNX form sample by sample');
      return { ...input, name: b.node('Softmax', [input.name], name, [attribute('axis', onnxAxis(input, axis))]) };
    }
    default:
      throw new LayerProblem(`is a ${className} layer, which defrost cannot write as ONNX`);
  }
}

/** Builds the graph; `weights` null checks it only (no initializer holds values). */
function build(network: WritableNetwork, weights: LayerWeightValues | null): { builder: GraphBuilder; output: Value } {
  const b = new GraphBuilder(weights);
  b.fresh('logits'); // reserved for the output
  const values = new Map<string, Value>([[network.inputName, { name: b.fresh('input'), shape: network.inputShape, layout: 'last' }]]);
  for (const layer of network.layers) {
    try {
      const inputs = layer.inbound.map((i) => {
        const v = values.get(i);
        if (v === undefined) throw new LayerProblem(`takes "${i}", which is not a layer before it`);
        return v;
      });
      const { output } = layerShapes(
        layer.name,
        layer.className,
        layer.config,
        inputs.map((v) => v.shape),
      );
      values.set(layer.name, writeLayer(b, layer.name, layer.className, layer.config, inputs, output));
    } catch (error) {
      if (error instanceof LayerProblem || error instanceof OnnxError)
        throw new OnnxError(`layer "${layer.name}" (${layer.className}) cannot be written as ONNX: ${error.message}`);
      throw error;
    }
    if (layer.name === network.output) break;
  }
  const last = values.get(network.output);
  if (last === undefined) throw new OnnxError(`the network has no layer "${network.output}"`);
  return { builder: b, output: b.as(last, 'last') };
}

/** Why `network` cannot be written as ONNX (naming the layer), or null when it can. */
export function onnxWriteProblem(network: WritableNetwork): string | null {
  try {
    build(network, null);
    return null;
  } catch (error) {
    if (error instanceof OnnxError) return error.message;
    throw error;
  }
}

/** The ONNX model of `network` with `weights`: input `input` [batch, ...inputShape], output `logits`. */
export function layersToOnnx(network: WritableNetwork, weights: LayerWeightValues): Uint8Array {
  const { builder, output } = build(network, weights);
  // The result is renamed `logits` (reserved above).
  const nodes = builder.nodes;
  if (nodes.some((n) => n.output?.[0] === output.name)) {
    const rename = (n: string): string => (n === output.name ? 'logits' : n);
    for (const node of nodes) {
      node.input = (node.input ?? []).map(rename);
      node.output = (node.output ?? []).map(rename);
    }
  } else nodes.push({ opType: 'Identity', name: 'logits', input: [output.name], output: ['logits'] });
  const schema = onnxSchema();
  const info = (name: string, dims: readonly number[]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: schema.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, ...dims.map((d) => ({ dimValue: d }))] },
      },
    },
  });
  return encodeOnnxProto({
    irVersion: IR_VERSION,
    producerName: 'defrost',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'defrost',
      node: nodes,
      initializer: builder.initializers,
      input: [info('input', network.inputShape)],
      output: [info('logits', output.shape)],
    },
  });
}
