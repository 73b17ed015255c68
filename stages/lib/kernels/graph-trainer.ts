/**
 * The libtorch training step (native/torch/src/graph-trainer.h) for a TensorFlow.js network
 * graph: imported ONNX networks and functional TensorFlow.js ones, with residual adds,
 * concatenations, BatchNorm, strided, padded, grouped and depthwise convolutions
 * (docs/backends.md#imported-networks says why libtorch). The graph is translated once into the
 * trainer's node list and its weights copied in; every step then runs forward, loss, backward
 * and the optimizer update in one native call, with the update formulas of the other steps.
 * `sync()` copies the trained weights and BatchNorm statistics back into the network's
 * variables, so evaluation, early stopping and saving keep working on the network.
 *
 * A layer or setting outside the trainer's set makes `translate` return why; the caller keeps
 * TensorFlow.js's step and says so.
 */
import * as tf from '@tensorflow/tfjs';
import { PLAIN_LAYER, type LayerTuning, type NativeOptimizer } from './native-trainer.js';
import { OneCallTrainer, type TrainerCalls } from './one-call-trainer.js';
import type { GraphTrainerHandle, TorchAddon } from './torch-addon.js';

/** Operation codes of native/torch/src/graph-trainer.h. */
const OP = {
  conv: 0,
  dense: 1,
  batchNorm: 2,
  activation: 3,
  add: 4,
  concat: 5,
  maxPool: 6,
  averagePool: 7,
  globalAveragePool: 8,
  flatten: 9,
  toImage: 10,
  zeroPad: 11,
} as const;
/** TensorFlow.js's activations (its 'gelu' is the exact, erf form: PyTorch's default). */
const ACTIVATION: Record<string, number> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3, elu: 4, gelu: 6 };
const LEAKY_RELU = 5;
const OPTIMIZER = { sgd: 0, momentum: 1, adam: 2 } as const;
/** Words and scalars per node (kNodeWords, kNodeScalars). */
const NODE_WORDS = 18;
const NODE_SCALARS = 4;

/** tf.train.adam's defaults. */
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;

interface LayerConfig {
  units?: number;
  filters?: number;
  groups?: number;
  depthMultiplier?: number;
  activation?: string;
  useBias?: boolean;
  kernelSize?: number | number[];
  strides?: number | number[];
  poolSize?: number | number[];
  padding?: string | number | number[] | number[][];
  dilationRate?: number | number[];
  dataFormat?: string;
  axis?: number | number[];
  center?: boolean;
  scale?: boolean;
  epsilon?: number;
  momentum?: number;
  alpha?: number;
  maxValue?: number | null;
  rate?: number;
  targetShape?: number[];
}

/** The shape of a value in TensorFlow.js's terms: an image [h, w, c] or features [f]. */
type ValueShape = readonly number[];

const pair = (value: number | number[] | undefined, fallback: number): [number, number] =>
  value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : [value[0], value[1] ?? value[0]];

/** TensorFlow.js's 'same' padding of one dimension: [before, after] (the extra one after). */
function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** One node in the making: its words (after op and inputs), scalars and weighted layer. */
interface NodeDraft {
  readonly op: number;
  readonly inputs: readonly number[];
  readonly activation?: number;
  readonly bias?: boolean;
  readonly attributes?: readonly number[];
  readonly scalars?: readonly [number, number];
  readonly out: ValueShape;
}

/** The trainer's node for `layer` reading `inputs` of shapes `shapes`, or why there is none. */
function draft(layer: tf.layers.Layer, inputs: readonly number[], shapes: readonly ValueShape[]): NodeDraft | string {
  const config = layer.getConfig() as LayerConfig;
  const className = layer.getClassName();
  const what = `layer ${layer.name} (${className})`;
  const shape = shapes[0];
  const image = shape.length === 3;
  const activation = (): number | string => ACTIVATION[config.activation ?? 'linear'] ?? `activation '${config.activation}' of ${what}`;
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') return `${what} with channels first`;
  switch (className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'GroupedConv2D': {
      if (!image) return `${what} on features`;
      const act = activation();
      if (typeof act === 'string') return act;
      const [h, w, c] = shape;
      const [kh, kw] = pair(config.kernelSize, 1);
      const [sh, sw] = pair(config.strides, 1);
      const [dh, dw] = pair(config.dilationRate, 1);
      const depthwise = className === 'DepthwiseConv2D';
      const groups = depthwise ? c : (config.groups ?? 1);
      const filters = depthwise ? c * (config.depthMultiplier ?? 1) : (config.filters ?? 0);
      const [t, b] = config.padding === 'same' ? samePadding(h, kh, sh, dh) : [0, 0];
      const [l, r] = config.padding === 'same' ? samePadding(w, kw, sw, dw) : [0, 0];
      const out = [Math.floor((h + t + b - (kh - 1) * dh - 1) / sh) + 1, Math.floor((w + l + r - (kw - 1) * dw - 1) / sw) + 1, filters];
      const attributes = [filters, kh, kw, sh, sw, dh, dw, groups, t, b, l, r];
      return { op: OP.conv, inputs, activation: act, bias: config.useBias !== false, attributes, out };
    }
    case 'Dense': {
      if (image) return `${what} on an image (add a Flatten)`;
      const act = activation();
      if (typeof act === 'string') return act;
      return {
        op: OP.dense,
        inputs,
        activation: act,
        bias: config.useBias !== false,
        attributes: [config.units ?? 0],
        out: [config.units ?? 0],
      };
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(config.axis) ? config.axis : [config.axis ?? -1];
      if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== shape.length)) return `${what} over an axis other than the channels`;
      if (config.center === false || config.scale === false) return `${what} without centre or scale`;
      // PyTorch's momentum is the weight of the batch; TensorFlow.js's that of the running value.
      return { op: OP.batchNorm, inputs, scalars: [config.epsilon ?? 1e-3, 1 - (config.momentum ?? 0.99)], out: shape };
    }
    case 'Activation': {
      const act = activation();
      if (typeof act === 'string') return act;
      return { op: OP.activation, inputs, activation: act, out: shape };
    }
    case 'ReLU':
      if (config.maxValue !== undefined && config.maxValue !== null) return `${what} with a maximum`;
      return { op: OP.activation, inputs, activation: ACTIVATION.relu, out: shape };
    case 'LeakyReLU':
      return { op: OP.activation, inputs, activation: LEAKY_RELU, scalars: [config.alpha ?? 0.3, 0], out: shape };
    case 'Add':
      if (shapes.some((s) => s.join() !== shape.join())) return `${what} of differently shaped inputs`;
      return { op: OP.add, inputs, out: shape };
    case 'Concatenate': {
      const axis = typeof config.axis === 'number' ? config.axis : -1;
      if (axis !== -1 && axis !== shape.length) return `${what} along an axis other than the channels`;
      if (shapes.some((s) => s.length !== shape.length || s.slice(0, -1).join() !== shape.slice(0, -1).join()))
        return `${what} of differently shaped inputs`;
      const out = [...shape.slice(0, -1), shapes.reduce((sum, s) => sum + s[s.length - 1], 0)];
      return { op: OP.concat, inputs, out };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (!image) return `${what} on features`;
      const [h, w, c] = shape;
      const [kh, kw] = pair(config.poolSize, 2);
      const [sh, sw] = pair(config.strides ?? config.poolSize, 2);
      const [t, b] = config.padding === 'same' ? samePadding(h, kh, sh, 1) : [0, 0];
      const [l, r] = config.padding === 'same' ? samePadding(w, kw, sw, 1) : [0, 0];
      if (t !== b || l !== r || 2 * t > kh || 2 * l > kw) return `${what} with padding PyTorch's pooling does not express`;
      const out = [Math.floor((h + 2 * t - kh) / sh) + 1, Math.floor((w + 2 * l - kw) / sw) + 1, c];
      return { op: className === 'MaxPooling2D' ? OP.maxPool : OP.averagePool, inputs, attributes: [kh, kw, sh, sw, t, b, l, r], out };
    }
    case 'GlobalAveragePooling2D':
      if (!image) return `${what} on features`;
      return { op: OP.globalAveragePool, inputs, out: [shape[2]] };
    case 'Flatten':
      return { op: OP.flatten, inputs, out: [shape.reduce((a, b) => a * b, 1)] };
    case 'Reshape': {
      const target = config.targetShape ?? [];
      if (image || target.length !== 3 || target[0] !== 1 || target[1] !== 1 || target[2] !== shape[0])
        return `${what} other than features [c] to an image [1, 1, c]`;
      return { op: OP.toImage, inputs, out: [1, 1, shape[0]] };
    }
    case 'ZeroPadding2D': {
      if (!image) return `${what} on features`;
      const p = config.padding;
      const [[t, b], [l, r]] =
        Array.isArray(p) && Array.isArray(p[0]) ? (p as number[][]) : [pair(p as number | number[], 1), pair(p as number | number[], 1)];
      return { op: OP.zeroPad, inputs, attributes: [t, b, l, r], out: [shape[0] + t + b, shape[1] + l + r, shape[2]] };
    }
    default:
      return what;
  }
}

/** A network graph translated into a libtorch trainer, with its weights copied in. */
export class GraphTrainer extends OneCallTrainer {
  private constructor(
    addon: TorchAddon,
    handle: GraphTrainerHandle,
    weighted: readonly tf.layers.Layer[],
    anchors: readonly (readonly Float32Array[] | null)[],
    inputSize: number,
    classes: number,
  ) {
    const calls: TrainerCalls = {
      setParam: (index, values) => addon.graphSetParam(handle, index, values),
      getParam: (index, out) => addon.graphGetParam(handle, index, out),
      setAnchor: (index, values) => addon.graphSetAnchor(handle, index, values),
      step: (x, labels, rows, out) => addon.graphStep(handle, x, labels, rows, out),
      forward: (x, rows, logits) => addon.graphForward(handle, x, rows, logits),
    };
    super(calls, weighted, anchors, inputSize, classes);
  }

  /**
   * Translates `model` for `addon`, or returns why it cannot be (a layer or setting the trainer
   * does not implement). `tuning` gives a weighted layer's learning-rate multiplier and pull by
   * layer name (absent: none).
   */
  static translate(
    addon: TorchAddon,
    model: tf.LayersModel,
    optimizer: NativeOptimizer,
    tuning: ReadonlyMap<string, LayerTuning> = new Map(),
  ): GraphTrainer | string {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) return 'a network with several inputs or outputs';
    const inputShape = (model.inputs[0].shape as (number | null)[]).slice(1);
    if (inputShape.some((d) => d === null)) return 'an input of unknown shape';
    const dims = inputShape as number[];
    if (dims.length !== 3) return `an input of shape [${dims}] (the libtorch step takes images)`;
    const valueOf = new Map<tf.layers.Layer, number>([[model.inputLayers[0], 0]]);
    const shapes: ValueShape[] = [dims];
    const words: number[] = [];
    const scalars: number[] = [];
    const weighted: tf.layers.Layer[] = [];
    const anchors: (readonly Float32Array[] | null)[] = [];
    /** Appends one node reading two values at most; returns the value it makes. */
    const push = (node: NodeDraft, inputs: readonly number[], layer: tf.layers.Layer | null): number => {
      const tuned = layer === null ? PLAIN_LAYER : (tuning.get(layer.name) ?? PLAIN_LAYER);
      const head = [node.op, inputs[0], inputs[1] ?? -1, layer?.trainable ? 1 : 0, node.activation ?? 0, node.bias ? 1 : 0];
      const attributes = node.attributes ?? [];
      words.push(...head, ...attributes, ...new Array<number>(NODE_WORDS - head.length - attributes.length).fill(0));
      scalars.push(tuned.rateScale, tuned.pull, ...(node.scalars ?? new Array<number>(NODE_SCALARS - 2).fill(0)));
      shapes.push(node.out);
      return shapes.length - 1;
    };
    const pending = model.layers.filter((layer) => layer !== model.inputLayers[0]);
    // Topological order: a layer is placed once every layer it reads has been.
    while (pending.length > 0) {
      const index = pending.findIndex((layer) => layer.inboundNodes.every((node) => node.inboundLayers.every((l) => valueOf.has(l))));
      if (index < 0) return 'a graph whose layers are not all reachable from its input';
      const [layer] = pending.splice(index, 1);
      if (layer.inboundNodes.length !== 1) return `layer ${layer.name} is applied ${layer.inboundNodes.length} times`;
      const inputs = layer.inboundNodes[0].inboundLayers.map((l) => valueOf.get(l) as number);
      if (inputs.length === 0) return `layer ${layer.name} reads nothing`;
      const className = layer.getClassName();
      if (className === 'Dropout' || className === 'InputLayer') {
        if (className === 'Dropout' && ((layer.getConfig() as LayerConfig).rate ?? 0) > 0) return `layer ${layer.name} (Dropout)`;
        valueOf.set(layer, inputs[0]);
        continue;
      }
      const node = draft(
        layer,
        inputs,
        inputs.map((i) => shapes[i]),
      );
      if (typeof node === 'string') return node;
      if (node.op === OP.add || node.op === OP.concat) {
        // n-ary sums and concatenations as a chain of binary ones (the same values).
        let value = inputs[0];
        for (let k = 1; k < inputs.length; k++) {
          const partial =
            node.op === OP.add
              ? node.out
              : [...node.out.slice(0, -1), inputs.slice(0, k + 1).reduce((s, i) => s + shapes[i][shapes[i].length - 1], 0)];
          value = push({ ...node, out: partial }, [value, inputs[k]], layer);
        }
        valueOf.set(layer, value);
        continue;
      }
      if (inputs.length !== 1) return `layer ${layer.name} reads ${inputs.length} tensors`;
      valueOf.set(layer, push(node, inputs, layer));
      if (layer.getWeights().length > 0) {
        const tuned = tuning.get(layer.name) ?? PLAIN_LAYER;
        weighted.push(layer);
        anchors.push(tuned.pull > 0 ? tuned.anchor : null);
      }
    }
    const output = valueOf.get(model.outputLayers[0]);
    if (output !== shapes.length - 1 || shapes[output].length !== 1) return 'a network whose output is not its last layer';
    const count = shapes.length - 1;
    const spec = Int32Array.from([dims[0], dims[1], dims[2], OPTIMIZER[optimizer.kind], count, ...words]);
    const settings = Float32Array.from([
      optimizer.learningRate,
      ADAM_BETA1,
      ADAM_BETA2,
      tf.backend().epsilon(),
      optimizer.momentum,
      ...scalars,
    ]);
    let handle: GraphTrainerHandle;
    try {
      handle = addon.graphCreate(spec, settings);
    } catch (error) {
      return `the libtorch step refused it: ${error instanceof Error ? error.message : String(error)}`;
    }
    const sizes = addon.graphParamSizes(handle);
    const weights = weighted.flatMap((layer) => layer.getWeights());
    if (weights.length !== sizes.length || weights.some((w, i) => w.size !== sizes[i]))
      return 'weights the libtorch step lays out differently';
    return new GraphTrainer(addon, handle, weighted, anchors, dims[0] * dims[1] * dims[2], shapes[output][0]);
  }
}
