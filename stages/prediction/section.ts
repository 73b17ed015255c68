/**
 * The report section "Can l* be predicted?" (docs/prediction.md): the `baseline` and `predict`
 * instances it plans, the tables it adds to `aggregate` and its builder
 * (`section-job.ts`, loaded on demand: it imports apache-arrow and vega).
 */
import { baselineStage } from '../similarity/baseline.js';
import { predictStage } from './predict.js';
import type { DefrostConfig } from '../config/schema.js';
import type { ReportSection } from '../lib/report/section.js';
import { BAND, PREDICTION_SCORES, STUDY_PREDICTION } from '../lib/tables/prediction-tables.js';

/** The section's tables in the aggregate instance (written by `buildPredictionSection`). */
export const PREDICTION_OUTPUTS = {
  prediction: STUDY_PREDICTION.output({ optional: true }),
  predictionScores: PREDICTION_SCORES.output({ optional: true }),
  band: BAND.output({ optional: true }),
} as const;

export const predictionSection: ReportSection<typeof predictStage, DefrostConfig> = {
  id: 'prediction',
  stages: [predictStage],
  outputs: PREDICTION_OUTPUTS,
  plan({ plan, config, correlation, data, source, scratch, similarity }) {
    if (!config.prediction.enabled) return [];
    const { seeds, task } = config;
    // The same-task baseline: every pair of the reference networks of the first
    // `prediction.reference_seeds` seeds (the first seed and the next ones when there are
    // fewer); then one `predict` instance per n.
    const count = config.prediction.reference_seeds;
    const referenceSeeds = [...seeds.slice(0, count)];
    for (let extra = Math.max(...seeds) + 1; referenceSeeds.length < Math.min(2, count); extra++) referenceSeeds.push(extra);
    const references = referenceSeeds.map((seed) => scratch(task.target_reference_size, seed));
    const baselines = references.flatMap((b, i) =>
      references
        .slice(0, i)
        .map((a, j) =>
          plan.add(
            baselineStage,
            { correlation, seed: referenceSeeds[j], other_seed: referenceSeeds[i] },
            { correlation, similarity: config.similarity },
            { data, source: b, reference: a },
          ),
        ),
    );
    return task.target_sizes.map((n) =>
      plan.add(
        predictStage,
        { correlation, n },
        { correlation, n, seed: seeds[0] },
        { data, source: source(seeds[0]), similarity, baselines, references },
      ),
    );
  },
  async load() {
    return (await import('./section-job.js')).buildPredictionSection;
  },
};
