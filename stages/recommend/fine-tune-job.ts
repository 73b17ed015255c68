/**
 * The work of `fine-tune` (fine-tune.ts, docs/your-data.md#the-model-out): the source network
 * transferred at (mode, depth) as in every fold (fresh readout and seeded weights from
 * `target/init`, blocks 1..depth frozen), trained on all the data with early stopping on a
 * stratified validation split (`recommend/validation/fold<K>` with K the number of folds: a
 * stream no fold uses), then written back as ONNX and in the source's format with defrost.json.
 *
 * Heavy (TensorFlow.js, Arrow): the stage module imports it inside `run`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { StageFailure } from '../../pipeline/errors.js';
import type { JsonObject } from '../../pipeline/stage.js';
import { readDataset } from '../lib/tables/dataset-table.js';
import { loadNetwork } from '../lib/models/models.js';
import { targetNetworkLike } from '../lib/models/source-network/canonical.js';
import { deriveBlocks, fingerprintSourceModel, readSourceFiles, readSourceModel } from '../lib/models/source-network/topology.js';
import { writeFineTuned } from '../lib/models/source-network/write-back.js';
import { epochReporter } from '../lib/models/epoch-reporter.js';
import { evaluateNetwork, rowsOf, trainNetwork } from '../lib/models/training.js';
import { prepareTransfer } from '../lib/models/transfer.js';
import { validationSplit } from '../lib/tasks/folds.js';
import type { FineTuneContext } from './fine-tune.js';

export async function runFineTune(ctx: FineTuneContext): Promise<JsonObject> {
  const params = ctx.params;
  const label = `fine-tune[mode=${params.mode},depth=${params.depth}]`;
  const sourceFile = readSourceModel(params.source.model);
  if (fingerprintSourceModel(sourceFile) !== params.source.sha256)
    throw new StageFailure(`${params.source.model} changed since this run was planned; run the command again`);
  const blocks = deriveBlocks(params.source.model, sourceFile.topology, params.source.blocks);
  const data = readDataset(ctx.inputs.data.path('train'));
  const classes = data.classes.length;
  const dim = data.shape.reduce((a, b) => a * b, 1);
  const all = Int32Array.from({ length: data.rows }, (_, i) => i);
  const split = validationSplit(data.labels, classes, all, params.folds, params.seed);
  const train = rowsOf(data, split.fit, dim);
  const validation = rowsOf(data, split.validation, dim);
  const source = await loadNetwork(ctx.inputs.source.path('model'));
  let model;
  try {
    model = await targetNetworkLike(source, classes, params.seed, 'target/init');
    prepareTransfer(model, source, params.mode, params.depth);
  } finally {
    source.dispose();
  }
  try {
    ctx.log(`${train.rows} training samples, ${validation.rows} for early stopping; mode ${params.mode}, blocks 1..${params.depth} frozen`);
    const result = await trainNetwork(model, train, {
      recipe: params.train,
      validation,
      seed: params.seed,
      classes,
      label,
      signal: ctx.signal,
      onEpoch: epochReporter(ctx),
    });
    const fit = evaluateNetwork(model, train, classes);
    const dir = ctx.output('model');
    await mkdir(dir, { recursive: true });
    const files = await writeFineTuned(model, sourceFile, readSourceFiles(sourceFile)[0], blocks, classes, dir);
    const record = {
      l_star: params.depth,
      mode: params.mode,
      blocks: blocks.blocks.length,
      blocks_frozen: blocks.blocks.slice(0, params.depth),
      readout: { layer: blocks.readout, classes: data.classes },
      source: { path: params.source.model, format: sourceFile.format, sha256: params.source.sha256 },
      data: { path: params.data.path, sha256: params.data.sha256, rows: data.rows, shape: data.shape },
      recipe: params.train,
      seed: params.seed,
      training: {
        train_rows: train.rows,
        validation_rows: validation.rows,
        epochs: result.epochs,
        best_epoch: result.bestEpoch,
        stopped_by: result.stoppedBy,
        learning_rate: result.learningRate,
        validation_accuracy: result.validation?.accuracy ?? null,
        train_accuracy: fit.accuracy,
      },
      files,
    };
    await writeFile(ctx.output('record'), `${JSON.stringify(record, null, 2)}\n`);
    ctx.log(`kept epoch ${result.bestEpoch} of ${result.epochs} (${result.stoppedBy}); validation accuracy ${result.validation?.accuracy}`);
    return { files, epochs: result.epochs, best_epoch: result.bestEpoch, validation_accuracy: result.validation?.accuracy ?? null };
  } finally {
    model.dispose();
  }
}
