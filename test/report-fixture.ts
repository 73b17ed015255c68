/**
 * Hand-made inputs for the report tests: planned scratch, transfer and similarity runs with
 * known accuracies, and similarity tables on disk, shaped like what the real stages publish.
 * Not a test file itself.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from '../stages/lib/report/types.js';
import { BAND, PREDICTION } from '../stages/lib/tables/prediction-tables.js';
import { SIMILARITY, type SimilarityRow } from '../stages/lib/tables/similarity-table.js';
import { TRAINING_METRICS } from '../stages/lib/tables/training-tables.js';
import { instanceId } from '../stages/plan.js';
import type { JsonObject } from '../pipeline/stage.js';
import { Rng } from '../stages/lib/random.js';
import { optionsOf, settingOf } from '../stages/lib/models/transfer-modes/mode.js';
import { knownTransferMode } from '../stages/lib/models/transfer-modes/registry.js';
import { scratchDir } from './stage-rig.js';

/** How much better than the prefix modes' curve a protocol with its own setting does (accuracy). */
export const PROTOCOL_EDGE = 0.08;

export interface FixtureOptions {
  readonly correlations?: readonly (number | null)[];
  readonly ns?: readonly number[];
  /** Transfer modes; a protocol with a setting of its own runs at its default settings. */
  readonly modes?: readonly string[];
  /** Hidden blocks L; depths 0..L are planned. */
  readonly depth?: number;
  readonly seeds?: readonly number[];
  /** Instance ids to plan but leave unpublished (failed). */
  readonly failed?: (run: RunRecord) => boolean;
}

export interface Fixture {
  readonly dir: string;
  readonly runs: RunRecord[];
  readonly depth: number;
}

/**
 * A smooth, seed-noisy accuracy curve whose best depth moves with correlation and n, like the
 * study's: deep for rho = 1 and small n, shallow for low rho.
 */
function accuracyOf(rng: Rng, correlation: number, n: number, mode: string, depth: number, L: number): number {
  const best = peakOf(correlation, n, L);
  const base = 0.55 + 0.3 * Math.min(1, Math.log10(n) / 3) + (mode === 'defrost' ? 0.02 : 0);
  return base - 0.03 * Math.abs(depth - best) + 0.01 * rng.normal();
}

/** The best depth of the fixture's accuracy curve. */
const peakOf = (correlation: number, n: number, L: number): number => Math.round(L * correlation * correlation * (n < 50 ? 1 : 0.7));

/**
 * A training run's summary as the engine stores it: its metrics row as JSON
 * (stages/lib/tables/training-tables.ts). Test and selection accuracy differ by their own noise;
 * the stopping split's accuracy is optimistic (it was maximised) and chooses nothing.
 */
export function trainingSummary(test: number, selection = test, depth = 0, validation = Math.min(1, selection + 0.01 * depth)): JsonObject {
  return TRAINING_METRICS.json({
    test_accuracy: test,
    test_loss: 1 - test,
    validation_accuracy: validation,
    validation_loss: 1 - selection,
    selection_accuracy: selection,
    selection_loss: 1 - selection,
    train_steps: 100 + depth,
    epochs: 5,
    best_epoch: 3,
    learning_rate: 0.001,
    stopped_by: depth % 2 === 0 ? 'patience' : 'budget',
  });
}

export async function makeFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const correlations = options.correlations ?? [1, 0.8];
  const ns = options.ns ?? [20, 100];
  const modes = options.modes ?? ['defrost', 'reinit'];
  const L = options.depth ?? 2;
  const seeds = options.seeds ?? [0, 1, 2];
  const dir = scratchDir('report');
  const rng = new Rng(7, 'report-fixture');
  const runs: RunRecord[] = [];
  const add = (stage: string, coords: Record<string, string | number | null>, summary?: JsonObject): void => {
    const id = instanceId(stage, coords);
    const base: RunRecord = { id, stage, coords, published: true, summary, durationSeconds: 1 + rng.uniform(), dir: join(dir, id) };
    const failed = options.failed?.(base) ?? false;
    runs.push(failed ? { id, stage, coords, published: false } : base);
  };
  for (const correlation of correlations) {
    const rho = correlation ?? 0.9;
    for (const n of ns) {
      for (const seed of seeds) {
        const scratch = 0.5 + 0.35 * Math.min(1, Math.log10(n) / 3) + 0.01 * rng.normal();
        add('train-scratch', { correlation, n, seed }, trainingSummary(scratch, scratch + 0.01 * rng.normal()));
        for (const mode of modes) {
          const definition = knownTransferMode(mode);
          if (definition?.setting !== undefined) {
            // A protocol with a setting of its own runs at its defaults, on its own coordinate, its
            // settings a point apart from PROTOCOL_EDGE above the prefix curve's peak.
            const setting = settingOf(definition);
            for (const [i, value] of setting.defaults(L, optionsOf(definition)).entries()) {
              const acc = accuracyOf(rng, rho, n, mode, peakOf(rho, n, L), L) + PROTOCOL_EDGE - 0.01 * i;
              add(
                'transfer',
                { correlation, n, mode, [setting.coordinate]: value, seed },
                trainingSummary(acc, acc + 0.01 * rng.normal(), i),
              );
            }
            continue;
          }
          for (let depth = 0; depth <= L; depth++) {
            const acc = accuracyOf(rng, rho, n, mode, depth, L);
            add('transfer', { correlation, n, mode, depth, seed }, trainingSummary(acc, acc + 0.01 * rng.normal(), depth));
          }
        }
      }
    }
    add('similarity', { correlation });
    for (const n of ns)
      add(
        'predict',
        { correlation, n },
        { predicted: { logme: L, nearest_centroid: 1 }, seconds: { logme: 0.25, nearest_centroid: 0.125 }, shared_seconds: {} },
      );
  }
  // Similarity tables of the published similarity instances.
  for (const run of runs.filter((r) => r.stage === 'similarity' && r.published)) {
    const correlation = run.coords.correlation as number | null;
    const rho = correlation ?? 0.9;
    const rows: SimilarityRow[] = [];
    for (let a = 1; a <= L; a++) {
      for (let b = 1; b <= L; b++) rows.push({ correlation, block_a: a, block_b: b, measure: 'cka', value: rho ** (a + b) * 0.95 });
      rows.push({ correlation, block_a: a, block_b: a, measure: 'neighbour_overlap', value: 0.8 * rho ** a });
      rows.push({ correlation, block_a: a, block_b: a, measure: 'information_imbalance_a_to_b', value: 1 - 0.8 * rho ** a });
      rows.push({ correlation, block_a: a, block_b: a, measure: 'intrinsic_dimension_a', value: 6 + a });
    }
    await mkdir(run.dir as string, { recursive: true });
    await SIMILARITY.write(join(run.dir as string, SIMILARITY.file), rows);
  }
  // Predictions: LogME-like scores rising with depth, and a probe that prefers depth 1.
  for (const run of runs.filter((r) => r.stage === 'predict' && r.published)) {
    const correlation = run.coords.correlation as number | null;
    const n = run.coords.n as number;
    const rows = ['logme', 'nearest_centroid'].flatMap((predictor) =>
      Array.from({ length: L + 1 }, (_, depth) => ({
        correlation,
        n,
        predictor,
        depth,
        score: predictor === 'logme' ? depth : -Math.abs(depth - 1),
        predicted_depth: predictor === 'logme' ? L : 1,
      })),
    );
    await mkdir(run.dir as string, { recursive: true });
    await PREDICTION.write(join(run.dir as string, PREDICTION.file), rows);
    // Two measures: one where higher is more alike, one where lower is (information imbalance).
    const band = Array.from({ length: L }, (_, i) => {
      const value = 0.9 * (correlation ?? 0.9) ** (i + 1);
      return [
        { correlation, block: i + 1, measure: 'cka', value, low: 0.75, high: 0.85, pairs: 3, inside: value >= 0.75 },
        {
          correlation,
          block: i + 1,
          measure: 'information_imbalance_a_to_b',
          value: 1 - value,
          low: 0.2,
          high: 0.4,
          pairs: 3,
          inside: 1 - value <= 0.4,
        },
      ];
    }).flat();
    await BAND.write(join(run.dir as string, BAND.file), band);
  }
  return { dir, runs, depth: L };
}
