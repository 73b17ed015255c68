/**
 * `race` (docs/protocol.md#early-elimination-in-a-study): one look of a study cell's early
 * elimination (`transfer.eliminate`). The depths of a (correlation, n, mode) race over the
 * replicates (task instance x seed, interleaved by task: (t0,s0), (t1,s0), (t2,s0), (t0,s1), ...);
 * the look before replicate i reads the transfers of replicates 0..i-1 and replays recommend's rule
 * (stages/lib/race.ts) on their selection accuracy, tested over the task instances as the study's
 * final test is. Its summary lists the depths still racing and those stopped so far; every transfer
 * of replicate i reads it, and one whose depth has stopped trains nothing and records that it was
 * eliminated (training-job.ts), so a study's results stay a pure function of the instances' keys.
 *
 * Scratch is not raced: its runs are shared by every mode of the cell (and one is the reference
 * network of `similarity`).
 */
import { z } from 'zod';
import { defineStage, inputs, type ContextOf } from '../../pipeline/stage.js';
import { countSchema, seedSchema } from '../config/schema.js';
import { replayRace, type RaceResult } from '../lib/race.js';
import { TRAINING_OUTPUTS } from './training-stage.js';

/** The transfers a look reads (named, not imported: `transfer` reads `race` in turn). */
const TRANSFER_PRODUCER = { name: 'transfer', outputs: TRAINING_OUTPUTS } as const;

export const raceParams = z.strictObject({
  mode: z.string(),
  /** The racing depths of the mode (`transfer.depths`). */
  depths: z.array(z.number().int().min(0)).min(1),
  /** Every replicate of the cell in racing order; `task` null for a study of one task. */
  replicates: z.array(z.strictObject({ task: seedSchema.nullable(), seed: seedSchema })).min(1),
  /** Replicates trained before this look (3..replicates-1). */
  look: countSchema,
});
export type RaceParams = z.output<typeof raceParams>;

const eliminationSchema = z.strictObject({
  depth: z.number().int(),
  /** Replicates it trained (0..after_replicates-1 of the racing order). */
  after_replicates: z.number().int(),
  /** The depth that led when it stopped. */
  leader: z.number().int(),
  /** leader − depth in selection accuracy, `[low, mean, high]` at the race's level. */
  gap: z.array(z.number().nullable()),
});

export const raceSummary = z.strictObject({
  look: z.number().int(),
  alive: z.array(z.number().int()),
  eliminated: z.array(eliminationSchema),
});
export type RaceSummary = z.output<typeof raceSummary>;

/** Reads a `race` summary from a manifest (null when it is not one). */
export function raceSummaryOf(summary: unknown): RaceSummary | null {
  const parsed = raceSummary.safeParse(summary);
  return parsed.success ? parsed.data : null;
}

const declaration = {
  name: 'race',
  description: "one look of a study cell's early elimination: which depths still train",
  module: import.meta.url,
  params: raceParams,
  inputs: { runs: inputs(TRANSFER_PRODUCER) },
  outputs: {},
} as const;

export type RaceContext = ContextOf<typeof declaration>;

/** The task units of the test: one per replicate, or null when the study has one task. */
export function raceTasks(replicates: RaceParams['replicates']): number[] | null {
  return replicates.some((r) => r.task !== null) ? replicates.map((r) => r.task ?? -1) : null;
}

/** The look's decision from the transfers' coordinates and summaries (pure; the stage's `run`). */
export function decideRace(
  params: RaceParams,
  runs: readonly { readonly coords: Readonly<Record<string, unknown>>; readonly summary: Readonly<Record<string, unknown>> }[],
): RaceSummary {
  const index = (task: unknown, seed: unknown): number =>
    params.replicates.findIndex((r) => r.seed === seed && r.task === (typeof task === 'number' ? task : null));
  const results: RaceResult[] = [];
  for (const run of runs) {
    const fold = index(run.coords.task, run.coords.seed);
    const accuracy = run.summary.selection_accuracy;
    if (fold < 0 || fold >= params.look || typeof accuracy !== 'number' || typeof run.coords.depth !== 'number') continue;
    results.push({ mode: params.mode, depth: run.coords.depth, fold, accuracy });
  }
  const candidates = params.depths.map((depth) => ({ mode: params.mode, depth }));
  const units = params.replicates.length;
  const { eliminated } = replayRace(results, candidates, params.mode, units, raceTasks(params.replicates), params.look);
  const gone = new Set(eliminated.map((e) => e.depth));
  return {
    look: params.look,
    alive: params.depths.filter((d) => !gone.has(d)),
    eliminated: eliminated.map((e) => ({ depth: e.depth ?? -1, after_replicates: e.after_folds, leader: e.leader, gap: [...e.gap] })),
  };
}

export const raceStage = defineStage({
  ...declaration,
  summary: raceSummary,
  run(ctx) {
    const summary = decideRace(ctx.params, ctx.inputs.runs);
    ctx.log(
      `after ${summary.look} replicates: racing ${summary.alive.join(', ')}` +
        summary.eliminated.map((e) => `; depth ${e.depth} stopped after ${e.after_replicates} (leader ${e.leader})`).join(''),
    );
    return Promise.resolve({ summary });
  },
});
