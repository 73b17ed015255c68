/**
 * The work of the `predict` stage (docs/prediction.md): for one cell (correlation, n), score every
 * transfer depth 0..L without any transfer training, with three predictors:
 * - `similarity_band`: source-vs-target similarity per block against the same-task band (two
 *   scratch networks on the target task, different seeds), see prediction/band.ts;
 * - `logme`: LogME of the frozen source network's depth-l features on the n target training
 *   samples, see prediction/logme.ts;
 * - `nearest_centroid`: leave-one-out nearest-centroid accuracy of the same features, see
 *   prediction/nearest-centroid.ts.
 *
 * Outputs (pure functions of the key: no timings in files, the summary carries them):
 *   `prediction.arrow`: correlation (Float64, null for image tasks), n (Int32), predictor (Utf8),
 *     depth (Int32), score (Float64, null when it cannot be computed), predicted_depth (Int32,
 *     the predictor's l* for the cell, the same on each of its rows);
 *   `band.arrow`: correlation, block (Int32), measure (Utf8), value (source vs target), low and
 *     high (the same-task band), pairs (Int32), inside (Bool).
 * Summary: `{ predicted: {predictor: l}, seconds: {predictor: s}, shared_seconds: {similarity_band: s} }`.
 * A feature predictor's seconds are its own compute plus the feature extraction it needs. The band
 * predictor is not free: `shared_seconds` is the compute of its inputs (the similarity and
 * baseline instances and the reference networks they compare), which every n of the correlation
 * shares; `aggregate` divides it among them.
 */
import { writeFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import type * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../pipeline/errors.js';
import type { StageOutcome } from '../../pipeline/stage.js';
import { readDataset, type Dataset } from '../lib/tables/dataset-table.js';
import { blockCount, loadNetwork } from '../lib/models/models.js';
import { bandScores, checkAgainstBand, sameTaskBand, type BandCheck } from '../lib/predictors/band.js';
import { depthFeatures } from '../lib/predictors/features.js';
import { logme } from '../lib/predictors/logme.js';
import { leaveOneOutCentroidAccuracy } from '../lib/predictors/nearest-centroid.js';
import { predictedDepth, type Score } from '../lib/predictors/scoring.js';
import type { PredictContext } from './predict.js';
import { readSimilarity } from '../lib/tables/arrow-tables.js';
import { trainingSubsetOrder } from '../lib/tasks/subsets.js';
import { rowsOf } from '../lib/models/training.js';

export const PREDICTORS = ['similarity_band', 'logme', 'nearest_centroid'] as const;
export type PredictorName = (typeof PREDICTORS)[number];

export interface PredictionRow {
  readonly correlation: number | null;
  readonly n: number;
  readonly predictor: string;
  readonly depth: number;
  readonly score: number | null;
  readonly predicted_depth: number | null;
}

const finiteOrNull = (v: number): Score => (Number.isFinite(v) ? v : null);
const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;

export async function runPredict(ctx: PredictContext): Promise<StageOutcome> {
  const { correlation, n } = ctx.params;
  const poolFile = ctx.inputs.data.path('train');
  let pool: Dataset;
  try {
    pool = readDataset(poolFile);
  } catch (error) {
    throw new StageFailure(`predict: cannot read the target pool ${poolFile}: ${(error as Error).message}`);
  }
  if (pool.rows < n) throw new StageFailure(`predict: n = ${n} but the target pool ${poolFile} holds ${pool.rows} samples`);
  // The seed's own training subset, exactly the one its scratch and transfer runs train on.
  const dim = pool.shape.reduce((a, b) => a * b, 1);
  const train = rowsOf(pool, trainingSubsetOrder(pool.rows, ctx.params.seed).subarray(0, n), dim);
  const classes = pool.classes.length;

  // Feature predictors: one pass of the frozen source network over the n samples.
  const started = process.hrtime.bigint();
  const modelDir = ctx.inputs.source.path('model');
  let model: tf.LayersModel;
  try {
    model = await loadNetwork(modelDir);
  } catch (error) {
    throw new StageFailure(`predict: cannot load the source network from ${modelDir}: ${(error as Error).message}`);
  }
  let L: number;
  let features;
  try {
    L = blockCount(model);
    features = depthFeatures(model, train.features, train.rows);
  } finally {
    model.dispose();
  }
  const extraction = seconds(started);
  ctx.log(`features of ${n} target samples at depths 0..${L}: widths [${features.map((f) => f.cols)}] in ${extraction.toFixed(3)} s`);

  const timed = (name: string, score: (l: number) => number): { scores: Score[]; seconds: number } => {
    const t0 = process.hrtime.bigint();
    const scores = features.map((f, l) => {
      if (ctx.signal.aborted) throw new StageFailure('predict: interrupted');
      ctx.progress({ message: `${name} depth ${l}/${L}` });
      return finiteOrNull(score(l));
    });
    return { scores, seconds: extraction + seconds(t0) };
  };
  const logmeScores = timed('logme', (l) => logme(features[l], train.labels, classes));
  const centroidScores = timed('nearest_centroid', (l) => leaveOneOutCentroidAccuracy(features[l], train.labels, classes));

  // The band predictor: similarity tables written by the `similarity` stage.
  const t0 = process.hrtime.bigint();
  const baselines = [...ctx.inputs.baselines].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (baselines.length === 0) throw new StageFailure('predict: no same-task baseline similarity among the inputs');
  const band = sameTaskBand(await Promise.all(baselines.map((b) => readSimilarity(b.path('similarity'), correlation))));
  const checks = checkAgainstBand(await readSimilarity(ctx.inputs.similarity.path('similarity'), correlation), band);
  const bandScore = bandScores(checks, L);
  const inputSeconds = [ctx.inputs.similarity, ...baselines, ...ctx.inputs.references].reduce((sum, a) => sum + a.durationSeconds, 0);
  const bandSeconds = seconds(t0);

  const results: Record<PredictorName, { scores: Score[]; seconds: number }> = {
    similarity_band: { scores: bandScore, seconds: bandSeconds },
    logme: logmeScores,
    nearest_centroid: centroidScores,
  };
  const rows: PredictionRow[] = [];
  const predicted: Record<string, number | null> = {};
  const spent: Record<string, number> = {};
  for (const name of PREDICTORS) {
    const { scores, seconds: s } = results[name];
    const l = predictedDepth(scores);
    predicted[name] = l;
    spent[name] = Number(s.toPrecision(4));
    scores.forEach((score, depth) => rows.push({ correlation, n, predictor: name, depth, score, predicted_depth: l }));
    ctx.log(`${name}: scores [${scores.map((v) => (v === null ? 'null' : v.toFixed(4))).join(', ')}] -> l* = ${l} (${s.toFixed(3)} s)`);
  }
  await writeFile(ctx.output('prediction'), predictionTableBytes(rows));
  await writeFile(ctx.output('band'), bandTableBytes(correlation, checks));
  // The band's inputs serve every n of this correlation: `aggregate` shares their cost out.
  return { summary: { predicted, seconds: spent, shared_seconds: { similarity_band: Number(inputSeconds.toPrecision(4)) } } };
}

export function predictionTableBytes(rows: readonly PredictionRow[]): Uint8Array {
  const table = new arrow.Table({
    correlation: arrow.vectorFromArray(
      rows.map((r) => r.correlation),
      new arrow.Float64(),
    ),
    n: arrow.vectorFromArray(
      rows.map((r) => r.n),
      new arrow.Int32(),
    ),
    predictor: arrow.vectorFromArray(
      rows.map((r) => r.predictor),
      new arrow.Utf8(),
    ),
    depth: arrow.vectorFromArray(
      rows.map((r) => r.depth),
      new arrow.Int32(),
    ),
    score: arrow.vectorFromArray(
      rows.map((r) => r.score),
      new arrow.Float64(),
    ),
    predicted_depth: arrow.vectorFromArray(
      rows.map((r) => r.predicted_depth),
      new arrow.Int32(),
    ),
  });
  return arrow.tableToIPC(table, 'file');
}

export function bandTableBytes(correlation: number | null, checks: readonly BandCheck[]): Uint8Array {
  const col = <T>(f: (c: BandCheck) => T): T[] => checks.map(f);
  const table = new arrow.Table({
    correlation: arrow.vectorFromArray(
      checks.map(() => correlation),
      new arrow.Float64(),
    ),
    block: arrow.vectorFromArray(
      col((c) => c.block),
      new arrow.Int32(),
    ),
    measure: arrow.vectorFromArray(
      col((c) => c.measure),
      new arrow.Utf8(),
    ),
    value: arrow.vectorFromArray(
      col((c) => c.value),
      new arrow.Float64(),
    ),
    low: arrow.vectorFromArray(
      col((c) => c.low),
      new arrow.Float64(),
    ),
    high: arrow.vectorFromArray(
      col((c) => c.high),
      new arrow.Float64(),
    ),
    pairs: arrow.vectorFromArray(
      col((c) => c.pairs),
      new arrow.Int32(),
    ),
    inside: arrow.vectorFromArray(
      col((c) => c.inside),
      new arrow.Bool(),
    ),
  });
  return arrow.tableToIPC(table, 'file');
}
