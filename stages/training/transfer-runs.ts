/**
 * `transfer` in the l* table: per cell (correlation, n, seed), one run per mode of
 * `transfer.modes` and depth of `transfer.depths`, from that seed's source network, reading the
 * frozen prefix's cached activations where its mode keeps one (./prefix-plan.ts).
 */
import { depthOf } from '../config/schema.js';
import { frozenPrefix } from '../lib/models/transfer-modes/mode.js';
import { transferModeOf } from '../lib/models/transfer-modes/registry.js';
import { coordNumber } from '../lib/report/results.js';
import type { AnswerStage } from './answer-stage.js';
import { planPrefix } from './prefix-plan.js';
import { transferStage } from './transfer.js';

export const transferRuns: AnswerStage<typeof transferStage> = {
  stage: transferStage,
  plan: (cell) => {
    const { plan, config, task, correlation, n, seed, depths, training, data, source } = cell;
    return config.transfer.modes.flatMap((mode) =>
      depths.map((depth) =>
        plan.add(
          transferStage,
          { ...task, correlation, n, mode, depth, seed },
          { ...training, correlation, n, mode, depth, seed },
          { data, source, prefix: planPrefix(cell, frozenPrefix(transferModeOf(mode), depth, depthOf(config))) },
        ),
      ),
    );
  },
  place: (coords) => ({ mode: String(coords.mode ?? ''), depth: coordNumber(coords, 'depth') }),
};
