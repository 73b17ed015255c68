/**
 * The bodies of the three training stages (`train-source`, `train-scratch`, `transfer`):
 * read the data artifacts, build (or transfer) the network, train it with the seeded loop
 * (early stopping on the task's validation set, docs/protocol.md), evaluate on the test set and
 * write the outputs:
 *   `model/`        the trained network (TensorFlow.js layers format; source and scratch only:
 *                   `similarity` and `transfer` read them, nothing reads a transferred network)
 *   `curve.arrow`   one row per epoch (stages/lib/tables/training-tables.ts)
 *   `metrics.arrow` one row: how the kept weights do on test and validation, how training ended
 * and return the metrics row as the summary (what the report reads).
 *
 * Target training sets: each seed draws its own subset of the pool, the first n rows of a seeded
 * permutation (`train/subset`), so larger n extends smaller n within a seed and different seeds
 * see different samples (docs/protocol.md). The test set only measures: nothing is chosen on it.
 * No timings or dates go into files (the engine records durations), so outputs are a pure
 * function of the key on one backend.
 *
 * Init streams: the source network draws from `source/init`, target networks (scratch and
 * transfer, also when shaped like an imported `source_model`) from `target/init`, so for one seed a `reinit` transfer at depth 0 is exactly the
 * scratch network, and every transfer's new readout equals the scratch readout at init.
 *
 * Heavy (TensorFlow.js, Arrow): stage modules load it with `await import('./training-job.js')`.
 */
import type * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../pipeline/errors.js';
import type { InputDecls, StageContext, StageOutcome } from '../../pipeline/stage.js';
import type { ModelConfig, ValidationScheme } from '../config/schema.js';
import type { TrainConfig } from '../lib/models/recipe.js';
import { prepareTransfer } from '../lib/models/transfer.js';
import { describeSchedule, frozenPrefix, settingOf, type TrainingPhase } from '../lib/models/transfer-modes/mode.js';
import { transferModeOf } from '../lib/models/transfer-modes/registry.js';
import { heldOutParts } from '../lib/tasks/held-out.js';
import { trainingSubsetOrder } from '../lib/tasks/subsets.js';
import type { Dataset } from '../lib/tables/dataset-table.js';
import { ELIMINATED, TRAINING_CURVE, TRAINING_METRICS, type TrainingMetricsRow } from '../lib/tables/training-tables.js';
import { blockCount, buildNetwork, saveNetwork, type NetworkSpec } from '../lib/models/models.js';
import { memoisedDataset, memoisedNetwork, type DigestedInput } from '../lib/models/input-memo.js';
import { inputStatsOf } from '../lib/models/input-stats.js';
import { suffixNetwork } from '../lib/models/prefix-split.js';
import { cachedPrefixSummary } from './prefix.js';
import { raceSummaryOf } from './race-stage.js';
import { targetNetworkLike } from '../lib/models/source-network/canonical.js';
import { inputShapeFits } from '../lib/models/source-network/topology.js';
import type { TrainScratchContext } from './train-scratch.js';
import type { TrainSourceContext } from './train-source.js';
import { epochReporter } from '../lib/models/epoch-reporter.js';
import { evaluateNetwork, rowsOf, trainNetwork, type TrainingResult } from '../lib/models/training.js';
import type { TRAINING_OUTPUTS } from './training-stage.js';
import type { TransferContext } from './transfer.js';

/** What the shared steps read: any training stage's context. */
type TrainingContext = StageContext<unknown, InputDecls, typeof TRAINING_OUTPUTS>;
/** Where a target run's tables are: the `data` input (generate-data), or a cached `prefix`'s activations of it. */
type DataInput = DigestedInput<'train' | 'validation' | 'selection' | 'test'>;

/** Readable instance label for messages: `transfer[correlation=0.8,n=50,...]`. */
function labelOf(ctx: TrainingContext): string {
  const coords = Object.entries(ctx.coords).map(([k, v]) => `${k}=${v}`);
  return coords.length ? `${ctx.stage}[${coords.join(',')}]` : ctx.stage;
}

/** Table `name` of an input, parsed once per worker for its bytes (input-memo.ts); shared, never changed. */
async function readTable<N extends string>(ctx: TrainingContext, input: DigestedInput<N>, name: N): Promise<Dataset> {
  try {
    return await memoisedDataset(ctx.memo, input, name);
  } catch (error) {
    throw new StageFailure(`${labelOf(ctx)}: cannot read ${input.path(name)}: ${(error as Error).message}`);
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
  data: TaskData,
  seed: number,
  recipe: TrainConfig,
  /** Where the trained network goes (its declared `model` output), or null: not kept. */
  saveModel: string | null,
  /** A transfer protocol's phases (`prepareTransfer`); absent: train what is trainable until early stopping. */
  schedule?: readonly TrainingPhase[],
): Promise<StageOutcome> {
  const { train, validation, test } = data;
  const label = labelOf(ctx);
  const classes = train.classes.length;
  const result: TrainingResult = await trainNetwork(model, train, {
    recipe,
    validation,
    seed,
    classes,
    label,
    schedule,
    signal: ctx.signal,
    onEpoch: epochReporter(ctx),
  });
  const evaluation = evaluateNetwork(model, test, classes);
  // Scored once, on the kept weights, after training: the selection set never steers training.
  const selection = data.selection === null ? null : evaluateNetwork(model, data.selection, classes);
  if (!Number.isFinite(evaluation.loss))
    throw new StageFailure(
      `${label}: the test loss is ${evaluation.loss} after training. Try a smaller train.learning_rate (now ${result.learningRate}).`,
    );
  const val = result.validation;
  ctx.log(
    `test accuracy ${evaluation.accuracy} loss ${evaluation.loss}; validation accuracy ${val?.accuracy ?? 'none'}; ` +
      `selection accuracy ${selection?.accuracy ?? 'none'}; ` +
      `${result.trainSteps} steps (${result.epochs} epochs, kept epoch ${result.bestEpoch}, stopped by ${result.stoppedBy}, ` +
      `learning rate ${result.learningRate})`,
  );

  if (saveModel !== null) await saveNetwork(model, saveModel, inputStatsOf(train.features));
  await TRAINING_CURVE.write(
    ctx.output('curve'),
    result.curve.map((r) => ({ ...r, val_loss: r.val_loss ?? Number.NaN, val_accuracy: r.val_accuracy ?? Number.NaN })),
  );
  const metrics: TrainingMetricsRow = {
    test_accuracy: evaluation.accuracy,
    test_loss: evaluation.loss,
    validation_accuracy: val?.accuracy ?? Number.NaN,
    validation_loss: val?.loss ?? Number.NaN,
    selection_accuracy: selection?.accuracy ?? Number.NaN,
    selection_loss: selection?.loss ?? Number.NaN,
    train_steps: result.trainSteps,
    epochs: result.epochs,
    best_epoch: result.bestEpoch,
    learning_rate: result.learningRate,
    stopped_by: result.stoppedBy,
  };
  await TRAINING_METRICS.write(ctx.output('metrics'), [metrics]);
  return { summary: TRAINING_METRICS.json(metrics) };
}

/** `train-source`: the source network, trained from scratch on the whole source pool. */
export async function runTrainSource(ctx: TrainSourceContext): Promise<StageOutcome> {
  const data: TaskData = {
    train: await readTable(ctx, ctx.inputs.data, 'train'),
    validation: await readTable(ctx, ctx.inputs.data, 'validation'),
    selection: null,
    test: await readTable(ctx, ctx.inputs.data, 'test'),
  };
  const { model: modelConfig, train: recipe, seed } = ctx.params;
  const model = buildNetwork(networkSpecOf(modelConfig, data.train.shape, data.train.classes.length), seed, 'source/init');
  try {
    return await trainAndRecord(ctx, model, data, seed, recipe, ctx.output('model'));
  } finally {
    model.dispose();
  }
}

/**
 * The tables a training run reads: what it trains on, stops on (`validation`), what its kept
 * weights are scored on for choosing l* (`selection`, targets only) and what only measures (`test`).
 */
interface TaskData {
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly selection: Dataset | null;
  readonly test: Dataset;
}

/**
 * A target run's data: its seed's n pool samples, and with `validation: external` the task's
 * stopping and selection sets; with `held_out` both carved out of the n samples (docs/protocol.md).
 */
async function readTarget(ctx: TrainingContext, data: DataInput, n: number, seed: number, scheme: ValidationScheme): Promise<TaskData> {
  const pool = await readTable(ctx, data, 'train');
  if (pool.rows < n)
    throw new StageFailure(`${labelOf(ctx)}: task.target_sizes asks for n = ${n} but the target pool holds ${pool.rows} samples`);
  const dim = pool.shape.reduce((a, b) => a * b, 1);
  const subset = rowsOf(pool, trainingSubsetOrder(pool.rows, seed).subarray(0, n), dim);
  const test = await readTable(ctx, data, 'test');
  if (scheme === 'held_out') {
    const parts = heldOutParts(subset.labels);
    if (parts.stopping.length === 0)
      throw new StageFailure(
        `${labelOf(ctx)}: validation: held_out needs at least 3 samples of a class to hold any out; n = ${n} is too small (use validation: external)`,
      );
    const part = (rows: Int32Array): Dataset => ({ ...pool, ...rowsOf(subset, rows, dim) });
    return { train: part(parts.train), validation: part(parts.stopping), selection: part(parts.selection), test };
  }
  return {
    train: { ...pool, ...subset },
    validation: await readTable(ctx, data, 'validation'),
    selection: await readTable(ctx, data, 'selection'),
    test,
  };
}

/**
 * A fresh target network shaped like the pre-trained source network `source` (`source_model`,
 * docs/your-data.md): its blocks, a readout for the target classes, every weight from the
 * `target/init` streams (as `defrost recommend` builds them), after checking the data fit its input.
 */
async function targetLikeSource(ctx: TrainingContext, source: tf.LayersModel, data: TaskData, seed: number): Promise<tf.LayersModel> {
  const inputShape = (source.inputs[0].shape as (number | null)[]).slice(1).map(Number);
  if (!inputShapeFits(data.train.shape, inputShape))
    throw new StageFailure(
      `${labelOf(ctx)}: the target samples have shape [${data.train.shape}] but the source network takes inputs of shape [${inputShape}]`,
    );
  return targetNetworkLike(source, data.train.classes.length, seed, 'target/init');
}

/** The source network of an input, loaded once per worker for its bytes (input-memo.ts): read it, never train or dispose it. */
async function loadSource(ctx: TrainingContext, input: DigestedInput<'model'>): Promise<tf.LayersModel> {
  try {
    return await memoisedNetwork(ctx.memo, input, 'model');
  } catch (error) {
    throw new StageFailure(`${labelOf(ctx)}: cannot load the source network from ${input.path('model')}: ${(error as Error).message}`);
  }
}

/** The scratch network: the configured architecture, or (`model: null`) the imported network's. */
async function scratchNetwork(ctx: TrainScratchContext, data: TaskData): Promise<tf.LayersModel> {
  const { model: modelConfig, seed } = ctx.params;
  if (modelConfig !== null)
    return buildNetwork(networkSpecOf(modelConfig, data.train.shape, data.train.classes.length), seed, 'target/init');
  const template = ctx.inputs.architecture[0];
  if (template === undefined) throw new StageFailure(`${labelOf(ctx)}: model is null but no source network gives the architecture`);
  return targetLikeSource(ctx, await loadSource(ctx, template), data, seed);
}

/** `train-scratch`: a network trained from scratch on the first n target samples. */
export async function runTrainScratch(ctx: TrainScratchContext): Promise<StageOutcome> {
  const { train: recipe, seed, n, validation } = ctx.params;
  const data = await readTarget(ctx, ctx.inputs.data, n, seed, validation);
  const model = await scratchNetwork(ctx, data);
  try {
    return await trainAndRecord(ctx, model, data, seed, recipe, ctx.output('model'));
  } finally {
    model.dispose();
  }
}

/**
 * The cached frozen prefix a transfer reads (docs/performance.md, "Frozen-prefix activations"):
 * its activations' tables, its depth and the network's input shape; null when it has none or it
 * was not cached (then the transfer computes the prefix every step, as without a cache).
 */
function cachedPrefix(ctx: TransferContext): { tables: DataInput; depth: number; inputShape: number[] } | null {
  const prefix = ctx.inputs.prefix[0];
  if (prefix === undefined) return null;
  const summary = cachedPrefixSummary(prefix, labelOf(ctx), (line) => ctx.log(line));
  return summary === null ? null : { tables: prefix, depth: Number(prefix.params.depth), inputShape: summary.input_shape };
}

/**
 * A transfer whose depth the cell's race has stopped (docs/protocol.md#early-elimination-in-a-study):
 * it trains nothing, and its metrics row says so (`stopped_by` `eliminated`, no accuracy, no step),
 * a function of the look it read like any output.
 */
async function recordEliminated(ctx: TransferContext, depth: number): Promise<StageOutcome | null> {
  const look = ctx.inputs.race[0];
  if (look === undefined) return null;
  const race = raceSummaryOf(look.summary);
  if (race === null) throw new StageFailure(`${labelOf(ctx)}: ${look.id} has no race summary`);
  if (race.alive.includes(depth)) return null;
  const stop = race.eliminated.find((e) => e.depth === depth);
  ctx.log(
    `eliminated by ${look.id}: depth ${depth} stopped after ${stop?.after_replicates ?? '?'} replicates, ` +
      `behind depth ${stop?.leader ?? '?'} in selection accuracy; nothing trained`,
  );
  await TRAINING_CURVE.write(ctx.output('curve'), []);
  const metrics: TrainingMetricsRow = {
    test_accuracy: Number.NaN,
    test_loss: Number.NaN,
    validation_accuracy: Number.NaN,
    validation_loss: Number.NaN,
    selection_accuracy: Number.NaN,
    selection_loss: Number.NaN,
    train_steps: 0,
    epochs: 0,
    best_epoch: 0,
    learning_rate: Number.NaN,
    stopped_by: ELIMINATED,
  };
  await TRAINING_METRICS.write(ctx.output('metrics'), [metrics]);
  return { summary: TRAINING_METRICS.json(metrics) };
}

/** `transfer`: one (correlation, n, mode, depth, seed) run of the transfer protocol. */
export async function runTransfer(ctx: TransferContext): Promise<StageOutcome> {
  const c = ctx;
  const { model: modelConfig, train: recipe, seed, n, mode, validation } = ctx.params;
  const setting = ctx.params.depth ?? ctx.params.setting;
  if (setting === undefined) throw new StageFailure(`${labelOf(c)}: a transfer needs its depth or setting`);
  const eliminated = await recordEliminated(ctx, setting);
  if (eliminated !== null) return eliminated;
  const prefix = cachedPrefix(ctx);
  const data = await readTarget(c, prefix?.tables ?? ctx.inputs.data, n, seed, validation);
  // The network takes the task's inputs; with a cached prefix the tables hold block-l outputs.
  const inputs: TaskData = prefix === null ? data : { ...data, train: { ...data.train, shape: prefix.inputShape } };
  const source = await loadSource(c, ctx.inputs.source);
  const model =
    modelConfig === null
      ? await targetLikeSource(c, source, inputs, seed)
      : buildNetwork(networkSpecOf(modelConfig, inputs.train.shape, data.train.classes.length), seed, 'target/init');
  try {
    let schedule: TrainingPhase[];
    try {
      schedule = prepareTransfer(model, source, mode, setting, ctx.params.options);
    } catch (error) {
      throw new StageFailure(`${labelOf(c)}: cannot transfer from the source network: ${(error as Error).message}`);
    }
    ctx.log(`mode ${mode} at ${settingOf(transferModeOf(mode)).symbol} = ${setting}: ${describeSchedule(schedule)}`);
    if (prefix === null) return await trainAndRecord(c, model, data, seed, recipe, null, schedule);
    // Only a mode without a schedule of its own reads a cached prefix (transfer-runs.ts): its one
    // phase trains every block after the frozen ones, which is what the suffix network holds.
    if (transferModeOf(mode).schedule !== undefined)
      throw new StageFailure(`${labelOf(c)}: mode ${mode} trains in phases of its own and reads no cached prefix`);
    const frozen = frozenPrefix(transferModeOf(mode), setting, blockCount(model));
    if (prefix.depth > frozen)
      throw new StageFailure(
        `${labelOf(c)}: its prefix input holds block ${prefix.depth} outputs but only blocks 1..${frozen} stay frozen`,
      );
    // Blocks 1..l ran once, in the prefix stage: train the rest on their outputs.
    const rest = suffixNetwork(model, prefix.depth);
    ctx.log(
      `frozen prefix: block ${prefix.depth} outputs read from ${ctx.inputs.prefix[0]?.id}; training blocks ${prefix.depth + 1}.. on them`,
    );
    try {
      return await trainAndRecord(c, rest, data, seed, recipe, null);
    } finally {
      rest.dispose();
    }
  } finally {
    model.dispose();
  }
}
