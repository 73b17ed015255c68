/**
 * The seeded training loop every training stage uses (not `model.fit`, whose shuffling cannot be
 * seeded). Everything random derives from the instance seed through named streams:
 * `train/shuffle/epoch<e>` orders the batches of epoch e and `train/validation` picks the
 * early-stopping split, so on one backend the same (network, data, recipe, seed) gives
 * bit-identical weights and metrics.
 *
 * Only the weights of trainable layers are handed to the optimizer, so frozen blocks keep their
 * exact bytes. A non-finite loss stops training with a `StageFailure` instead of storing garbage.
 *
 * Imports TensorFlow.js statically: load with `await import('./training.js')` from stage code.
 */
import * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../pipeline/errors.js';
import { trainableVariables } from './models.js';
import { Rng } from './random.js';
import { createStepper, evaluateNatively } from './train-step.js';

/** The `train` section of the config, as the training stages receive it. */
export interface TrainRecipe {
  readonly optimizer: 'sgd' | 'momentum' | 'adam';
  readonly learning_rate: number;
  readonly momentum: number;
  readonly batch_size: number;
  readonly epochs: number;
  readonly min_steps: number;
  readonly early_stopping: { readonly patience: number; readonly validation_fraction: number } | null;
}

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
  readonly curve: EpochRecord[];
  /** Optimizer steps taken. */
  readonly trainSteps: number;
  /** Epochs run (fewer than planned when early stopping ended training). */
  readonly epochs: number;
  /** Epoch whose weights were kept (the last, or the best on validation with early stopping). */
  readonly bestEpoch: number;
}

export interface TrainOptions {
  readonly recipe: TrainRecipe;
  readonly seed: number;
  readonly classes: number;
  /** Names the stage in failure messages, e.g. "transfer[correlation=0.8,n=50,...]". */
  readonly label: string;
  readonly signal?: AbortSignal;
  readonly onEpoch?: (record: EpochRecord, plannedEpochs: number) => void;
}

export interface Evaluation {
  readonly accuracy: number;
  readonly loss: number;
}

/** Number of epochs the recipe asks for, extended so that at least `min_steps` steps are taken. */
export function plannedEpochs(recipe: TrainRecipe, trainRows: number): { epochs: number; batchSize: number; stepsPerEpoch: number } {
  const batchSize = Math.max(1, Math.min(recipe.batch_size, trainRows));
  const stepsPerEpoch = Math.ceil(trainRows / batchSize);
  const epochs = Math.max(recipe.epochs, Math.ceil(recipe.min_steps / stepsPerEpoch));
  return { epochs, batchSize, stepsPerEpoch };
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

function rowsOf(data: LabelledData, indices: Int32Array, dim: number): LabelledData {
  const { x, y } = gatherBatch(data, dim, indices, 0, indices.length);
  return { features: x, labels: y, rows: indices.length };
}

/** Lets the worker's event loop deliver abort signals and progress messages. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

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
 * Trains `model` in place on `data` with the recipe; only trainable layers change. With early
 * stopping, a seeded `validation_fraction` of the rows is held out, training stops after
 * `patience` epochs without a lower validation loss (never before `min_steps` steps), and the
 * best epoch's weights are restored.
 */
export async function trainNetwork(model: tf.LayersModel, data: LabelledData, options: TrainOptions): Promise<TrainingResult> {
  const { recipe, seed, classes, label } = options;
  const shape = inputShapeOf(model);
  const dim = shape.reduce((a, b) => a * b, 1);
  if (data.features.length !== data.rows * dim)
    throw new StageFailure(
      `${label}: the data has ${data.features.length / Math.max(1, data.rows)} values per sample; the network takes ${dim}`,
    );
  if (data.rows === 0) throw new StageFailure(`${label}: no training samples`);

  let train = data;
  let validation: LabelledData | null = null;
  if (recipe.early_stopping && data.rows >= 2) {
    const order = new Rng(seed, 'train/validation').permutation(data.rows);
    const held = Math.min(data.rows - 1, Math.max(1, Math.round(recipe.early_stopping.validation_fraction * data.rows)));
    validation = rowsOf(data, order.subarray(0, held), dim);
    train = rowsOf(data, order.subarray(held), dim);
  }

  const { epochs: planned, batchSize, stepsPerEpoch } = plannedEpochs(recipe, train.rows);
  const variables = trainableVariables(model);
  // The step itself (native on wasm-blas, see train-step.ts); sync() before reading the network.
  const stepper = createStepper(model, {
    kind: recipe.optimizer,
    learningRate: recipe.learning_rate,
    momentum: recipe.momentum,
    classes,
  });
  const buffers = { x: new Float32Array(batchSize * dim), y: new Int32Array(batchSize) };
  const curve: EpochRecord[] = [];
  let steps = 0;
  let best: { loss: number; epoch: number; weights: tf.Tensor[] } | null = null;
  let bestEpoch = 0;
  try {
    for (let epoch = 1; epoch <= planned; epoch++) {
      const order = new Rng(seed, `train/shuffle/epoch${epoch}`).permutation(train.rows);
      let lossSum = 0;
      let correct = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        if (step % 32 === 0) {
          await yieldToEventLoop();
          checkAborted(options);
        }
        const start = step * batchSize;
        const end = Math.min(train.rows, start + batchSize);
        const batch = gatherBatch(train, dim, order, start, end, buffers);
        const { loss: batchLoss, hits: batchHits } = stepper.step(batch.x, batch.y, end - start);
        steps++;
        if (!Number.isFinite(batchLoss)) {
          throw new StageFailure(
            `${label}: training diverged at epoch ${epoch} (step ${steps}): the loss is ${batchLoss}. ` +
              `Try a smaller train.learning_rate (now ${recipe.learning_rate}).`,
          );
        }
        lossSum += batchLoss * (end - start);
        correct += batchHits;
      }
      if (validation) stepper.sync();
      const val = validation ? evaluateNetwork(model, validation, classes) : null;
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

      if (val && recipe.early_stopping) {
        if (!Number.isFinite(val.loss))
          throw new StageFailure(
            `${label}: the validation loss is ${val.loss} at epoch ${epoch}. Try a smaller train.learning_rate (now ${recipe.learning_rate}).`,
          );
        if (best === null || val.loss < best.loss) {
          if (best) tf.dispose(best.weights);
          best = { loss: val.loss, epoch, weights: variables.map((v) => tf.clone(v)) };
        } else if (epoch - best.epoch >= recipe.early_stopping.patience && steps >= recipe.min_steps) {
          break;
        }
      }
    }
    stepper.sync();
    if (best) {
      const kept = best;
      variables.forEach((v, i) => v.assign(kept.weights[i]));
      bestEpoch = kept.epoch;
    }
  } finally {
    if (best) tf.dispose(best.weights);
    stepper.dispose();
  }
  return { curve, trainSteps: steps, epochs: curve.length, bestEpoch };
}
