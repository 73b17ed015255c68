/**
 * `transfer` in the l* table: per cell (correlation, n, seed), one run per mode of
 * `transfer.modes` and depth of `transfer.depths`, from that seed's source network.
 */
import { coordNumber } from '../lib/report/results.js';
import type { AnswerStage } from './answer-stage.js';
import { transferStage } from './transfer.js';

export const transferRuns: AnswerStage<typeof transferStage> = {
  stage: transferStage,
  plan: ({ plan, config, task, correlation, n, seed, depths, training, data, source }) =>
    config.transfer.modes.flatMap((mode) =>
      depths.map((depth) =>
        plan.add(
          transferStage,
          { ...task, correlation, n, mode, depth, seed },
          { ...training, correlation, n, mode, depth, seed },
          { data, source },
        ),
      ),
    ),
  place: (coords) => ({ mode: String(coords.mode ?? ''), depth: coordNumber(coords, 'depth') }),
};
