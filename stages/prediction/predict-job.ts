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
 * `prediction.arrow` (every depth's score per predictor) and `band.arrow` (the band checks), both
 * declared in stages/lib/tables/prediction-tables.ts; the summary is declared in predict.ts.
 * A feature predictor's seconds are its own compute plus the feature extraction it needs. The band
 * predictor is not free: `shared_seconds` is the compute of its inputs (the similarity and
 * baseline instances and the reference networks they compare), which every n of the correlation
 * shares; `aggregate` divides it among them.
 */
import type * as tf from '@tensorflow/tfjs';
import { StageFailure } from '../../pipeline/errors.js';
import type { StageOutcome } from '../../pipeline/stage.js';
import { readDataset, type Dataset } from '../lib/tables/dataset-table.js';
import { blockCount, loadNetwork } from '../lib/models/models.js';
import { bandScores, checkAgainstBand, sameTaskBand } from '../lib/predictors/band.js';
import { depthFeatures } from '../lib/predictors/features.js';
import { logme } from '../lib/predictors/logme.js';
import { leaveOneOutCentroidAccuracy } from '../lib/predictors/nearest-centroid.js';
import { predictedDepth, type Score } from '../lib/predictors/scoring.js';
import { finiteOrNull } from '../lib/statistics.js';
import type { z } from 'zod';
import type { PredictContext, predictSummary } from './predict.js';
import { BAND, PREDICTION, type PredictionRow } from '../lib/tables/prediction-tables.js';
import { SIMILARITY } from '../lib/tables/similarity-table.js';
import { trainingSubsetOrder } from '../lib/tasks/subsets.js';
import { rowsOf } from '../lib/models/training.js';

export const PREDICTORS = ['similarity_band', 'logme', 'nearest_centroid'] as const;
export type PredictorName = (typeof PREDICTORS)[number];

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
  const band = sameTaskBand(await Promise.all(baselines.map((b) => SIMILARITY.read(b.path('similarity')))));
  const checks = checkAgainstBand(await SIMILARITY.read(ctx.inputs.similarity.path('similarity')), band);
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
  await PREDICTION.write(ctx.output('prediction'), rows);
  await BAND.write(
    ctx.output('band'),
    checks.map(({ block, measure, value, low, high, pairs, inside }) => ({ correlation, block, measure, value, low, high, pairs, inside })),
  );
  // The band's inputs serve every n of this correlation: `aggregate` shares their cost out.
  const summary: z.input<typeof predictSummary> = {
    predicted,
    seconds: spent,
    shared_seconds: { similarity_band: Number(inputSeconds.toPrecision(4)) },
  };
  return { summary };
}
