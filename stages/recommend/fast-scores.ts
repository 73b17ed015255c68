/**
 * The predictor scores of `defrost recommend --fast` (docs/prediction.md): the leave-one-out
 * nearest-centroid accuracy of the user's labelled samples through the pre-trained network's
 * frozen blocks, one score per depth. It is the best-scoring predictor of docs/prediction.md that
 * needs no trained target networks (the band predictor does), and costs one forward pass.
 *
 * Computed in the command, not cached as a stage: it takes seconds, while the training it saves
 * takes minutes. Heavy (TensorFlow.js, sharp): the command imports it inside its action.
 */
import { readFileDataset } from '../lib/formats/read.js';
import { depthFeatures } from '../lib/predictors/features.js';
import { leaveOneOutCentroidAccuracy } from '../lib/predictors/nearest-centroid.js';
import { canonicalSourceNetwork } from '../lib/models/source-network/canonical.js';
import { deriveBlocks, readSourceModel } from '../lib/models/source-network/topology.js';
import type { RecommendRequest } from './plan.js';

/** The predictor `--fast` ranks with, as named in its answer. */
export const FAST_PREDICTOR = 'nearest_centroid';

/** Score of each depth in `depths` (same order), and the number of samples it is an accuracy over. */
export interface FastScores {
  readonly scores: number[];
  readonly rows: number;
}

/** Scores every depth in `depths` from all the user's labelled samples. */
export async function fastScores(request: RecommendRequest, depths: readonly number[]): Promise<FastScores> {
  const { train } = await readFileDataset(request.data.spec, request.data.images);
  const model = readSourceModel(request.model.path);
  const blocks = deriveBlocks(request.model.path, model.topology, request.model.blocks);
  const network = await canonicalSourceNetwork(model, blocks);
  try {
    const features = depthFeatures(network, train.features, train.rows);
    return { scores: depths.map((d) => leaveOneOutCentroidAccuracy(features[d], train.labels, train.classes.length)), rows: train.rows };
  } finally {
    network.dispose();
  }
}
