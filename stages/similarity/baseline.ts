/**
 * `baseline` (docs/prediction.md): the same-task baseline of one correlation. It runs the
 * `similarity` stage's job on two networks trained from scratch on the target task with
 * different seeds (`source` = the other seed's network, `reference` = the first seed's), so its
 * `similarity.arrow` says how alike two networks that learned the same thing look, block by
 * block and measure by measure. `predict` turns several such pairs into a band.
 */
import { defineStage, input, type StageOutcome } from '../../pipeline/stage.js';
import { generateDataStage } from '../data/generate-data.js';
import { similarityStage } from './similarity.js';
import { trainScratchStage } from '../training/train-scratch.js';

export const baselineStage = defineStage({
  name: 'baseline',
  description: 'same-task baseline: similarity between two target networks trained from scratch with different seeds',
  module: import.meta.url,
  params: similarityStage.params,
  inputs: {
    /** The target dataset: its test inputs are the probes. */
    data: input(generateDataStage),
    /** Two target reference networks of different seeds. */
    source: input(trainScratchStage),
    reference: input(trainScratchStage),
  },
  outputs: similarityStage.outputs,
  async run(ctx): Promise<StageOutcome> {
    const { runSimilarity } = await import('./similarity-job.js');
    return runSimilarity(ctx);
  },
});
