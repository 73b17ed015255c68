/**
 * One optimizer step of the training loop, in one of three implementations chosen by the backend
 * and the network (so that which one a run takes is a function of its key and backend, never of
 * chance):
 * - on wasm-blas, for chains, the native trainer (stages/lib/kernels/native-trainer.ts): the
 *   whole step in one native call, several times faster than TensorFlow.js on the study's small
 *   networks;
 * - on wasm-blas, for graphs (imported networks: residual adds, BatchNorm, strided, grouped and
 *   depthwise convolutions), the libtorch step (stages/lib/kernels/graph-trainer.ts) where its
 *   addon is built (docs/backends.md#imported-networks);
 * - elsewhere, or for a network neither implements, TensorFlow.js's `optimizer.minimize` over
 *   the trainable variables (saying once why the fast step is off).
 * All follow the same recipe (softmax cross-entropy, the optimizer's update rule); their results
 * differ only by floating-point order (docs/performance.md).
 *
 * Imports TensorFlow.js statically: load with `await import('./train-step.js')` from stage code.
 */
import * as tf from '@tensorflow/tfjs';
import { installedBlasAddon } from '../kernels/register.js';
import { GraphTrainer } from '../kernels/graph-trainer.js';
import type { OneCallTrainer } from '../kernels/one-call-trainer.js';
import { NativeTrainer, PLAIN_LAYER, type LayerTuning, type NativeOptimizer } from '../kernels/native-trainer.js';
import { loadTorchAddon } from '../kernels/torch-addon.js';
import { trainableVariables } from './models.js';

export interface StepResult {
  /** Mean training loss of the batch, before the update. */
  readonly loss: number;
  /** Samples of the batch classified correctly, before the update. */
  readonly hits: number;
}

export interface TrainStepper {
  readonly kind: 'native' | 'libtorch' | 'tfjs';
  /** One optimizer step on `rows` samples: `x` holds rows x (input size) values. */
  step(x: Float32Array, labels: Int32Array, rows: number): StepResult;
  /** Makes the network's variables hold the current weights: call before reading the network. */
  sync(): void;
  /**
   * Mean loss and accuracy of the current weights on `data` without touching the network (the
   * native step evaluates its own weights), or null: then sync() and evaluate the network.
   */
  evaluate(data: EvaluationData): Evaluation | null;
  dispose(): void;
}

/** Samples to evaluate on: rows x (input size) values and a label per row. */
export interface EvaluationData {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly rows: number;
}

export interface StepperOptions extends NativeOptimizer {
  readonly classes: number;
  /**
   * Per weighted layer (by name), a learning-rate multiplier and an L2 pull towards an anchor
   * (the transfer protocols: layer-wise decay, L2-SP; docs/science.md#beyond-freezing-a-prefix).
   * Absent, or every layer plain (multiplier 1, pull 0): the plain step, bit for bit.
   */
  readonly tuning?: ReadonlyMap<string, LayerTuning>;
  /** false: always the TensorFlow.js step (tests compare the two). Default true. */
  readonly native?: boolean;
}

const said = new Set<string>();

/** Says once per process why the native steps are not used (never silently slow). */
function sayOnce(reason: string): void {
  if (said.has(reason)) return;
  said.add(reason);
  process.stderr.write(`defrost: the native training step is off for this network (${reason}); using the TensorFlow.js step\n`);
}

function makeOptimizer(options: NativeOptimizer): tf.Optimizer {
  switch (options.kind) {
    case 'sgd':
      return tf.train.sgd(options.learningRate);
    case 'momentum':
      return tf.train.momentum(options.learningRate, options.momentum);
    case 'adam':
      return tf.train.adam(options.learningRate);
  }
}

/** A trainable variable with how it trains: its layer's tuning, the anchor its pull aims at. */
interface TunedVariable {
  readonly variable: tf.Variable;
  readonly rateScale: number;
  readonly pull: number;
  /** What the pull aims at (a copy of the layer's anchor; zeros without one), or null without a pull. */
  readonly anchor: tf.Tensor | null;
}

/** The trainable variables of `model` with their layer's tuning, in `trainableVariables` order. */
function tunedVariables(model: tf.LayersModel, tuning: ReadonlyMap<string, LayerTuning>): TunedVariable[] {
  const byVariable = new Map<tf.Variable, TunedVariable>();
  for (const layer of model.layers) {
    if (!layer.trainable) continue;
    const tuned = tuning.get(layer.name) ?? PLAIN_LAYER;
    const all = layer.weights.map((w) => w.read() as tf.Variable);
    for (const weight of layer.trainableWeights) {
      const variable = weight.read() as tf.Variable;
      const index = all.indexOf(variable);
      const anchor =
        tuned.pull <= 0 ? null : tuned.anchor === null ? tf.zerosLike(variable) : tf.tensor(tuned.anchor[index], variable.shape, 'float32');
      byVariable.set(variable, { variable, rateScale: tuned.rateScale, pull: tuned.pull, anchor });
    }
  }
  return trainableVariables(model).map((v) => byVariable.get(v) ?? { variable: v, rateScale: 1, pull: 0, anchor: null });
}

/** True when no layer changes the plain step (multiplier 1, no pull). */
function plain(tuning: ReadonlyMap<string, LayerTuning> | undefined): boolean {
  return tuning === undefined || [...tuning.values()].every((t) => t.rateScale === 1 && t.pull === 0);
}

class TfjsStepper implements TrainStepper {
  readonly kind = 'tfjs';
  /** One optimizer per learning-rate multiplier (Adam's update does not scale with the gradient). */
  private readonly groups: { optimizer: tf.Optimizer; variables: tf.Variable[] }[];
  private readonly variables: TunedVariable[];
  private readonly shape: number[];

  constructor(
    private readonly model: tf.LayersModel,
    private readonly options: StepperOptions,
  ) {
    this.variables = plain(options.tuning)
      ? trainableVariables(model).map((variable) => ({ variable, rateScale: 1, pull: 0, anchor: null }))
      : tunedVariables(model, options.tuning ?? new Map());
    const scales = [...new Set(this.variables.map((v) => v.rateScale))];
    this.groups = scales.map((scale) => ({
      optimizer: makeOptimizer({ ...options, learningRate: scale === 1 ? options.learningRate : options.learningRate * scale }),
      variables: this.variables.filter((v) => v.rateScale === scale).map((v) => v.variable),
    }));
    this.shape = (model.inputs[0].shape as number[]).slice(1);
  }

  step(x: Float32Array, labels: Int32Array, rows: number): StepResult {
    const { model, options, groups, variables } = this;
    return tf.tidy(() => {
      const input = tf.tensor(x.subarray(0, rows * this.shape.reduce((a, b) => a * b, 1)), [rows, ...this.shape], 'float32');
      const y = tf.tensor1d(labels.subarray(0, rows), 'int32');
      const target = tf.oneHot(y, options.classes);
      let hits: tf.Scalar | null = null;
      let crossEntropy: tf.Scalar | null = null;
      const loss = (): tf.Scalar => {
        const logits = model.apply(input, { training: true }) as tf.Tensor2D;
        hits = tf.keep(tf.equal(tf.argMax(logits, -1), y).sum() as tf.Scalar);
        const data = tf.losses.softmaxCrossEntropy(target, logits) as tf.Scalar;
        const pulled = variables.filter((v) => v.anchor !== null);
        if (pulled.length === 0) return data;
        crossEntropy = tf.keep(data.clone());
        // (pull / 2) ||w - anchor||^2 per pulled variable: its gradient is pull * (w - anchor).
        return pulled.reduce((sum, v) => sum.add(tf.sum(tf.square(v.variable.sub(v.anchor as tf.Tensor))).mul(v.pull / 2)), data);
      };
      let cost: tf.Scalar;
      if (groups.length === 1 && variables.every((v) => v.anchor === null)) {
        cost = groups[0].optimizer.minimize(loss, true, groups[0].variables) as tf.Scalar;
      } else {
        const { value, grads } = tf.variableGrads(
          loss,
          variables.map((v) => v.variable),
        );
        for (const group of groups) group.optimizer.applyGradients(Object.fromEntries(group.variables.map((v) => [v.name, grads[v.name]])));
        cost = value;
      }
      const h = hits as tf.Scalar | null;
      const ce = crossEntropy as tf.Scalar | null;
      const result = { loss: (ce ?? cost).dataSync()[0], hits: h ? h.dataSync()[0] : 0 };
      if (h) h.dispose();
      if (ce) ce.dispose();
      return result;
    });
  }

  sync(): void {}

  evaluate(): Evaluation | null {
    return null;
  }

  dispose(): void {
    for (const group of this.groups) group.optimizer.dispose();
    tf.dispose(this.variables.flatMap((v) => (v.anchor === null ? [] : [v.anchor])));
  }
}

class NativeStepper implements TrainStepper {
  constructor(
    readonly kind: 'native' | 'libtorch',
    private readonly trainer: OneCallTrainer,
    private readonly perRow: number,
  ) {}

  step(x: Float32Array, labels: Int32Array, rows: number): StepResult {
    return this.trainer.step(x, labels, rows);
  }

  sync(): void {
    this.trainer.sync();
  }

  evaluate(data: EvaluationData): Evaluation {
    return evaluateWith(this.trainer, this.perRow, data);
  }

  dispose(): void {}
}

export interface Evaluation {
  readonly accuracy: number;
  readonly loss: number;
}

/** Floats of activations a native forward pass may hold at once (~64 MB). */
const FORWARD_FLOATS = 16 << 20;

/**
 * Mean cross-entropy and accuracy of `model` on `rows` samples through a native forward pass (the
 * chain trainer's, or the libtorch step's for graphs, BatchNorm in inference mode), or null when
 * none is available (not wasm-blas, or a network neither implements): the caller then evaluates
 * with TensorFlow.js. Chunked so that the activations stay bounded.
 */
export function evaluateNatively(model: tf.LayersModel, features: Float32Array, labels: Int32Array, rows: number): Evaluation | null {
  if (rows === 0) return null;
  const native = oneCallTrainer(model, { kind: 'sgd', learningRate: 0, momentum: 0 });
  if (native === null || typeof native.trainer === 'string') return null;
  return evaluateWith(native.trainer, activationsPerRow(model), { features, labels, rows });
}

/**
 * The one-call trainer of `model` on the active backend: on wasm-blas, the chain trainer, else
 * the libtorch step where its addon loads; or why neither takes the network. Null off wasm-blas.
 */
function oneCallTrainer(
  model: tf.LayersModel,
  optimizer: NativeOptimizer,
  tuning?: ReadonlyMap<string, LayerTuning>,
): { readonly kind: 'native' | 'libtorch'; readonly trainer: OneCallTrainer } | { readonly trainer: string } | null {
  const addon = installedBlasAddon();
  if (addon === null || tf.getBackend() !== 'wasm') return null;
  const chain = NativeTrainer.translate(addon, model, optimizer, tuning);
  if (typeof chain !== 'string') return { kind: 'native', trainer: chain };
  const torch = loadTorchAddon();
  if (!torch.ok) return { trainer: `${chain}; and ${torch.reason}` };
  const graph = GraphTrainer.translate(torch.addon, model, optimizer, tuning);
  if (typeof graph !== 'string') return { kind: 'libtorch', trainer: graph };
  return { trainer: `${chain}; the libtorch step does not take it either: ${graph}` };
}

/** Floats of every layer's output for one sample: what a forward pass holds per row. */
function activationsPerRow(model: tf.LayersModel): number {
  return model.layers.reduce((sum, layer) => sum + (layer.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1), 0);
}

/** Softmax cross-entropy and accuracy of the trainer's current weights, in bounded chunks. */
function evaluateWith(trainer: OneCallTrainer, perRow: number, data: EvaluationData): Evaluation {
  const { features, labels, rows } = data;
  const chunk = Math.max(1, Math.min(rows, Math.floor(FORWARD_FLOATS / Math.max(1, perRow))));
  const dim = trainer.inputSize;
  const classes = trainer.classes;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < rows; start += chunk) {
    const count = Math.min(chunk, rows - start);
    const logits = trainer.forward(features.subarray(start * dim, (start + count) * dim), count);
    for (let r = 0; r < count; r++) {
      const z = logits.subarray(r * classes, (r + 1) * classes);
      let best = 0;
      for (let j = 1; j < classes; j++) if (z[j] > z[best]) best = j;
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += Math.exp(z[j] - z[best]);
      const label = labels[start + r];
      lossSum += Math.log(sum) - (z[label] - z[best]);
      if (best === label) correct++;
    }
  }
  return { accuracy: correct / rows, loss: lossSum / rows };
}

/** The fastest step available for `model` on the active backend. */
export function createStepper(model: tf.LayersModel, options: StepperOptions): TrainStepper {
  const native = options.native === false ? null : oneCallTrainer(model, options, options.tuning);
  if (native !== null && 'kind' in native) return new NativeStepper(native.kind, native.trainer, activationsPerRow(model));
  if (native !== null) sayOnce(native.trainer);
  return new TfjsStepper(model, options);
}
