/**
 * `similarity` (docs/science.md#comparing-representations, docs/similarity.md): compares, block by block, the source network and the target
 * reference network on target test probes, for one correlation; writes `similarity.arrow`
 * (see `similarity-job.ts` for the table layout).
 *
 * The work is in `similarity-job.ts`, loaded on demand, so the scheduler never loads
 * TensorFlow.js or Arrow.
 */
import { defineStage } from '../pipeline/stage.js';
import type { SimilarityParams } from './similarity-job.js';

export const similarityStage = defineStage<SimilarityParams>({
  name: 'similarity',
  description:
    'layer-wise similarity (CKA, RBF CKA, neighbour overlap, information imbalance, TwoNN) of source vs target reference network',
  code: [
    'stages/similarity.ts',
    'stages/similarity-job.ts',
    'stages/similarity-measures/*.ts',
    'stages/models.ts',
    'stages/dataset-table.ts',
  ],
  async run(ctx) {
    const { runSimilarity } = await import('./similarity-job.js');
    return runSimilarity(ctx);
  },
});
