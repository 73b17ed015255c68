/**
 * The seeded training loop every training stage uses (not `model.fit`, whose shuffling cannot be
 * seeded). Everything random derives from the instance seed through named streams:
 * `train/shuffle/epoch<e>` orders the batches of epoch e, so on one backend the same (network,
 * data, validation set, recipe, seed) gives bit-identical weights and metrics. Every learning
 * rate of a list starts from the same weights and sees the same batch order.
 *
 * Early stopping (docs/protocol.md) watches a validation set the caller hands in, drawn from the
 * task's distribution and disjoint from the training data and the test set: training stops after
 * `patience` checks without improvement (`stopped_by: patience`) or at the budget
 * (`stopped_by: budget`), and the best check's weights are restored.
 *
 * Only the weights of trainable layers are handed to the optimizer, so frozen blocks keep their
 * exact bytes. A non-finite loss stops training with a `StageFailure` instead of storing garbage.
 *
 * Imports TensorFlow.js statically: load with `await import('./training.js')` from stage code.
 */
import * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../../pipeline/errors.js';
import type { EarlyStoppingConfig, TrainConfig } from './recipe.js';
import { trainingState } from './models.js';
import { anchorsOf, phaseTuning, setPhaseTrainable, type Anchors } from './phases.js';
import type { TrainingPhase } from './transfer-modes/mode.js';
import { Rng } from '../random.js';
import { createStepper, evaluateNatively } from './train-step.js';

/** The `train` section of the config, as the training stages receive it (the schema's output type). */
export type TrainRecipe = TrainConfig;

/** Early stopping on the validation set (docs/protocol.md): `train.early_stopping` of the config. */
export type EarlyStoppingRecipe = EarlyStoppingConfig;

/** Why training ended: no improvement for `patience` checks, or the budget ran out. */
export type StopReason = 'patience' | 'budget';

/** Labelled samples, rows of `dim` values each (images flattened HWC). */
export interface LabelledData {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly rows: number;
}

/** One row of a training curve. Validation columns are null without early stopping. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (measured before each update). */
  readonly loss: number;
  /** Fraction of the epoch's training samples classified correctly (before each update). */
  readonly train_accuracy: number;
  readonly val_loss: number | null;
  readonly val_accuracy: number | null;
}

export interface TrainingResult {
  /** The curve of the kept learning rate. */
  readonly curve: EpochRecord[];
  /** Optimizer steps taken (with the kept learning rate). */
  readonly trainSteps: number;
  /** Epochs run (fewer than the budget when early stopping ended training). */
  readonly epochs: number;
  /** Epoch whose weights were kept (the last, or the best on validation with early stopping). */
  readonly bestEpoch: number;
  readonly stoppedBy: StopReason;
  /** The learning rate of the kept weights. */
  readonly learningRate: number;
  /** The kept weights on the validation set; null when no validation set was given. */
  readonly validation: Evaluation | null;
}

export interface TrainOptions {
  readonly recipe: TrainRecipe;
  /** Held-out data of the task's distribution; required by early stopping and a rate list. */
  readonly validation?: LabelledData | null;
  readonly seed: number;
  readonly classes: number;
  /** Names the stage in failure messages, e.g. "transfer[correlation=0.8,n=50,...]". */
  readonly label: string;
  readonly signal?: AbortSignal;
  readonly onEpoch?: (record: EpochRecord, plannedEpochs: number) => void;
  /**
   * The phases of a transfer protocol (`prepareTransfer` returns them; docs/science.md#beyond-freezing-a-prefix).
   * Absent: one phase that trains the layers trainable now until early stopping.
   */
  readonly schedule?: readonly TrainingPhase[];
}

export interface Evaluation {
  readonly accuracy: number;
  readonly loss: number;
}

/**
 * The epoch budget (`epochs`, or `early_stopping.max_epochs`), extended so that at least
 * `min_steps` steps fit in it, and how often validation is checked (every `checkEvery` epochs).
 */
export function plannedEpochs(
  recipe: TrainRecipe,
  trainRows: number,
): { epochs: number; batchSize: number; stepsPerEpoch: number; checkEvery: number } {
  const batchSize = Math.max(1, Math.min(recipe.batch_size, trainRows));
  const stepsPerEpoch = Math.ceil(trainRows / batchSize);
  const stopping = recipe.early_stopping;
  const epochs = Math.max(stopping ? stopping.max_epochs : recipe.epochs, Math.ceil(recipe.min_steps / stepsPerEpoch));
  const checkEvery = stopping ? Math.max(1, Math.ceil(stopping.check_steps / stepsPerEpoch)) : epochs;
  return { epochs, batchSize, stepsPerEpoch, checkEvery };
}

/** The learning rates a recipe tries, in order. */
export function learningRates(recipe: Pick<TrainRecipe, 'learning_rate'>): number[] {
  return typeof recipe.learning_rate === 'number' ? [recipe.learning_rate] : [...recipe.learning_rate];
}

/** True when `a` is a better validation result than `b` under the monitor (strictly). */
function better(a: Evaluation, b: Evaluation, monitor: EarlyStoppingRecipe['monitor']): boolean {
  return monitor === 'val_loss' ? a.loss < b.loss : a.accuracy > b.accuracy;
}

function inputShapeOf(model: tf.LayersModel): number[] {
  return (model.inputs[0].shape as (number | null)[]).slice(1) as number[];
}

/**
 * Copies rows `indices[start..end)` of `data` into one batch of inputs and labels: into `into`
 * when given (the training loop reuses one pair of buffers for every step), else new arrays.
 */
function gatherBatch(
  data: LabelledData,
  dim: number,
  indices: Int32Array,
  start: number,
  end: number,
  into?: { x: Float32Array; y: Int32Array },
): { x: Float32Array; y: Int32Array } {
  const size = end - start;
  const x = into?.x ?? new Float32Array(size * dim);
  const y = into?.y ?? new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const row = indices[start + i];
    x.set(data.features.subarray(row * dim, (row + 1) * dim), i * dim);
    y[i] = data.labels[row];
  }
  return { x, y };
}

/** The rows `indices` of `data`, in that order (a seed's training subset of the pool). */
export function rowsOf(data: LabelledData, indices: Int32Array, dim: number): LabelledData {
  const { x, y } = gatherBatch(data, dim, indices, 0, indices.length);
  return { features: x, labels: y, rows: indices.length };
}

/** Lets the worker's event loop deliver abort signals and progress messages. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * How long the training loop computes between two turns of the event loop. Each turn is an
 * epoll_wait system call and a round of the worker's housekeeping; yielding every 32 steps, and
 * at every epoch, made a 20-sample run (one step per epoch, ~2,000 epochs) turn the loop ~2,000
 * times in a fraction of a second (docs/performance.md, "System time"). 10 ms keeps an abort or
 * SIGTERM answered within a hundredth of a second, which is all the turns are for.
 */
const YIELD_EVERY_MS = 10;

function checkAborted(options: TrainOptions): void {
  if (options.signal?.aborted) throw new StageFailure(`${options.label}: interrupted`);
}

/** Mean cross-entropy and accuracy of `model` on `data`, in chunks (no training). */
export function evaluateNetwork(model: tf.LayersModel, data: LabelledData, classes: number, chunk = 1024): Evaluation {
  if (data.rows === 0) return { accuracy: Number.NaN, loss: Number.NaN };
  const native = evaluateNatively(model, data.features, data.labels, data.rows);
  if (native) return native;
  const shape = inputShapeOf(model);
  const dim = shape.reduce((a, b) => a * b, 1);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.rows; start += chunk) {
    const end = Math.min(data.rows, start + chunk);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor(data.features.subarray(start * dim, end * dim), [end - start, ...shape], 'float32');
      const y = tf.tensor1d(data.labels.subarray(start, end), 'int32');
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits, undefined, undefined, tf.Reduction.SUM);
      const hits = tf.equal(tf.argMax(logits, -1), y).sum();
      return [loss.dataSync()[0], hits.dataSync()[0]];
    });
    lossSum += l;
    correct += c;
  }
  return { accuracy: correct / data.rows, loss: lossSum / data.rows };
}

/**
 * Trains `model` in place on `data` with the recipe; only trainable layers change. With a list
 * of learning rates every rate starts from the model's current weights and the best on
 * validation (by the early-stopping monitor, validation accuracy without early stopping; the first
 * rate on a tie) is kept.
 */
export async function trainNetwork(model: tf.LayersModel, data: LabelledData, options: TrainOptions): Promise<TrainingResult> {
  const { recipe, label } = options;
  const shape = inputShapeOf(model);
  const dim = shape.reduce((a, b) => a * b, 1);
  if (data.features.length !== data.rows * dim)
    throw new StageFailure(
      `${label}: the data has ${data.features.length / Math.max(1, data.rows)} values per sample; the network takes ${dim}`,
    );
  if (data.rows === 0) throw new StageFailure(`${label}: no training samples`);
  const rates = learningRates(recipe);
  const validation = options.validation ?? null;
  if (validation === null && (recipe.early_stopping !== null || rates.length > 1))
    throw new StageFailure(`${label}: early stopping and a list of learning rates need a validation set (task.validation_size)`);
  if (validation !== null && validation.rows === 0) throw new StageFailure(`${label}: the validation set is empty`);
  if (validation !== null && validation.features.length !== validation.rows * dim)
    throw new StageFailure(
      `${label}: the validation data has ${validation.features.length / validation.rows} values per sample; the network takes ${dim}`,
    );
  if (rates.length === 1) return trainWithRate(model, data, validation, rates[0], options);

  const variables = scheduleVariables(model, options.schedule);
  const start = variables.map((v) => tf.clone(v));
  const monitor = recipe.early_stopping?.monitor ?? 'val_accuracy';
  let kept: { result: TrainingResult; weights: tf.Tensor[] } | null = null;
  try {
    for (const rate of rates) {
      variables.forEach((v, i) => v.assign(start[i]));
      const result = await trainWithRate(model, data, validation, rate, options);
      if (kept === null || better(result.validation as Evaluation, kept.result.validation as Evaluation, monitor)) {
        if (kept) tf.dispose(kept.weights);
        kept = { result, weights: variables.map((v) => tf.clone(v)) };
      }
    }
    const chosen = kept as { result: TrainingResult; weights: tf.Tensor[] };
    variables.forEach((v, i) => v.assign(chosen.weights[i]));
    return chosen.result;
  } finally {
    tf.dispose(start);
    if (kept) tf.dispose(kept.weights);
  }
}

/**
 * Every variable some phase of `schedule` trains (the trainable ones now without a schedule): what
 * a kept check and a list of learning rates must save and restore. Leaves the first phase's
 * trainable layers set.
 */
function scheduleVariables(model: tf.LayersModel, schedule: readonly TrainingPhase[] | undefined): tf.Variable[] {
  if (schedule === undefined) return trainingState(model);
  const seen = new Set<tf.Variable>();
  for (const phase of [...schedule].reverse()) {
    setPhaseTrainable(model, phase);
    for (const v of trainingState(model)) seen.add(v);
  }
  return [...seen];
}

/** How long one phase runs: its epochs, and whether it stops on patience (the `converge` phases). */
function phaseEpochs(phase: TrainingPhase, recipe: TrainRecipe, rows: number): { epochs: number; converge: boolean } {
  if (phase.length === 'converge') return { epochs: plannedEpochs(recipe, rows).epochs, converge: true };
  const { stepsPerEpoch } = plannedEpochs(recipe, rows);
  return { epochs: Math.max(1, Math.ceil(phase.length.steps / stepsPerEpoch)), converge: false };
}

/**
 * One training run at one learning rate (early stopping and best-check restore included), through
 * the phases of the schedule: each phase sets which layers learn and how (./phases.ts) and starts
 * a train step of its own (a fresh optimizer state) from the weights the previous phase ended
 * with; epochs are numbered across phases. Validation is checked every `checkEvery` epochs of a
 * phase and at its end; the best check of the whole run is kept; only a `converge` phase stops on
 * patience (checks since the best or since the phase began) and hands the best check's weights
 * to the next phase; the last phase says why training ended. Without a schedule: one phase
 * training what is trainable now.
 */
async function trainWithRate(
  model: tf.LayersModel,
  train: LabelledData,
  validation: LabelledData | null,
  rate: number,
  options: TrainOptions,
): Promise<TrainingResult> {
  const { recipe, seed, classes, label } = options;
  const shape = inputShapeOf(model);
  const dim = shape.reduce((a, b) => a * b, 1);
  const stopping = recipe.early_stopping;
  const { batchSize, stepsPerEpoch, checkEvery } = plannedEpochs(recipe, train.rows);
  const schedule = options.schedule ?? null;
  const variables = scheduleVariables(model, options.schedule);
  const phases = schedule ?? [null];
  const pulled = [...new Set((schedule ?? []).flatMap((p) => p.pull?.anchored ?? []))];
  const anchors: Anchors = anchorsOf(model, pulled);
  const planned = phases.reduce(
    (sum, phase) => sum + (phase === null ? plannedEpochs(recipe, train.rows).epochs : phaseEpochs(phase, recipe, train.rows).epochs),
    0,
  );
  const buffers = { x: new Float32Array(batchSize * dim), y: new Int32Array(batchSize) };
  const curve: EpochRecord[] = [];
  let steps = 0;
  let epoch = 0;
  let best: { evaluation: Evaluation; epoch: number; weights: tf.Tensor[] } | null = null;
  let bestEpoch = 0;
  let stoppedBy: StopReason = 'budget';
  let lastYield = -Infinity;
  try {
    for (const phase of phases) {
      const tuning = phase === null ? undefined : (setPhaseTrainable(model, phase), phaseTuning(model, phase, anchors));
      const { epochs: phaseLength, converge } =
        phase === null ? { epochs: plannedEpochs(recipe, train.rows).epochs, converge: true } : phaseEpochs(phase, recipe, train.rows);
      // The step itself (native on wasm-blas, see train-step.ts); sync() before reading the network.
      const stepper = createStepper(model, { kind: recipe.optimizer, learningRate: rate, momentum: recipe.momentum, classes, tuning });
      // The native step evaluates its own weights; the network is synced only for a new best.
      const evaluate = (data: LabelledData): Evaluation => {
        const own = stepper.evaluate(data);
        if (own) return own;
        stepper.sync();
        return evaluateNetwork(model, data, classes);
      };
      stoppedBy = 'budget';
      let sinceBest = 0;
      try {
        for (let e = 1; e <= phaseLength; e++) {
          epoch++;
          const order = new Rng(seed, `train/shuffle/epoch${epoch}`).permutation(train.rows);
          let lossSum = 0;
          let correct = 0;
          for (let step = 0; step < stepsPerEpoch; step++) {
            if (performance.now() - lastYield >= YIELD_EVERY_MS) {
              await yieldToEventLoop();
              checkAborted(options);
              lastYield = performance.now();
            }
            const start = step * batchSize;
            const end = Math.min(train.rows, start + batchSize);
            const batch = gatherBatch(train, dim, order, start, end, buffers);
            const { loss: batchLoss, hits: batchHits } = stepper.step(batch.x, batch.y, end - start);
            steps++;
            if (!Number.isFinite(batchLoss)) {
              throw new StageFailure(
                `${label}: training diverged at epoch ${epoch} (step ${steps}): the loss is ${batchLoss}. ` +
                  `Try a smaller train.learning_rate (now ${rate}).`,
              );
            }
            lossSum += batchLoss * (end - start);
            correct += batchHits;
          }
          const check = stopping !== null && validation !== null && (e % checkEvery === 0 || e === phaseLength);
          const val = check && validation ? evaluate(validation) : null;
          const record: EpochRecord = {
            epoch,
            loss: lossSum / train.rows,
            train_accuracy: correct / train.rows,
            val_loss: val ? val.loss : null,
            val_accuracy: val ? val.accuracy : null,
          };
          curve.push(record);
          options.onEpoch?.(record, planned);
          bestEpoch = epoch;

          if (val && stopping) {
            if (!Number.isFinite(val.loss))
              throw new StageFailure(
                `${label}: the validation loss is ${val.loss} at epoch ${epoch}. Try a smaller train.learning_rate (now ${rate}).`,
              );
            if (best === null || better(val, best.evaluation, stopping.monitor)) {
              if (best) tf.dispose(best.weights);
              stepper.sync();
              best = { evaluation: val, epoch, weights: variables.map((v) => tf.clone(v)) };
              sinceBest = 0;
            } else if (++sinceBest >= stopping.patience && converge) {
              stoppedBy = 'patience';
              break;
            }
          }
        }
        stepper.sync();
      } finally {
        stepper.dispose();
      }
      // A phase that ran to convergence hands its best check on (LP-FT's probe, not its last epochs).
      if (converge && phase !== phases[phases.length - 1] && best !== null) {
        const restored = best;
        variables.forEach((v, i) => v.assign(restored.weights[i]));
      }
    }
    let kept: Evaluation | null = null;
    if (best) {
      const restored = best;
      variables.forEach((v, i) => v.assign(restored.weights[i]));
      bestEpoch = restored.epoch;
      kept = restored.evaluation;
    } else if (validation) {
      kept = evaluateNetwork(model, validation, classes);
    }
    return { curve, trainSteps: steps, epochs: curve.length, bestEpoch, stoppedBy, learningRate: rate, validation: kept };
  } finally {
    if (best) tf.dispose(best.weights);
  }
}
