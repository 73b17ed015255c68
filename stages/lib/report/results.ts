/**
 * Turns planned runs into the rows of `results.arrow` and the list of missing runs.
 *
 * Rows are sorted, not kept in input order, so `results.arrow` is the same bytes whatever order
 * the engine hands the inputs in: correlation from high (most similar tasks) to low, then n,
 * then mode (`scratch` first), depth and seed ascending.
 */
import { summaryOf } from '../../../pipeline/outputs.js';
import type { Coords } from '../../../pipeline/stage.js';
import { knownTransferMode, SCRATCH_MODE } from '../models/transfer-modes/registry.js';
import type { ResultRow } from '../tables/report-tables.js';
import { TRAINING_SUMMARY } from '../tables/training-tables.js';
import type { MissingRun, RunRecord } from './types.js';

/** Scratch rows carry this mode. */
export { SCRATCH_MODE };

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function coordNumber(coords: Coords, key: string): number | null {
  const v = coords[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/**
 * Where a run of a stage that feeds the l* table sits in it, besides its cell (correlation, n,
 * seed): its mode and its depth or its mode's own setting (both null for the scratch baseline).
 * Each such stage says how to read it from its coordinates (stages/report/answer-stages.ts).
 */
export interface AnswerPlace {
  readonly mode: string;
  readonly depth: number | null;
  /** The setting of a mode whose setting is not the depth (docs/science.md#beyond-freezing-a-prefix). */
  readonly setting: number | null;
}

/** A run's place in the l* table, or null for a run that is no row of it. */
export type PlaceOf = (run: RunRecord) => AnswerPlace | null;

/** Where a run sits in the sweep: its cell, read from its coordinates, and its place. */
function place(run: RunRecord, at: AnswerPlace): MissingRun {
  return {
    id: run.id,
    correlation: coordNumber(run.coords, 'correlation'),
    n: coordNumber(run.coords, 'n') ?? 0,
    mode: at.mode,
    depth: at.depth,
    setting: at.setting,
    seed: coordNumber(run.coords, 'seed') ?? 0,
    task_seed: coordNumber(run.coords, 'task'),
  };
}

/** A published run's row: its place in the sweep, its declared summary (its metrics row) and its duration. */
function resultRow(run: RunRecord, at: AnswerPlace): ResultRow {
  const p = place(run, at);
  const m = summaryOf(TRAINING_SUMMARY, run);
  return {
    correlation: p.correlation,
    n: p.n,
    mode: p.mode,
    depth: p.depth,
    setting: p.setting,
    seed: p.seed,
    task_seed: p.task_seed,
    test_accuracy: m.test_accuracy,
    test_loss: m.test_loss,
    validation_accuracy: m.validation_accuracy,
    selection_accuracy: m.selection_accuracy,
    best_epoch: m.best_epoch,
    stopped_by: m.stopped_by,
    learning_rate: m.learning_rate,
    train_steps: m.train_steps,
    seconds: numberOrNull(run.durationSeconds),
  };
}

/**
 * True for the modes of the l* table: transfer modes whose swept setting is the depth l over
 * `transfer.depths` (the prefix modes; a mode no registry knows counts as one). The protocols with
 * a setting of their own are compared across modes by the protocols section instead
 * (docs/science.md#beyond-freezing-a-prefix).
 */
export function isDepthMode(mode: string): boolean {
  return mode !== SCRATCH_MODE && knownTransferMode(mode)?.setting === undefined;
}

/** Order of correlations in every table and chart: high to low, null (image task) last. */
export function compareCorrelation(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

/** Order of modes: scratch first, then alphabetical (defrost, reinit). */
export function compareMode(a: string, b: string): number {
  if (a === b) return 0;
  if (a === SCRATCH_MODE) return -1;
  if (b === SCRATCH_MODE) return 1;
  return a < b ? -1 : 1;
}

type Placed = Pick<MissingRun, 'correlation' | 'n' | 'mode' | 'depth' | 'setting' | 'seed' | 'task_seed'>;

export function compareRuns(a: Placed, b: Placed): number {
  return (
    compareCorrelation(a.correlation, b.correlation) ||
    a.n - b.n ||
    compareMode(a.mode, b.mode) ||
    (a.depth ?? -1) - (b.depth ?? -1) ||
    (a.setting ?? -1) - (b.setting ?? -1) ||
    (a.task_seed ?? -1) - (b.task_seed ?? -1) ||
    a.seed - b.seed
  );
}

export interface CollectedRuns {
  readonly results: ResultRow[];
  readonly missing: MissingRun[];
  readonly missingSimilarity: (number | null)[];
  /** Published similarity instances, sorted by correlation. */
  readonly similarityRuns: RunRecord[];
}

/** Splits planned runs into published results, missing runs and similarity instances; `placeOf` says which runs are results. */
export function collectRuns(runs: readonly RunRecord[], placeOf: PlaceOf): CollectedRuns {
  const results: ResultRow[] = [];
  const missing: MissingRun[] = [];
  const missingSimilarity: (number | null)[] = [];
  const similarityRuns: RunRecord[] = [];
  for (const run of runs) {
    if (run.stage === 'similarity') {
      if (run.published) similarityRuns.push(run);
      else missingSimilarity.push(coordNumber(run.coords, 'correlation'));
    } else {
      const at = placeOf(run);
      if (at === null) continue;
      if (run.published) results.push(resultRow(run, at));
      else missing.push(place(run, at));
    }
  }
  results.sort(compareRuns);
  missing.sort(compareRuns);
  missingSimilarity.sort(compareCorrelation);
  similarityRuns.sort(
    (a, b) => compareCorrelation(coordNumber(a.coords, 'correlation'), coordNumber(b.coords, 'correlation')) || (a.id < b.id ? -1 : 1),
  );
  return { results, missing, missingSimilarity, similarityRuns };
}

export { coordNumber };
