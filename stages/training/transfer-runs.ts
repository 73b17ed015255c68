/**
 * `transfer` in the l* table: per cell (correlation, n, seed), one run per mode of
 * `transfer.modes` and each of its settings (`settingsOf`: the depths of `transfer.depths` for
 * the prefix modes), from that seed's source network, reading the frozen prefix's cached
 * activations where the mode at that setting keeps one (./prefix-plan.ts); a mode's setting is
 * its `depth` or `setting` coordinate (docs/science.md#beyond-freezing-a-prefix).
 */
import { depthOf, modeOptionsOf } from '../config/schema.js';
import { frozenPrefix, settingOf, type TransferModeDefinition } from '../lib/models/transfer-modes/mode.js';
import { transferModeOf } from '../lib/models/transfer-modes/registry.js';
import { coordNumber } from '../lib/report/results.js';
import type { AnswerStage } from './answer-stage.js';
import { planPrefix } from './prefix-plan.js';
import { raceInput } from './race-plan.js';
import { transferStage } from './transfer.js';

/**
 * The frozen prefix a transfer reads from the cache: a mode with a training schedule of its own
 * (the protocols, docs/science.md#beyond-freezing-a-prefix) trains the whole network through its
 * phases, so it reads none; a prefix mode reads its depth l.
 */
function cachedDepth(
  definition: TransferModeDefinition,
  setting: number,
  blocks: number,
  options: Readonly<Record<string, number>>,
): number {
  return definition.schedule === undefined ? frozenPrefix(definition, setting, blocks, options) : 0;
}

export const transferRuns: AnswerStage<typeof transferStage> = {
  stage: transferStage,
  plan: (cell) => {
    const { plan, config, task, correlation, n, seed, settings, training, data, source } = cell;
    return config.transfer.modes.flatMap((mode) => {
      const definition = transferModeOf(mode);
      const coordinate = settingOf(definition).coordinate;
      const modeOptions = modeOptionsOf(config, mode);
      const options = definition.options === undefined ? {} : { options: modeOptions };
      return settings(mode).map((value) =>
        plan.add(
          transferStage,
          { ...task, correlation, n, mode, [coordinate]: value, seed },
          { ...training, correlation, n, mode, [coordinate]: value, ...options, seed },
          {
            data,
            source,
            prefix: planPrefix(cell, cachedDepth(definition, value, depthOf(config), modeOptions)),
            // Early elimination races the depths of a prefix mode (docs/protocol.md#early-elimination-in-a-study).
            race: coordinate === 'depth' ? raceInput(config, task, correlation, n, mode, seed) : [],
          },
        ),
      );
    });
  },
  place: (coords) => ({ mode: String(coords.mode ?? ''), depth: coordNumber(coords, 'depth'), setting: coordNumber(coords, 'setting') }),
};
