/**
 * The bodies of the three training stages (`train-source`, `train-scratch`, `transfer`):
 * read the data artifacts, build (or transfer) the network, train it with the seeded loop,
 * evaluate on the test set and write the outputs:
 *   `model/`        the trained network (TensorFlow.js layers format; source and scratch only:
 *                   `similarity` and `transfer` read them, nothing reads a transferred network)
 *   `curve.arrow`   per epoch: epoch, loss, train_accuracy [, val_loss, val_accuracy]
 *   `metrics.arrow` one row: test_accuracy, test_loss, train_steps, epochs, best_epoch
 * and return the summary `{ test_accuracy, test_loss, train_steps, epochs }`.
 * No timings or dates go into files (the engine records durations), so outputs are a pure
 * function of the key on one backend.
 *
 * Init streams: the source network draws from `source/init`, target networks (scratch and
 * transfer) from `target/init`, so for one seed a `reinit` transfer at depth 0 is exactly the
 * scratch network, and every transfer's new readout equals the scratch readout at init.
 *
 * Heavy (TensorFlow.js, Arrow): stage modules load it with `await import('./training-job.js')`.
 */
import { writeFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { StageFailure } from '../pipeline/errors.js';
import type { InputDecls, StageContext, StageOutcome } from '../pipeline/stage.js';
import type { ModelConfig, TrainConfig, TransferMode } from './config.js';
import { readDataset, type Dataset } from './dataset-table.js';
import { buildNetwork, blockCount, copyBlocks, loadNetwork, saveNetwork, setBlocksTrainable, type NetworkSpec } from './models.js';
import type { TrainScratchContext } from './train-scratch.js';
import type { TrainSourceContext } from './train-source.js';
import { evaluateNetwork, trainNetwork, type EpochRecord, type TrainingResult } from './training.js';
import type { TRAINING_OUTPUTS } from './training-stage.js';
import type { TransferContext } from './transfer.js';

/** What the shared steps read: any training stage's context. */
type TrainingContext = StageContext<unknown, InputDecls, typeof TRAINING_OUTPUTS>;
/** The dataset input every training stage declares (`data`, from generate-data). */
type DataInput = TrainSourceContext['inputs']['data'];

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Readable instance label for messages: `transfer[correlation=0.8,n=50,...]`. */
function labelOf(ctx: TrainingContext): string {
  const coords = Object.entries(ctx.coords).map(([k, v]) => `${k}=${v}`);
  return coords.length ? `${ctx.stage}[${coords.join(',')}]` : ctx.stage;
}

function readTable(ctx: TrainingContext, file: string, limit?: number): Dataset {
  try {
    return readDataset(file, limit);
  } catch (error) {
    throw new StageFailure(`${labelOf(ctx)}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The network the config describes, for data of this sample shape and class count. */
export function networkSpecOf(model: ModelConfig, shape: readonly number[], classes: number): NetworkSpec {
  const dim = shape.reduce((a, b) => a * b, 1);
  if (model.kind === 'cnn' && shape.length !== 3)
    throw new StageFailure(
      `model.kind: got "cnn" but the data samples have shape ${JSON.stringify(shape)}; a CNN needs images [height, width, channels] (use model.kind: mlp)`,
    );
  return {
    kind: model.kind,
    hidden: model.hidden,
    activation: model.activation,
    kernelSize: model.kernel_size,
    poolAfter: model.pool_after,
    inputShape: model.kind === 'cnn' ? [...shape] : [dim],
    classes,
  };
}

/** Trains, evaluates and writes the outputs common to all three stages. */
async function trainAndRecord(
  ctx: TrainingContext,
  model: tf.LayersModel,
  train: Dataset,
  test: Dataset,
  seed: number,
  recipe: TrainConfig,
  /** Where the trained network goes (its declared `model` output), or null: not kept. */
  saveModel: string | null,
): Promise<StageOutcome> {
  const label = labelOf(ctx);
  const classes = train.classes.length;
  const result: TrainingResult = await trainNetwork(model, train, {
    recipe,
    seed,
    classes,
    label,
    signal: ctx.signal,
    onEpoch: (r: EpochRecord, planned: number) => {
      ctx.progress({ epoch: r.epoch, epochs: planned, loss: r.loss });
      ctx.log(
        `epoch ${r.epoch}/${planned} loss ${r.loss.toFixed(5)} train_acc ${r.train_accuracy.toFixed(4)}` +
          (r.val_loss === null ? '' : ` val_loss ${r.val_loss.toFixed(5)} val_acc ${(r.val_accuracy ?? 0).toFixed(4)}`),
      );
    },
  });
  const evaluation = evaluateNetwork(model, test, classes);
  if (!Number.isFinite(evaluation.loss))
    throw new StageFailure(
      `${label}: the test loss is ${evaluation.loss} after training. Try a smaller train.learning_rate (now ${recipe.learning_rate}).`,
    );
  ctx.log(
    `test accuracy ${evaluation.accuracy} loss ${evaluation.loss} after ${result.trainSteps} steps (${result.epochs} epochs, kept epoch ${result.bestEpoch})`,
  );

  if (saveModel !== null) await saveNetwork(model, saveModel);
  const curve = result.curve;
  const hasValidation = curve.some((r) => r.val_loss !== null);
  const curveColumns: Record<string, Int32Array | Float64Array> = {
    epoch: Int32Array.from(curve, (r) => r.epoch),
    loss: Float64Array.from(curve, (r) => r.loss),
    train_accuracy: Float64Array.from(curve, (r) => r.train_accuracy),
  };
  if (hasValidation) {
    curveColumns.val_loss = Float64Array.from(curve, (r) => r.val_loss ?? Number.NaN);
    curveColumns.val_accuracy = Float64Array.from(curve, (r) => r.val_accuracy ?? Number.NaN);
  }
  await writeFile(ctx.output('curve'), tableToIPC(tableFromArrays(curveColumns), 'file'));
  const metrics = {
    test_accuracy: Float64Array.of(evaluation.accuracy),
    test_loss: Float64Array.of(evaluation.loss),
    train_steps: Int32Array.of(result.trainSteps),
    epochs: Int32Array.of(result.epochs),
    best_epoch: Int32Array.of(result.bestEpoch),
  };
  await writeFile(ctx.output('metrics'), tableToIPC(tableFromArrays(metrics), 'file'));
  return {
    summary: {
      test_accuracy: evaluation.accuracy,
      test_loss: evaluation.loss,
      train_steps: result.trainSteps,
      epochs: result.epochs,
    },
  };
}

/** `train-source`: the source network, trained from scratch on the whole source pool. */
export async function runTrainSource(ctx: TrainSourceContext): Promise<StageOutcome> {
  const train = readTable(ctx, ctx.inputs.data.path('train'));
  const test = readTable(ctx, ctx.inputs.data.path('test'));
  const { model: modelConfig, train: recipe, seed } = ctx.params;
  const model = buildNetwork(networkSpecOf(modelConfig, train.shape, train.classes.length), seed, 'source/init');
  try {
    return await trainAndRecord(ctx, model, train, test, seed, recipe, ctx.output('model'));
  } finally {
    model.dispose();
  }
}

function readTarget(ctx: TrainingContext, data: DataInput, n: number): { train: Dataset; test: Dataset } {
  const train = readTable(ctx, data.path('train'), n);
  if (train.rows < n)
    throw new StageFailure(`${labelOf(ctx)}: task.target_sizes asks for n = ${n} but the target pool holds ${train.rows} samples`);
  return { train, test: readTable(ctx, data.path('test')) };
}

/** `train-scratch`: a network trained from scratch on the first n target samples. */
export async function runTrainScratch(ctx: TrainScratchContext): Promise<StageOutcome> {
  const { model: modelConfig, train: recipe, seed, n } = ctx.params;
  const { train, test } = readTarget(ctx, ctx.inputs.data, n);
  const model = buildNetwork(networkSpecOf(modelConfig, train.shape, train.classes.length), seed, 'target/init');
  try {
    return await trainAndRecord(ctx, model, train, test, seed, recipe, ctx.output('model'));
  } finally {
    model.dispose();
  }
}

/**
 * Builds the network a transfer starts from (docs/science.md#two-ways-to-transfer), from a fresh target network (seeded
 * init of every block and the readout) and the source network:
 * - `defrost`: all L hidden blocks copied from the source; blocks 1..depth frozen;
 * - `reinit`: blocks 1..depth copied and frozen; blocks depth+1..L keep their fresh init.
 * The readout is always the fresh one (sized for the target classes).
 */
export function prepareTransfer(target: tf.LayersModel, source: tf.LayersModel, mode: TransferMode, depth: number): void {
  const L = blockCount(target);
  if (blockCount(source) !== L)
    throw new Error(`the source network has ${blockCount(source)} hidden blocks but model.hidden describes ${L}`);
  if (depth < 0 || depth > L) throw new Error(`depth ${depth} is outside 0..${L}`);
  copyBlocks(source, target, mode === 'defrost' ? range(1, L) : range(1, depth));
  setBlocksTrainable(target, range(1, depth), false);
}

/** `transfer`: one (correlation, n, mode, depth, seed) run of the transfer protocol. */
export async function runTransfer(ctx: TransferContext): Promise<StageOutcome> {
  const c = ctx;
  const { model: modelConfig, train: recipe, seed, n, mode, depth } = ctx.params;
  const { train, test } = readTarget(c, ctx.inputs.data, n);
  const sourceDir = ctx.inputs.source.path('model');
  let source: tf.LayersModel;
  try {
    source = await loadNetwork(sourceDir);
  } catch (error) {
    throw new StageFailure(`${labelOf(c)}: cannot load the source network from ${sourceDir}: ${(error as Error).message}`);
  }
  const model = buildNetwork(networkSpecOf(modelConfig, train.shape, train.classes.length), seed, 'target/init');
  try {
    try {
      prepareTransfer(model, source, mode, depth);
    } catch (error) {
      throw new StageFailure(`${labelOf(c)}: cannot transfer from the source network: ${(error as Error).message}`);
    } finally {
      source.dispose();
    }
    ctx.log(`mode ${mode}, depth ${depth}: blocks 1..${depth} frozen`);
    return await trainAndRecord(c, model, train, test, seed, recipe, null);
  } finally {
    model.dispose();
  }
}
