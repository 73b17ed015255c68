/**
 * The native training step (native/src/trainer.h) for a TensorFlow.js layers network: the
 * network's layers are translated once into the trainer's layer list, its weights copied in, and
 * every step then runs forward, loss, backward and the optimizer update in one native call
 * (docs/performance.md explains why). The trained weights are copied back into the network's
 * variables on `sync()`, so evaluation, early stopping and saving keep working on the network.
 *
 * Only networks made of the layers the trainer knows are translated (dense; conv2d with 'same'
 * padding, stride 1; max pooling; global average pooling; activations linear, relu, tanh,
 * sigmoid, elu); for anything else `translate` says why, and the caller keeps the TensorFlow.js
 * step.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeKernels, NativeTrainerHandle } from './native-addon.js';
import { OneCallTrainer, type TrainerCalls } from './one-call-trainer.js';

/** The optimizer settings the trainer applies (the config's `train` section). */
export interface NativeOptimizer {
  readonly kind: 'sgd' | 'momentum' | 'adam';
  readonly learningRate: number;
  readonly momentum: number;
}

/**
 * How one weighted layer trains besides the recipe (the transfer protocols, docs/protocols.md):
 * its learning-rate multiplier and the strength of an L2 pull of its weights towards `anchor`
 * (one array per weight of the layer, in `getWeights()` order; null: towards zero).
 */
export interface LayerTuning {
  readonly rateScale: number;
  readonly pull: number;
  readonly anchor: readonly Float32Array[] | null;
}

/** The tuning of a layer that has none: the recipe as it is. */
export const PLAIN_LAYER: LayerTuning = { rateScale: 1, pull: 0, anchor: null };

const LAYER = { dense: 0, conv: 1, maxPool: 2, globalAveragePool: 3 } as const;
const OPTIMIZER = { sgd: 0, momentum: 1, adam: 2 } as const;
const ACTIVATION: Record<string, number> = { linear: 0, relu: 1, tanh: 2, sigmoid: 3, elu: 4 };

/** tf.train.adam's defaults. */
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;

interface LayerConfig {
  units?: number;
  filters?: number;
  activation?: string;
  useBias?: boolean;
  kernelSize?: number | number[];
  strides?: number | number[];
  poolSize?: number | number[];
  padding?: string;
  dilationRate?: number | number[];
  dataFormat?: string;
}

/** One translated layer: the spec words for the trainer, and the tfjs layer holding its weights. */
interface Translated {
  readonly words: number[];
  readonly weighted: tf.layers.Layer | null;
}

const square = (value: number | number[] | undefined, fallback: number): number | null => {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  return value.every((v) => v === value[0]) ? value[0] : null;
};

function translateLayer(layer: tf.layers.Layer): Translated | string {
  const config = layer.getConfig() as LayerConfig;
  const trainable = layer.trainable ? 1 : 0;
  const activation = (name: string | undefined): number | string =>
    ACTIVATION[name ?? 'linear'] ?? `activation '${name}' of layer ${layer.name}`;
  switch (layer.getClassName()) {
    case 'Dense': {
      const act = activation(config.activation);
      if (typeof act === 'string') return act;
      if (config.useBias === false) return `dense layer ${layer.name} without bias`;
      return { words: [LAYER.dense, config.units ?? 0, 0, 0, act, trainable], weighted: layer };
    }
    case 'Conv2D': {
      const act = activation(config.activation);
      if (typeof act === 'string') return act;
      const kernel = square(config.kernelSize, 0);
      if (
        kernel === null ||
        config.useBias === false ||
        config.padding !== 'same' ||
        square(config.strides, 1) !== 1 ||
        square(config.dilationRate, 1) !== 1 ||
        (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast')
      )
        return `conv layer ${layer.name} (only square kernels, 'same' padding, stride 1, bias, channels last)`;
      return { words: [LAYER.conv, config.filters ?? 0, kernel, 1, act, trainable], weighted: layer };
    }
    case 'MaxPooling2D': {
      const pool = square(config.poolSize, 2);
      const stride = square(config.strides ?? config.poolSize, pool ?? 2);
      if (pool === null || stride === null || config.padding === 'same')
        return `max pooling layer ${layer.name} (only square 'valid' windows)`;
      return { words: [LAYER.maxPool, 0, pool, stride, 0, 0], weighted: null };
    }
    case 'GlobalAveragePooling2D':
      return { words: [LAYER.globalAveragePool, 0, 0, 0, 0, 0], weighted: null };
    default:
      return `layer ${layer.name} of class ${layer.getClassName()}`;
  }
}

/** A network translated into the chain trainer, with its weights copied in. */
export class NativeTrainer extends OneCallTrainer {
  private constructor(
    addon: NativeKernels,
    handle: NativeTrainerHandle,
    weighted: readonly tf.layers.Layer[],
    anchors: readonly (readonly Float32Array[] | null)[],
    inputSize: number,
    classes: number,
  ) {
    const calls: TrainerCalls = {
      setParam: (index, values) => addon.trainerSetParam(handle, index, values),
      getParam: (index, out) => addon.trainerGetParam(handle, index, out),
      setAnchor: (index, values) => addon.trainerSetAnchor(handle, index, values),
      step: (x, labels, rows, out) => addon.trainerStep(handle, x, labels, rows, out),
      forward: (x, rows, logits) => addon.trainerForward(handle, x, rows, logits),
    };
    super(calls, weighted, anchors, inputSize, classes);
  }

  /**
   * Translates `model` for `addon`, or returns why it cannot be (a layer or setting the trainer
   * does not implement). The network must be a chain: input, layers, dense readout. `tuning`
   * gives a weighted layer's learning-rate multiplier and pull by layer name (absent: none).
   */
  static translate(
    addon: NativeKernels,
    model: tf.LayersModel,
    optimizer: NativeOptimizer,
    tuning: ReadonlyMap<string, LayerTuning> = new Map(),
  ): NativeTrainer | string {
    const inputShape = (model.inputs[0].shape as (number | null)[]).slice(1);
    if (inputShape.some((d) => d === null)) return 'an input of unknown shape';
    const dims = inputShape as number[];
    const [h, w, c] = dims.length === 1 ? [1, 1, dims[0]] : dims.length === 3 ? dims : [0, 0, 0];
    if (h === 0) return `an input of shape [${dims}]`;
    if (model.inputs.length !== 1 || model.outputs.length !== 1) return 'a network with several inputs or outputs';
    const words: number[] = [];
    const layerScalars: number[] = [];
    const weighted: tf.layers.Layer[] = [];
    const anchors: (readonly Float32Array[] | null)[] = [];
    let previous: tf.layers.Layer | null = null;
    let flat = dims.length === 1;
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') {
        previous = layer;
        continue;
      }
      const inbound = layer.inboundNodes.flatMap((node) => node.inboundLayers);
      const follows = previous === null ? inbound[0]?.getClassName() === 'InputLayer' : inbound[0] === previous;
      if (inbound.length !== 1 || !follows) return `layer ${layer.name} is not in a chain`;
      const translated = translateLayer(layer);
      if (typeof translated === 'string') return translated;
      const kind = translated.words[0];
      if (kind === LAYER.dense && !flat) return `dense layer ${layer.name} on image-shaped inputs`;
      if (kind !== LAYER.dense && flat) return `layer ${layer.name} needs image-shaped inputs`;
      flat = kind === LAYER.dense || kind === LAYER.globalAveragePool;
      words.push(...translated.words);
      const tuned = tuning.get(layer.name) ?? PLAIN_LAYER;
      layerScalars.push(tuned.rateScale, tuned.pull);
      if (translated.weighted) {
        weighted.push(translated.weighted);
        anchors.push(tuned.pull > 0 ? tuned.anchor : null);
      }
      previous = layer;
    }
    const last = model.layers[model.layers.length - 1];
    if (last.getClassName() !== 'Dense' || (last.getConfig() as LayerConfig).activation !== 'linear')
      return 'a network whose last layer is not a linear dense readout';
    const classes = (last.getConfig() as LayerConfig).units ?? 0;
    const layerCount = words.length / 6;
    const spec = [h, w, c, OPTIMIZER[optimizer.kind], layerCount, ...words];
    const scalars = [optimizer.learningRate, ADAM_BETA1, ADAM_BETA2, tf.backend().epsilon(), optimizer.momentum, ...layerScalars];
    const handle = addon.trainerCreate(Int32Array.from(spec), Float32Array.from(scalars));
    return new NativeTrainer(addon, handle, weighted, anchors, h * w * c, classes);
  }
}
