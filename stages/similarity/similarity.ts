/**
 * `similarity` (docs/similarity.md): compares, block by block, the source network and the
 * target reference network on target test probes, for one correlation; writes
 * `similarity.arrow` (see `similarity-job.ts` for the table layout).
 *
 * The work is in `similarity-job.ts`, loaded on demand, so the scheduler never loads
 * TensorFlow.js or Arrow.
 */
import { z } from 'zod';
import { defineStage, directory, input, type ContextOf, type StageOutcome } from '../../pipeline/stage.js';
import { correlationSchema, similaritySchema } from '../config/schema.js';
import { SIMILARITY } from '../lib/tables/similarity-table.js';
import { generateDataStage } from '../data/generate-data.js';
import { trainScratchStage } from '../training/train-scratch.js';
import { importSourceStage } from '../data/import-source.js';
import { trainSourceStage } from '../training/train-source.js';

export const similarityParams = z.strictObject({ correlation: correlationSchema.nullable(), similarity: similaritySchema });

const declaration = {
  name: 'similarity',
  description:
    'layer-wise similarity (CKA, RBF CKA, neighbour overlap, information imbalance, TwoNN) of source vs target reference network',
  module: import.meta.url,
  params: similarityParams,
  inputs: {
    /** The target dataset: its test inputs are the probes. */
    data: input(generateDataStage),
    /** The source network: trained by the study, or the imported `source_model` (docs/your-data.md). */
    source: input(trainSourceStage, importSourceStage),
    /** The target reference network (train-scratch at n = task.target_reference_size). */
    reference: input(trainScratchStage),
  },
  outputs: {
    similarity: SIMILARITY.output(),
    /** With `similarity.save_activations`: `source_block<l>.arrow`, `reference_block<l>.arrow`. */
    activations: directory('activations', { optional: true }),
  },
} as const;

/** What `similarity-job.ts` gets: the context of this declaration. */
export type SimilarityContext = ContextOf<typeof declaration>;

export const similarityStage = defineStage({
  ...declaration,
  async run(ctx): Promise<StageOutcome> {
    const { runSimilarity } = await import('./similarity-job.js');
    return runSimilarity(ctx);
  },
});
