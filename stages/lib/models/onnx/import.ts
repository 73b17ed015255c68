/**
 * An ONNX network (proto.ts) as a TensorFlow.js layers graph (docs/your-data.md#onnx): one
 * Keras-style layer per operator, in the file's order, with its weights copied into
 * TensorFlow.js's NHWC layout (weight-layout.ts), so that the imported network trains, freezes and
 * saves like any TensorFlow.js layers model, and every weight remembers the ONNX tensor it came
 * from (export.ts writes the fine-tuned values back there).
 *
 * Everything that defrost cannot reproduce exactly is refused here, before any work, naming the
 * node, its op type and what is supported: other operators and domains, opsets outside 13-18,
 * dynamic sizes other than the batch, weights that are not float32, padding that TensorFlow.js
 * pooling cannot express. Pure data in, pure data out (no TensorFlow.js): the planner calls it.
 */
import type { JsonObject } from '../../../../pipeline/stage.js';
import { DATA_TYPE, OnnxError, typeName, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';
import { layersShape, toLayersOrder, type WeightLayout } from './weight-layout.js';

/** Opsets of the default ONNX domain that defrost reads. */
export const OPSETS = { min: 13, max: 18 } as const;

/** The operators defrost imports, as the refusal message lists them. */
export const SUPPORTED_OPS = [
  'Conv',
  'Gemm',
  'MatMul (+ Add of a bias)',
  'BatchNormalization',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Gelu (as PyTorch writes it: Div, Erf, Add, Mul, Mul)',
  'Add',
  'Concat',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape (to [batch, features])',
  'Pad (zeros, height and width)',
  'Dropout',
  'Identity',
  'Constant',
  'Softmax',
] as const;

const KNOWN_OPS = new Set([
  'Conv',
  'Gemm',
  'MatMul',
  'Add',
  'BatchNormalization',
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Concat',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape',
  'Pad',
  'Dropout',
  'Identity',
  'Constant',
  'Softmax',
]);

const QUANTIZED_OPS = /^(QuantizeLinear|DequantizeLinear|DynamicQuantizeLinear|QLinear.*|.*Integer)$/;

/** One TensorFlow.js layer of the imported graph (Keras-style snake_case config, as model.json). */
export interface LayerSpec {
  readonly name: string;
  readonly className: string;
  readonly config: JsonObject;
  /** The layers whose outputs it takes, in order (none for the input layer). */
  readonly inbound: readonly string[];
}

/** Where a TensorFlow.js weight comes from in the ONNX file, and how its values were reordered. */
export interface WeightSource {
  /** The tensor name the ONNX node reads (an initializer, or an Identity of one). */
  readonly tensor: string;
  readonly dims: readonly number[];
  readonly layout: WeightLayout;
}

/** One weight of one layer, in TensorFlow.js's order (`<layer>/<weight>`, as tfjs names it). */
export interface LayerWeight {
  readonly layer: string;
  /** kernel, depthwise_kernel, bias, gamma, beta, moving_mean, moving_variance */
  readonly weight: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
  readonly source: WeightSource;
}

export interface ImportedNetwork {
  /** Shape of one input sample as TensorFlow.js takes it (NHWC without the batch, or [features]). */
  readonly inputShape: readonly number[];
  /** The ONNX graph's input name and its NCHW dims (batch included, as declared). */
  readonly onnxInput: { readonly name: string; readonly dims: readonly (number | string | null)[] };
  /** The layers, input layer first, in an order where every layer follows its inputs. */
  readonly layers: readonly LayerSpec[];
  /** The layer whose output is the network's output. */
  readonly output: string;
  readonly weights: readonly LayerWeight[];
  /** For each layer made from ONNX nodes: the names of those nodes (export.ts). */
  readonly nodesOf: ReadonlyMap<string, readonly string[]>;
  readonly opset: number;
}

/** What an ONNX tensor is while converting: a constant, or the output of a layer. */
type Value =
  | { readonly kind: 'constant'; readonly tensor: OnnxTensor; readonly name: string }
  | {
      readonly kind: 'tensor';
      readonly layer: string;
      /** ONNX shape without the batch: [C, H, W] or [F]. */
      readonly shape: readonly number[];
      /**
       * How TensorFlow.js holds it: `image` NHWC [H, W, C]; `flat` [F] (with `flattened` when the
       * features are a [C, H, W] tensor flattened in TensorFlow.js's (h, w, c) order); `pooled`
       * [C] for an ONNX [C, 1, 1] after global pooling.
       */
      readonly layout: 'image' | 'flat' | 'pooled';
      readonly flattened: readonly number[] | null;
      /** Known to hold no negative value (after Relu/Sigmoid): zero padding equals -inf padding for max pooling. */
      readonly nonNegative: boolean;
    };
type TensorValue = Extract<Value, { kind: 'tensor' }>;

/** Largest activation of one sample defrost builds (2^24 values, 64 MiB): a bigger one is a corrupt file. */
const MAX_ACTIVATION = 2 ** 24;

function checkSize(what: string, shape: readonly number[]): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 1) || size > MAX_ACTIVATION)
    throw new OnnxError(`${what} would have shape [${shape}] per sample; defrost handles 1 to ${MAX_ACTIVATION} values`);
}

const describe = (node: OnnxNode): string => `node "${node.name}" (${node.opType})`;

/** A TensorFlow.js-valid layer name from an ONNX name: PyTorch's `layer1.conv1.weight` -> `layer1.conv1`. */
function cleanName(raw: string): string {
  const name = raw
    .replace(/^\/+/, '')
    .replace(/\//g, '.')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '');
  return name === '' ? 'layer' : name;
}

/** The GELU subgraph PyTorch exports: y = (x * (erf(x / sqrt 2) + 1)) * 0.5, by node index. */
interface GeluMatch {
  readonly input: string;
  readonly output: string;
  readonly nodes: readonly number[];
}

function scalarOf(model: OnnxModel, constants: ReadonlyMap<string, OnnxTensor>, name: string): number | null {
  const tensor = constants.get(name) ?? model.initializers.get(name);
  if (!tensor || !tensor.floats || tensor.floats.length !== 1) return null;
  return tensor.floats[0];
}

function findGelus(model: OnnxModel): GeluMatch[] {
  const constants = new Map<string, OnnxTensor>();
  for (const node of model.nodes) {
    const value = node.attributes.get('value')?.t;
    if (node.opType === 'Constant' && value && node.outputs[0]) constants.set(node.outputs[0], value);
  }
  const consumers = new Map<string, number[]>();
  model.nodes.forEach((node, k) => node.inputs.forEach((input) => consumers.set(input, [...(consumers.get(input) ?? []), k])));
  const only = (tensor: string, op: string): number | null => {
    const users = consumers.get(tensor) ?? [];
    return users.length === 1 && model.nodes[users[0]].opType === op ? users[0] : null;
  };
  const near = (value: number | null, target: number): boolean => value !== null && Math.abs(value - target) < 1e-5;
  const matches: GeluMatch[] = [];
  model.nodes.forEach((div, d) => {
    if (div.opType !== 'Div' || div.inputs.length !== 2 || !near(scalarOf(model, constants, div.inputs[1]), Math.SQRT2)) return;
    const x = div.inputs[0];
    const e = only(div.outputs[0], 'Erf');
    if (e === null) return;
    const a = only(model.nodes[e].outputs[0], 'Add');
    if (a === null) return;
    const add = model.nodes[a];
    const one = add.inputs.find((i) => i !== model.nodes[e].outputs[0]);
    if (one === undefined || !near(scalarOf(model, constants, one), 1)) return;
    const m1 = only(add.outputs[0], 'Mul');
    if (m1 === null || !model.nodes[m1].inputs.includes(x)) return;
    const m2 = only(model.nodes[m1].outputs[0], 'Mul');
    if (m2 === null) return;
    const half = model.nodes[m2].inputs.find((i) => i !== model.nodes[m1].outputs[0]);
    if (half === undefined || !near(scalarOf(model, constants, half), 0.5)) return;
    matches.push({ input: x, output: model.nodes[m2].outputs[0], nodes: [d, e, a, m1, m2] });
  });
  return matches;
}

/** Refuses anything outside what defrost imports, before converting a single node. */
function checkSupported(model: OnnxModel, gelus: readonly GeluMatch[]): number {
  const opset = model.opsets.get('') ?? model.opsets.get('ai.onnx');
  if (opset === undefined) throw new OnnxError('the model declares no opset of the default ONNX domain');
  if (opset < OPSETS.min || opset > OPSETS.max)
    throw new OnnxError(
      `opset ${opset} is not supported; defrost reads opsets ${OPSETS.min}-${OPSETS.max} ` +
        `(torch.onnx.export(..., opset_version=${Math.min(Math.max(opset, OPSETS.min), OPSETS.max)}))`,
    );
  const inGelu = new Set(gelus.flatMap((g) => g.nodes));
  model.nodes.forEach((node, k) => {
    if (inGelu.has(k)) return;
    const domain = node.domain === 'ai.onnx' ? '' : node.domain;
    if (domain !== '' || !KNOWN_OPS.has(node.opType)) {
      const quantized = QUANTIZED_OPS.test(node.opType) ? ' (a quantized network: export it in float32)' : '';
      throw new OnnxError(
        `${describe(node)}${domain ? ` of domain "${node.domain}"` : ''} is not supported${quantized}; ` +
          `supported operators: ${SUPPORTED_OPS.join(', ')}`,
      );
    }
  });
  return opset;
}

/** Output size of a window op along one axis, or null when it is empty. */
function windowOutput(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  before: number,
  after: number,
  ceil: boolean,
): number {
  const span = (kernel - 1) * dilation + 1;
  const room = size + before + after - span;
  if (room < 0) return 0;
  return (ceil ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
}

/** TensorFlow.js's 'same' padding (before, after) along one axis. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

interface Window {
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  /** [top, left, bottom, right] as ONNX orders them. */
  readonly pads: [number, number, number, number];
}

/** A Conv's or pool's window attributes, with auto_pad turned into explicit pads. */
function windowOf(node: OnnxNode, kernel: readonly number[], input: readonly number[]): Window {
  const ints = (name: string, fallback: number[]): number[] => {
    const a = node.attributes.get(name);
    return a && a.ints.length > 0 ? [...a.ints] : fallback;
  };
  const strides = ints('strides', [1, 1]);
  const dilations = ints('dilations', [1, 1]);
  let pads = ints('pads', [0, 0, 0, 0]);
  if (kernel.length !== 2 || strides.length !== 2 || dilations.length !== 2 || pads.length !== 4)
    throw new OnnxError(`${describe(node)}: only 2-D windows (images) are supported`);
  if ([...kernel, ...strides, ...dilations].some((v) => !Number.isInteger(v) || v < 1) || pads.some((p) => !Number.isInteger(p) || p < 0))
    throw new OnnxError(`${describe(node)}: kernel, strides, dilations or pads out of range`);
  const autoPad = node.attributes.get('auto_pad')?.s ?? 'NOTSET';
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const [h0, h1] = samePads(input[1], kernel[0], strides[0], dilations[0]);
    const [w0, w1] = samePads(input[2], kernel[1], strides[1], dilations[1]);
    pads = autoPad === 'SAME_UPPER' ? [h0, w0, h1, w1] : [h1, w1, h0, w0];
  } else if (autoPad !== 'NOTSET') throw new OnnxError(`${describe(node)}: auto_pad "${autoPad}" is not supported`);
  return {
    kernel: [kernel[0], kernel[1]],
    strides: [strides[0], strides[1]],
    dilations: [dilations[0], dilations[1]],
    pads: [pads[0], pads[1], pads[2], pads[3]],
  };
}

/** Whether a window's pads are exactly what TensorFlow.js's 'same' padding would add. */
function isSame(window: Window, input: readonly number[]): boolean {
  const [h0, h1] = samePads(input[1], window.kernel[0], window.strides[0], window.dilations[0]);
  const [w0, w1] = samePads(input[2], window.kernel[1], window.strides[1], window.dilations[1]);
  const [t, l, b, r] = window.pads;
  return t === h0 && b === h1 && l === w0 && r === w1;
}

const hasPads = (window: Window): boolean => window.pads.some((p) => p > 0);

/** The conversion itself: one pass over the nodes in file order. */
class Converter {
  private readonly values = new Map<string, Value>();
  private readonly layers: LayerSpec[] = [];
  private readonly weights: LayerWeight[] = [];
  private readonly used = new Set<string>();
  private readonly nodesOf = new Map<string, string[]>();
  private readonly consumers = new Map<string, number>();
  /** Nodes already converted as part of another (a MatMul's bias Add, a GELU's nodes). */
  private readonly done = new Set<number>();

  constructor(
    private readonly model: OnnxModel,
    private readonly batch: number | string | null,
    private readonly gelus: readonly GeluMatch[],
  ) {
    for (const [name, tensor] of model.initializers) this.values.set(name, { kind: 'constant', tensor, name });
    for (const node of model.nodes) for (const input of node.inputs) this.consumers.set(input, (this.consumers.get(input) ?? 0) + 1);
    for (const output of model.outputs) this.consumers.set(output.name, (this.consumers.get(output.name) ?? 0) + 1);
  }

  private uniqueName(raw: string): string {
    const base = cleanName(raw);
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /**
   * A layer name for `node`: for a node with weights, its weight's PyTorch module path
   * (`layer1.conv1.weight` -> `layer1.conv1`) or its node name without the op
   * (`/layer1/conv1/Conv` -> `layer1.conv1`); for other nodes their node name (`/layer1/Relu_1`
   * -> `layer1.Relu_1`).
   */
  private nameFor(node: OnnxNode, weightInput?: string): string {
    if (weightInput === undefined) return this.uniqueName(node.name);
    const fromWeight = /^([A-Za-z0-9_.]+)\.weight$/.exec(this.aliasOf(weightInput));
    if (fromWeight) return this.uniqueName(fromWeight[1]);
    const suffix = `/${node.opType}`;
    const trimmed = node.name.endsWith(suffix) && node.name.length > suffix.length ? node.name.slice(0, -suffix.length) : node.name;
    return this.uniqueName(trimmed);
  }

  /** The initializer an Identity chain points at, for naming. */
  private aliasOf(name: string): string {
    const value = this.values.get(name);
    return value?.kind === 'constant' ? value.tensor.name : name;
  }

  private addLayer(node: OnnxNode | null, name: string, className: string, config: JsonObject, inbound: readonly string[]): string {
    this.layers.push({ name, className, config: { ...config, name }, inbound });
    if (node) this.nodesOf.set(name, [...(this.nodesOf.get(name) ?? []), node.name]);
    return name;
  }

  private tensor(node: OnnxNode, index: number): TensorValue {
    const name = node.inputs[index];
    const value = name ? this.values.get(name) : undefined;
    if (!name || value === undefined)
      throw new OnnxError(`${describe(node)} reads "${name ?? ''}", which no earlier node produces (a corrupt or unsorted graph)`);
    if (value.kind !== 'tensor')
      throw new OnnxError(`${describe(node)}: input ${index + 1} is a constant; only the network's data may flow there`);
    return value;
  }

  private constant(node: OnnxNode, index: number, what: string, floats = true): OnnxTensor {
    const name = node.inputs[index];
    const value = name ? this.values.get(name) : undefined;
    if (!name || value === undefined) throw new OnnxError(`${describe(node)} has no ${what}`);
    if (value.kind !== 'constant')
      throw new OnnxError(`${describe(node)}: its ${what} is computed by the graph; defrost needs it as a stored tensor`);
    const tensor = value.tensor;
    if (floats && !tensor.floats)
      throw new OnnxError(
        `${describe(node)}: its ${what} "${tensor.name}" is ${typeName(tensor.dataType)}; only float32 weights are supported` +
          (tensor.dataType === DATA_TYPE.float16 || tensor.dataType === DATA_TYPE.int8 || tensor.dataType === DATA_TYPE.uint8
            ? ' (a quantized or half-precision network: export it in float32)'
            : ''),
      );
    return tensor;
  }

  private optionalInput(node: OnnxNode, index: number): boolean {
    return (node.inputs[index] ?? '') !== '';
  }

  private set(node: OnnxNode, value: Value, output = 0): void {
    const name = node.outputs[output];
    if (!name) throw new OnnxError(`${describe(node)} has no output`);
    if (value.kind === 'tensor') checkSize(`the output of ${describe(node)}`, value.shape);
    this.values.set(name, value);
  }

  private unusedExtraOutputs(node: OnnxNode, keep: number): void {
    node.outputs.slice(keep).forEach((o) => {
      if (o && (this.consumers.get(o) ?? 0) > 0)
        throw new OnnxError(`${describe(node)}: its output "${o}" is used; defrost supports only its first output`);
    });
  }

  private addWeight(layer: string, weight: string, tensor: OnnxTensor, readName: string, layout: WeightLayout, shape?: number[]): void {
    const values = toLayersOrder(tensor.floats as Float32Array, tensor.dims, layout);
    this.weights.push({
      layer,
      weight,
      shape: shape ?? layersShape(tensor.dims, layout),
      values,
      source: { tensor: readName, dims: tensor.dims, layout },
    });
  }

  /** The tensor as an NHWC image: a pooled [C] vector is reshaped back to [1, 1, C]. */
  private asImage(node: OnnxNode, value: TensorValue): TensorValue {
    if (value.layout === 'image') return value;
    if (value.layout === 'pooled') {
      const c = value.shape[0];
      const layer = this.addLayer(node, this.uniqueName(`${this.nameFor(node)}.reshape`), 'Reshape', { target_shape: [1, 1, c] }, [
        value.layer,
      ]);
      return { ...value, layer, layout: 'image' };
    }
    throw new OnnxError(`${describe(node)} needs an image-shaped input [C, H, W]; its input has shape [${value.shape}]`);
  }

  /** The tensor as features [F] (flattened images carry their (h, w, c) order). */
  private asFlat(node: OnnxNode, value: TensorValue): TensorValue {
    if (value.layout === 'flat') return value;
    if (value.layout === 'pooled') return { ...value, layout: 'flat', shape: [value.shape[0]], flattened: null };
    throw new OnnxError(`${describe(node)} needs a [batch, features] input; its input has shape [${value.shape}] (add a Flatten)`);
  }

  /** ZeroPadding2D in front of a window op when its pads are explicit. */
  private padded(node: OnnxNode, name: string, input: TensorValue, pads: readonly number[]): TensorValue {
    const [t, l, b, r] = pads;
    const layer = this.addLayer(
      node,
      name,
      'ZeroPadding2D',
      {
        padding: [
          [t, b],
          [l, r],
        ],
        data_format: 'channels_last',
      },
      [input.layer],
    );
    const [c, h, w] = input.shape;
    return { ...input, layer, shape: [c, h + t + b, w + l + r] };
  }

  convert(): void {
    for (let k = 0; k < this.model.nodes.length; k++) {
      if (this.done.has(k)) continue;
      this.convertNode(this.model.nodes[k], k);
    }
  }

  private convertNode(node: OnnxNode, index: number): void {
    switch (node.opType) {
      case 'Constant':
        return this.convertConstant(node);
      case 'Identity':
      case 'Dropout': {
        this.unusedExtraOutputs(node, 1);
        const value = node.inputs[0] ? this.values.get(node.inputs[0]) : undefined;
        if (value === undefined) throw new OnnxError(`${describe(node)} reads "${node.inputs[0] ?? ''}", which no earlier node produces`);
        // An Identity of an initializer is how PyTorch shares equal weights: the reading node
        // keeps the Identity's output name, so export.ts can give it its own values.
        this.set(node, value.kind === 'constant' ? { ...value, name: node.outputs[0] ?? value.name } : value);
        return;
      }
      case 'Conv':
        return this.convertConv(node);
      case 'BatchNormalization':
        return this.convertBatchNorm(node);
      case 'Gemm':
        return this.convertGemm(node);
      case 'MatMul':
        return this.convertMatMul(node, index);
      case 'Add':
        return this.convertAdd(node);
      case 'Concat':
        return this.convertConcat(node);
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Softmax':
        return this.convertActivation(node);
      case 'LeakyRelu': {
        const input = this.tensor(node, 0);
        const alpha = node.attributes.get('alpha')?.f ?? 0.01;
        const layer = this.addLayer(node, this.nameFor(node), 'LeakyReLU', { alpha }, [input.layer]);
        this.set(node, { ...input, layer, nonNegative: false });
        return;
      }
      case 'MaxPool':
      case 'AveragePool':
        return this.convertPool(node);
      case 'GlobalAveragePool': {
        const input = this.asImage(node, this.tensor(node, 0));
        const layer = this.addLayer(node, this.nameFor(node), 'GlobalAveragePooling2D', { data_format: 'channels_last' }, [input.layer]);
        this.set(node, { ...input, layer, layout: 'pooled', shape: [input.shape[0], 1, 1], flattened: null });
        return;
      }
      case 'Flatten': {
        const axis = node.attributes.get('axis')?.i ?? 1;
        const input = this.tensor(node, 0);
        const rank = input.shape.length + 1;
        if (axis !== 1 && axis !== 1 - rank)
          throw new OnnxError(`${describe(node)}: only axis 1 (keep the batch, flatten the rest) is supported`);
        return this.flatten(node, input);
      }
      case 'Reshape':
        return this.convertReshape(node);
      case 'Pad':
        return this.convertPad(node);
      default:
        if (this.convertGelu(node, index)) return;
        throw new OnnxError(`${describe(node)} is not supported; supported operators: ${SUPPORTED_OPS.join(', ')}`);
    }
  }

  private convertConstant(node: OnnxNode): void {
    const a = node.attributes;
    let tensor = a.get('value')?.t ?? null;
    const name = node.outputs[0] ?? node.name;
    const float = a.get('value_float')?.f;
    const floats = a.get('value_floats')?.floats;
    const int = a.get('value_int')?.i;
    const ints = a.get('value_ints')?.ints;
    if (tensor === null && float !== undefined && float !== null)
      tensor = { name, dims: [], dataType: DATA_TYPE.float, floats: Float32Array.of(float), integers: null };
    else if (tensor === null && floats && floats.length > 0)
      tensor = { name, dims: [floats.length], dataType: DATA_TYPE.float, floats: Float32Array.from(floats), integers: null };
    else if (tensor === null && int !== undefined && int !== null)
      tensor = { name, dims: [], dataType: DATA_TYPE.int64, floats: null, integers: [int] };
    else if (tensor === null && ints && ints.length > 0)
      tensor = { name, dims: [ints.length], dataType: DATA_TYPE.int64, floats: null, integers: ints };
    if (tensor === null) throw new OnnxError(`${describe(node)}: only tensor, float and int constants are supported`);
    this.values.set(name, { kind: 'constant', tensor, name });
  }

  private convertConv(node: OnnxNode): void {
    const input = this.asImage(node, this.tensor(node, 0));
    const kernel = this.constant(node, 1, 'weight');
    const [c, h, w] = input.shape;
    if (kernel.dims.length !== 4)
      throw new OnnxError(`${describe(node)}: only 2-D convolutions are supported (weight dims [${kernel.dims}])`);
    const [m, perGroup, kh, kw] = kernel.dims;
    if (kernel.dims.some((d) => d < 1)) throw new OnnxError(`${describe(node)}: weight of dims [${kernel.dims}]`);
    const groups = node.attributes.get('group')?.i ?? 1;
    if (groups < 1 || c % groups !== 0 || m % groups !== 0 || perGroup * groups !== c)
      throw new OnnxError(`${describe(node)}: weight [${kernel.dims}] with ${groups} groups does not fit an input of ${c} channels`);
    const declared = node.attributes.get('kernel_shape')?.ints;
    if (declared && declared.length > 0 && (declared[0] !== kh || declared[1] !== kw))
      throw new OnnxError(`${describe(node)}: kernel_shape [${declared}] differs from its weight [${kernel.dims}]`);
    const window = windowOf(node, [kh, kw], input.shape);
    const name = this.nameFor(node, node.inputs[1]);
    let source = input;
    let padding = 'valid';
    if (hasPads(window)) {
      if (isSame(window, input.shape)) padding = 'same';
      else source = this.padded(node, this.uniqueName(`${name}.pad`), input, window.pads);
    }
    const oh = windowOutput(
      padding === 'same' ? h + window.pads[0] + window.pads[2] : source.shape[1],
      kh,
      window.strides[0],
      window.dilations[0],
      0,
      0,
      false,
    );
    const ow = windowOutput(
      padding === 'same' ? w + window.pads[1] + window.pads[3] : source.shape[2],
      kw,
      window.strides[1],
      window.dilations[1],
      0,
      0,
      false,
    );
    if (oh < 1 || ow < 1) throw new OnnxError(`${describe(node)}: its window does not fit its input [${input.shape}]`);
    const strided = window.strides.some((s) => s > 1);
    const dilated = window.dilations.some((d) => d > 1);
    if (strided && dilated) throw new OnnxError(`${describe(node)}: strides and dilations both above 1 are not supported`);
    const hasBias = this.optionalInput(node, 2);
    const common: JsonObject = {
      kernel_size: [kh, kw],
      strides: window.strides,
      padding,
      data_format: 'channels_last',
      dilation_rate: window.dilations,
      activation: 'linear',
      use_bias: hasBias,
    };
    const depthwise = groups === c && perGroup === 1 && !dilated;
    let layer: string;
    if (groups === 1 && !dilated) {
      layer = this.addLayer(node, name, 'Conv2D', { ...common, filters: m }, [source.layer]);
      this.addWeight(layer, 'kernel', kernel, node.inputs[1], { kind: 'oihw' });
    } else if (depthwise) {
      layer = this.addLayer(node, name, 'DepthwiseConv2D', { ...common, depth_multiplier: m / c }, [source.layer]);
      this.addWeight(layer, 'depthwise_kernel', kernel, node.inputs[1], { kind: 'oihw' }, [kh, kw, c, m / c]);
    } else {
      layer = this.addLayer(node, name, 'GroupedConv2D', { ...common, filters: m, groups }, [source.layer]);
      this.addWeight(layer, 'kernel', kernel, node.inputs[1], { kind: 'oihw' });
    }
    if (hasBias) {
      const bias = this.constant(node, 2, 'bias');
      if (bias.floats?.length !== m) throw new OnnxError(`${describe(node)}: bias of dims [${bias.dims}] for ${m} output channels`);
      this.addWeight(layer, 'bias', bias, node.inputs[2], { kind: 'vector', flattened: null });
    }
    this.set(node, { kind: 'tensor', layer, shape: [m, oh, ow], layout: 'image', flattened: null, nonNegative: false });
  }

  private convertBatchNorm(node: OnnxNode): void {
    this.unusedExtraOutputs(node, 1);
    if ((node.attributes.get('training_mode')?.i ?? 0) !== 0)
      throw new OnnxError(`${describe(node)} is exported in training mode; export the model with model.eval()`);
    const input = this.tensor(node, 0);
    // Channels of an image, features of a flat tensor: the first ONNX dimension either way.
    const size = input.shape[0];
    const names = ['gamma', 'beta', 'moving_mean', 'moving_variance'];
    const params = names.map((_, k) => this.constant(node, k + 1, ['scale', 'bias', 'mean', 'variance'][k]));
    params.forEach((p, k) => {
      if (p.floats?.length !== size) throw new OnnxError(`${describe(node)}: ${names[k]} of dims [${p.dims}] for ${size} channels`);
    });
    const layer = this.addLayer(
      node,
      this.nameFor(node, node.inputs[1]),
      'BatchNormalization',
      {
        axis: -1,
        momentum: node.attributes.get('momentum')?.f ?? 0.9,
        epsilon: node.attributes.get('epsilon')?.f ?? 1e-5,
        center: true,
        scale: true,
      },
      [input.layer],
    );
    params.forEach((p, k) => this.addWeight(layer, names[k], p, node.inputs[k + 1], { kind: 'vector', flattened: input.flattened }));
    this.set(node, { ...input, layer, nonNegative: false });
  }

  private dense(
    node: OnnxNode,
    input: TensorValue,
    matrix: OnnxTensor,
    matrixName: string,
    transposed: boolean,
    bias: { tensor: OnnxTensor; name: string } | null,
  ): void {
    const flat = this.asFlat(node, input);
    if (matrix.dims.length !== 2) throw new OnnxError(`${describe(node)}: its weight has dims [${matrix.dims}]; a matrix is needed`);
    const [rows, units] = transposed ? [matrix.dims[1], matrix.dims[0]] : [matrix.dims[0], matrix.dims[1]];
    if (units < 1) throw new OnnxError(`${describe(node)}: weight of dims [${matrix.dims}]`);
    if (rows !== flat.shape[0])
      throw new OnnxError(`${describe(node)}: weight [${matrix.dims}] does not fit ${flat.shape[0]} input features`);
    const layer = this.addLayer(node, this.nameFor(node, matrixName), 'Dense', { units, activation: 'linear', use_bias: bias !== null }, [
      flat.layer,
    ]);
    this.addWeight(layer, 'kernel', matrix, matrixName, { kind: 'dense', transposed, flattened: flat.flattened });
    if (bias) {
      if (bias.tensor.floats?.length !== units || bias.tensor.dims.some((d, k) => d !== 1 && k !== bias.tensor.dims.length - 1))
        throw new OnnxError(`${describe(node)}: bias of dims [${bias.tensor.dims}] for ${units} units (only a per-unit bias is supported)`);
      this.addWeight(layer, 'bias', bias.tensor, bias.name, { kind: 'vector', flattened: null }, [units]);
    }
    this.set(node, { kind: 'tensor', layer, shape: [units], layout: 'flat', flattened: null, nonNegative: false });
  }

  private convertGemm(node: OnnxNode): void {
    const a = node.attributes;
    if ((a.get('transA')?.i ?? 0) !== 0) throw new OnnxError(`${describe(node)}: transA=1 is not supported`);
    const alpha = a.get('alpha')?.f ?? 1;
    const beta = a.get('beta')?.f ?? 1;
    if (alpha !== 1 || (this.optionalInput(node, 2) && beta !== 1))
      throw new OnnxError(`${describe(node)}: only alpha = beta = 1 is supported`);
    const matrix = this.constant(node, 1, 'weight');
    const bias = this.optionalInput(node, 2) ? { tensor: this.constant(node, 2, 'bias'), name: node.inputs[2] } : null;
    this.dense(node, this.tensor(node, 0), matrix, node.inputs[1], (a.get('transB')?.i ?? 0) === 1, bias);
  }

  /** MatMul by a stored matrix; an Add of a stored bias that only it feeds becomes the Dense bias. */
  private convertMatMul(node: OnnxNode, index: number): void {
    const matrix = this.constant(node, 1, 'weight');
    const out = node.outputs[0] ?? '';
    let bias: { tensor: OnnxTensor; name: string } | null = null;
    let biasNode: number | null = null;
    if (this.consumers.get(out) === 1) {
      const next = this.model.nodes.findIndex((n, k) => k > index && n.inputs.includes(out));
      const add = next >= 0 ? this.model.nodes[next] : null;
      const other = add?.opType === 'Add' && add.inputs.length === 2 ? add.inputs.find((i) => i !== out) : undefined;
      const value = other !== undefined ? this.values.get(other) : undefined;
      if (add && value?.kind === 'constant' && value.tensor.floats) {
        bias = { tensor: value.tensor, name: value.name };
        biasNode = next;
      }
    }
    this.dense(node, this.tensor(node, 0), matrix, node.inputs[1], false, bias);
    if (biasNode !== null) {
      const add = this.model.nodes[biasNode];
      this.values.set(add.outputs[0] ?? '', this.values.get(out) as Value);
      this.nodesOf.get(this.layers[this.layers.length - 1].name)?.push(add.name);
      this.done.add(biasNode);
    }
  }

  private convertAdd(node: OnnxNode): void {
    const values = node.inputs.map((i) => this.values.get(i));
    if (values.some((v) => v?.kind === 'constant'))
      throw new OnnxError(
        `${describe(node)} adds a constant; defrost supports Add of two computed tensors (a residual) and the bias after a MatMul`,
      );
    const [a, b] = [this.tensor(node, 0), this.tensor(node, 1)];
    if (a.shape.join() !== b.shape.join() || a.layout !== b.layout || (a.flattened ?? []).join() !== (b.flattened ?? []).join())
      throw new OnnxError(
        `${describe(node)} adds tensors of shapes [${a.shape}] and [${b.shape}]; only equal shapes are supported (no broadcasting)`,
      );
    const layer = this.addLayer(node, this.nameFor(node), 'Add', {}, [a.layer, b.layer]);
    this.set(node, { ...a, layer, nonNegative: a.nonNegative && b.nonNegative });
  }

  private convertConcat(node: OnnxNode): void {
    const inputs = node.inputs.map((_, k) => this.tensor(node, k));
    const first = inputs[0];
    const rank = first.shape.length + 1;
    const axis = node.attributes.get('axis')?.i ?? 1;
    if (
      (axis !== 1 && axis !== 1 - rank) ||
      inputs.some((v) => v.layout !== first.layout || v.flattened !== null || v.shape.slice(1).join() !== first.shape.slice(1).join())
    )
      throw new OnnxError(`${describe(node)}: only concatenation along the channels (axis 1) of equally sized tensors is supported`);
    const layer = this.addLayer(
      node,
      this.nameFor(node),
      'Concatenate',
      { axis: -1 },
      inputs.map((v) => v.layer),
    );
    const channels = inputs.reduce((s, v) => s + v.shape[0], 0);
    this.set(node, { ...first, layer, shape: [channels, ...first.shape.slice(1)], nonNegative: inputs.every((v) => v.nonNegative) });
  }

  private convertActivation(node: OnnxNode): void {
    const input = this.tensor(node, 0);
    const activation = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Softmax: 'softmax' }[node.opType] as string;
    if (node.opType === 'Softmax') {
      const axis = node.attributes.get('axis')?.i ?? -1;
      if (input.layout !== 'flat' || (axis !== -1 && axis !== 1))
        throw new OnnxError(`${describe(node)}: only a softmax over the classes of [batch, classes] is supported`);
    }
    const layer = this.addLayer(node, this.nameFor(node), 'Activation', { activation }, [input.layer]);
    this.set(node, { ...input, layer, nonNegative: node.opType !== 'Tanh' });
  }

  private convertGelu(node: OnnxNode, index: number): boolean {
    const match = this.gelus.find((g) => g.nodes[0] === index);
    if (!match) return false;
    const value = this.values.get(match.input);
    if (value?.kind !== 'tensor') throw new OnnxError(`${describe(node)}: GELU of a constant`);
    const path = node.name.endsWith('/Div') ? node.name.slice(0, -'/Div'.length) : '';
    const layer = this.addLayer(node, this.uniqueName(path ? `${path}/Gelu` : 'Gelu'), 'Activation', { activation: 'gelu' }, [value.layer]);
    this.nodesOf.set(
      layer,
      match.nodes.map((k) => this.model.nodes[k].name),
    );
    match.nodes.forEach((k) => this.done.add(k));
    this.values.set(match.output, { ...value, layer, nonNegative: false });
    return true;
  }

  private convertPool(node: OnnxNode): void {
    this.unusedExtraOutputs(node, 1);
    const input = this.asImage(node, this.tensor(node, 0));
    const max = node.opType === 'MaxPool';
    const kernel = node.attributes.get('kernel_shape')?.ints ?? [];
    const window = windowOf(node, kernel, input.shape);
    if (window.dilations.some((d) => d > 1)) throw new OnnxError(`${describe(node)}: dilated pooling is not supported`);
    if ((node.attributes.get('storage_order')?.i ?? 0) !== 0) throw new OnnxError(`${describe(node)}: storage_order=1 is not supported`);
    const [c, h, w] = input.shape;
    const [t, l, b, r] = window.pads;
    const out = (ceil: boolean): [number, number] => [
      windowOutput(h, window.kernel[0], window.strides[0], 1, t, b, ceil),
      windowOutput(w, window.kernel[1], window.strides[1], 1, l, r, ceil),
    ];
    const [oh, ow] = out(false);
    if (oh < 1 || ow < 1) throw new OnnxError(`${describe(node)}: its window does not fit its input [${input.shape}]`);
    if ((node.attributes.get('ceil_mode')?.i ?? 0) === 1 && out(true).join() !== out(false).join())
      throw new OnnxError(`${describe(node)}: ceil_mode=1 adds a partial window here; only windows that fit the input are supported`);
    const name = this.nameFor(node);
    let source = input;
    let padding = 'valid';
    if (hasPads(window)) {
      const includePad = !max && (node.attributes.get('count_include_pad')?.i ?? 0) === 1;
      if (isSame(window, input.shape) && !includePad) padding = 'same';
      else if (includePad || input.nonNegative) source = this.padded(node, this.uniqueName(`${name}.pad`), input, window.pads);
      else
        throw new OnnxError(
          max
            ? `${describe(node)}: its padding is not TensorFlow.js's 'same' and its input may be negative (max pooling pads with -inf)`
            : `${describe(node)}: padding excluded from the average (count_include_pad=0) is only supported where it equals TensorFlow.js's 'same'`,
        );
    }
    const layer = this.addLayer(
      node,
      name,
      max ? 'MaxPooling2D' : 'AveragePooling2D',
      { pool_size: window.kernel, strides: window.strides, padding, data_format: 'channels_last' },
      [source.layer],
    );
    this.set(node, { ...input, layer, shape: [c, oh, ow] });
  }

  /** Flatten to [batch, features]: TensorFlow.js flattens NHWC, so the features are in (h, w, c) order. */
  private flatten(node: OnnxNode, input: TensorValue): void {
    if (input.layout !== 'image') {
      this.set(node, this.asFlat(node, input));
      return;
    }
    const [c, h, w] = input.shape;
    const layer = this.addLayer(node, this.nameFor(node), 'Flatten', {}, [input.layer]);
    this.set(node, { ...input, layer, layout: 'flat', shape: [c * h * w], flattened: h * w > 1 ? [c, h, w] : null });
  }

  private convertReshape(node: OnnxNode): void {
    const input = this.tensor(node, 0);
    const target = this.constant(node, 1, 'shape', false).integers;
    const size = input.shape.reduce((a, b) => a * b, 1);
    const batchOk = (d: number | undefined): boolean => d === -1 || d === 0 || (typeof this.batch === 'number' && d === this.batch);
    if (target && target.length === 2 && batchOk(target[0]) && (target[1] === size || (target[1] === -1 && target[0] !== -1)))
      return this.flatten(node, input);
    if (target && target.length === input.shape.length + 1 && batchOk(target[0]) && target.slice(1).join() === input.shape.join()) {
      this.set(node, input);
      return;
    }
    throw new OnnxError(
      `${describe(node)}: reshaping [${input.shape}] to [${target ?? '?'}] is not supported; only [batch, features] (a flatten) is`,
    );
  }

  private convertPad(node: OnnxNode): void {
    const input = this.asImage(node, this.tensor(node, 0));
    const mode = node.attributes.get('mode')?.s ?? 'constant';
    const pads = this.constant(node, 1, 'pads', false).integers ?? [];
    const value = this.optionalInput(node, 2) ? this.constant(node, 2, 'constant value').floats : null;
    if (mode !== 'constant' || (value !== null && value.some((v) => v !== 0)) || this.optionalInput(node, 3))
      throw new OnnxError(`${describe(node)}: only zero padding of height and width is supported`);
    if (pads.length !== 8 || pads[0] !== 0 || pads[1] !== 0 || pads[4] !== 0 || pads[5] !== 0 || pads.some((p) => p < 0))
      throw new OnnxError(`${describe(node)}: only zero padding of height and width is supported (pads [${pads}])`);
    const padded = this.padded(node, this.nameFor(node), input, [pads[2], pads[3], pads[6], pads[7]]);
    this.set(node, padded);
  }

  result(
    opset: number,
    input: { name: string; dims: readonly (number | string | null)[] },
    inputShape: number[],
    inputLayer: LayerSpec,
  ): ImportedNetwork {
    if (this.model.outputs.length !== 1)
      throw new OnnxError(`the model has ${this.model.outputs.length} outputs; defrost needs one (the class scores)`);
    const out = this.values.get(this.model.outputs[0].name);
    if (out?.kind !== 'tensor') throw new OnnxError(`the model's output "${this.model.outputs[0].name}" is not computed from its input`);
    if (out.layout === 'image') throw new OnnxError(`the model's output has shape [${out.shape}]; defrost needs [batch, classes]`);
    // Only layers the output depends on.
    const byName = new Map(this.layers.map((l) => [l.name, l]));
    const needed = new Set<string>();
    const stack = [out.layer];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (needed.has(name)) continue;
      needed.add(name);
      for (const i of byName.get(name)?.inbound ?? []) stack.push(i);
    }
    const layers = [inputLayer, ...this.layers.filter((l) => needed.has(l.name))];
    return {
      inputShape,
      onnxInput: input,
      layers,
      output: out.layer,
      weights: this.weights.filter((w) => needed.has(w.layer)),
      nodesOf: new Map([...this.nodesOf].filter(([name]) => needed.has(name))),
      opset,
    };
  }

  defineInput(name: string, value: Value): void {
    this.values.set(name, value);
    this.used.add((value as TensorValue).layer);
  }
}

/** Converts a decoded ONNX model; throws OnnxError naming what defrost cannot import. */
export function importOnnx(model: OnnxModel): ImportedNetwork {
  const gelus = findGelus(model);
  const opset = checkSupported(model, gelus);
  const inputs = model.inputs.filter((i) => !model.initializers.has(i.name));
  if (inputs.length !== 1) throw new OnnxError(`the model has ${inputs.length} inputs; defrost needs one (the images or features)`);
  const input = inputs[0];
  if (input.elemType !== DATA_TYPE.float)
    throw new OnnxError(
      `input "${input.name}" is ${input.elemType === null ? 'of unknown type' : typeName(input.elemType)}; defrost needs float32 input`,
    );
  const dims = input.dims;
  if (dims === null || (dims.length !== 2 && dims.length !== 4))
    throw new OnnxError(
      `input "${input.name}" has ${dims === null ? 'no declared shape' : `${dims.length} dimensions`}; defrost takes [batch, features] or [batch, channels, height, width]`,
    );
  dims.slice(1).forEach((d, k) => {
    if (typeof d !== 'number' || d < 1)
      throw new OnnxError(
        `input "${input.name}" has a dynamic shape: dimension ${k + 1} is ${d === null ? 'unknown' : `"${d}"`}; ` +
          'only the batch (dimension 0) may vary (export with a fixed input size: dynamic_axes only for the batch)',
      );
  });
  const sample = dims.slice(1) as number[];
  checkSize(`input "${input.name}"`, sample);
  const inputName = cleanName(input.name);
  const converter = new Converter(model, dims[0], gelus);
  const image = sample.length === 3;
  const inputShape = image ? [sample[1], sample[2], sample[0]] : [sample[0]];
  converter.defineInput(input.name, {
    kind: 'tensor',
    layer: inputName,
    shape: sample,
    layout: image ? 'image' : 'flat',
    flattened: null,
    nonNegative: false,
  });
  converter.convert();
  const inputLayer: LayerSpec = {
    name: inputName,
    className: 'InputLayer',
    config: { batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false, name: inputName },
    inbound: [],
  };
  return converter.result(opset, { name: input.name, dims }, inputShape, inputLayer);
}
