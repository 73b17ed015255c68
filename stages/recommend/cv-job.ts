/**
 * The work of a `cv-train` instance (docs/your-data.md): one fold of the stratified K-fold
 * cross-validation of `recommend`, for one transfer (mode, depth) or training from scratch.
 * It trains on the fold's training part — early stopping holds out its validation split from that
 * part, never from the held-out fold — and measures accuracy on the fold's held-out samples.
 *
 * The network is the pre-trained source's shape with a fresh readout for the target classes
 * (source-network/canonical.ts), seeded from `target/init` like every target network: `reinit`
 * at depth 0 is exactly the scratch run of the same fold.
 *
 * Heavy (TensorFlow.js, Arrow): stage modules import it inside `run`.
 */
import type * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../pipeline/errors.js';
import type { JsonObject } from '../../pipeline/stage.js';
import { CV_METRICS } from '../lib/tables/recommend-tables.js';
import { memoisedDataset, memoisedNetwork } from '../lib/models/input-memo.js';
import { SCRATCH_MODE, transferModeOf } from '../lib/models/transfer-modes/registry.js';
import { suffixNetwork } from '../lib/models/prefix-split.js';
import { cachedPrefixSummary } from '../training/prefix.js';
import { targetNetworkLike } from '../lib/models/source-network/canonical.js';
import { epochReporter } from '../lib/models/epoch-reporter.js';
import { evaluateNetwork, rowsOf, trainNetwork } from '../lib/models/training.js';
import { prepareTransfer } from '../lib/models/transfer.js';
import { describeSchedule, type TrainingPhase } from '../lib/models/transfer-modes/mode.js';
import type { CvTrainContext } from './cv-train.js';
import { foldRows, stratifiedFolds, validationSplit } from '../lib/tasks/folds.js';

/** Readable instance label for messages: `cv-train[mode=defrost,depth=2,fold=0]`. */
function labelOf(ctx: CvTrainContext): string {
  return `cv-train[${Object.entries(ctx.coords)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}]`;
}

/**
 * The cached block-l outputs this fold run reads (its `prefix` input), or null: none planned, or
 * not cached (the prefix stage says why; blocks 1..l then run every step).
 */
function cachedPrefix(ctx: CvTrainContext): { depth: number; input: CvTrainContext['inputs']['prefix'][number] } | null {
  const prefix = ctx.inputs.prefix[0];
  if (prefix === undefined) return null;
  return cachedPrefixSummary(prefix, labelOf(ctx), (line) => ctx.log(line)) === null
    ? null
    : { depth: Number(prefix.params.depth), input: prefix };
}

export async function runCvTrain(ctx: CvTrainContext): Promise<JsonObject> {
  const params = ctx.params;
  const label = labelOf(ctx);
  // Both shared by the worker's other folds and depths (input-memo.ts): read, never changed.
  const data = await memoisedDataset(ctx.memo, ctx.inputs.data, 'train');
  const classes = data.classes.length;
  const fold = stratifiedFolds(data.labels, classes, params.folds, params.seed);
  const split = validationSplit(data.labels, classes, foldRows(fold, params.fold, false), params.fold, params.seed);
  // The same rows, of the samples or of their cached block-l outputs (one row per sample, in order).
  const prefix = cachedPrefix(ctx);
  const table = prefix === null ? data : await memoisedDataset(ctx.memo, prefix.input, 'train');
  if (table.rows !== data.rows) throw new StageFailure(`${label}: ${prefix?.input.id} holds ${table.rows} rows, the data ${data.rows}`);
  const dim = table.shape.reduce((a, b) => a * b, 1);
  const train = rowsOf(table, split.fit, dim);
  const validation = rowsOf(table, split.validation, dim);
  const held = rowsOf(table, foldRows(fold, params.fold, true), dim);
  let source: tf.LayersModel;
  try {
    source = await memoisedNetwork(ctx.memo, ctx.inputs.source, 'model');
  } catch (error) {
    throw new StageFailure(`${label}: cannot load the source network: ${(error as Error).message}`);
  }
  let model: tf.LayersModel | null = null;
  let trained: tf.LayersModel | null = null;
  let schedule: TrainingPhase[] | undefined;
  try {
    model = await targetNetworkLike(source, classes, params.seed, 'target/init');
    if (params.mode !== SCRATCH_MODE)
      schedule = prepareTransfer(model, source, params.mode, params.depth ?? params.setting ?? 0, params.options);
    ctx.log(
      `fold ${params.fold + 1}/${params.folds}: ${train.rows} training samples, ${held.rows} held out; ` +
        (params.mode === SCRATCH_MODE ? 'from scratch' : `mode ${params.mode}: ${describeSchedule(schedule ?? [])}`),
    );
    // Blocks 1..l ran once, in the prefix stage: train the rest on their outputs. Only a mode
    // without phases of its own reads a prefix (plan.ts), so its one phase is what the rest holds.
    if (prefix !== null) {
      if (params.mode === SCRATCH_MODE || transferModeOf(params.mode).schedule !== undefined)
        throw new StageFailure(`${label}: mode ${params.mode} trains every block or in phases of its own and reads no cached prefix`);
      trained = suffixNetwork(model, prefix.depth);
      schedule = undefined;
      ctx.log(`frozen prefix: block ${prefix.depth} outputs read from ${prefix.input.id}; training blocks ${prefix.depth + 1}.. on them`);
    }
    const result = await trainNetwork(trained ?? model, train, {
      recipe: params.train,
      validation,
      seed: params.seed,
      classes,
      label,
      schedule,
      signal: ctx.signal,
      onEpoch: epochReporter(ctx),
    });
    const evaluation = evaluateNetwork(trained ?? model, held, classes);
    const kept = result.validation;
    ctx.log(
      `held-out accuracy ${evaluation.accuracy} (kept epoch ${result.bestEpoch} of ${result.epochs}, stopped by ${result.stoppedBy})`,
    );
    await CV_METRICS.write(ctx.output('metrics'), [
      {
        fold_accuracy: evaluation.accuracy,
        fold_loss: evaluation.loss,
        validation_accuracy: kept?.accuracy ?? Number.NaN,
        train_steps: result.trainSteps,
        epochs: result.epochs,
        best_epoch: result.bestEpoch,
        stopped_by: result.stoppedBy,
      },
    ]);
    return {
      accuracy: evaluation.accuracy,
      loss: evaluation.loss,
      validation_accuracy: kept?.accuracy ?? null,
      epochs: result.epochs,
      stopped_by: result.stoppedBy,
      learning_rate: result.learningRate,
      best_epoch: result.bestEpoch,
      train_rows: train.rows,
      validation_rows: validation.rows,
      held_rows: held.rows,
    };
  } finally {
    trained?.dispose();
    model?.dispose();
  }
}
