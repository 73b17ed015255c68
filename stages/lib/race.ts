/**
 * Early elimination (docs/your-data.md#early-elimination): the depths race over the folds of
 * `recommend`, or over a study's replicates with `transfer.eliminate`
 * (docs/protocol.md#early-elimination-in-a-study, stages/training/race-stage.ts). Round 1 trains every candidate (each depth of each mode, and scratch) on the first
 * `FIRST_ROUND_FOLDS` folds; each later round trains the survivors on one more fold, until the
 * last fold. After every round but the last, a candidate whose paired fold difference from the
 * current best depth of the first mode (the current l*) is significantly negative at the
 * stricter level `eliminationLevel(K)` stops: its remaining folds are never trained. Survivors get
 * every fold, and the answer (answer.ts) is computed on them at the final 95% level, exactly as
 * without elimination.
 *
 * The folds are the rounds because they are what the comparison is paired over, and a fold run
 * is a whole `cv-train` instance: a race trains a subset of the instances an exhaustive
 * recommend would, with the same keys and bytes, so `--exhaustive` afterwards trains only the
 * folds the race skipped, and the race can be replayed on exhaustive fold accuracies
 * (scripts/elimination-check.mjs).
 *
 * Pure: the command decides the rounds with it, and the `recommend` stage replays it on the fold
 * runs it gathers to name the eliminated candidates; a study's `race` instances replay it on the
 * replicates trained so far.
 */
import { SCRATCH_MODE } from './models/transfer-modes/registry.js';
import { bestDepth, pairedDifferenceInterval, type Interval, type Tasks } from './statistics.js';

/** Folds of round 1: the fewest that give a paired t-test two degrees of freedom. */
export const FIRST_ROUND_FOLDS = 3;

/** The level of the final test (the plausible set, docs/protocol.md); elimination is stricter. */
const FINAL_ALPHA = 0.05;

/** One racing candidate: a depth of a mode, or scratch (`mode: scratch`, depth null). */
export interface Candidate {
  readonly mode: string;
  readonly depth: number | null;
}

/** One fold's held-out accuracy of a candidate. */
export interface RaceResult extends Candidate {
  readonly fold: number;
  readonly accuracy: number;
}

/** A candidate the race stopped: after how many folds, and its gap to the leader then. */
export interface Elimination extends Candidate {
  /** Folds it was trained on (0..after_folds-1). */
  readonly after_folds: number;
  /** The depth of the first mode that led when it stopped. */
  readonly leader: number;
  /** leader − candidate over those folds, `[low, mean, high]` at `eliminationLevel`. */
  readonly gap: Interval;
}

/** Folds trained after each round: [3, 4, ..., K] (one round of K folds when K <= 3). */
export function raceRounds(folds: number): number[] {
  const rounds = [Math.min(folds, FIRST_ROUND_FOLDS)];
  while (rounds[rounds.length - 1] < folds) rounds.push(rounds[rounds.length - 1] + 1);
  return rounds;
}

/**
 * The two-sided level of each elimination test. A race of K folds looks K − 3 times before the
 * final test (after folds 3..K−1). Each look tests at 1 − α with α = min(0.01, 0.05 / looks), so
 * the chance that some look stops a candidate truly as good as the leader is at most
 * looks × α <= 0.05 (Bonferroni over the looks; one-sided it is half of that): no more than the
 * chance the final 95% test leaves such a depth out of the plausible set anyway. Looking early
 * therefore does not shrink the plausible set beyond what the final test would do.
 */
export function eliminationLevel(folds: number): number {
  const looks = Math.max(1, raceRounds(folds).length - 1);
  return 1 - Math.min(0.01, FINAL_ALPHA / looks);
}

export const candidateKey = (c: Candidate): string => (c.depth === null ? c.mode : `${c.mode}/${c.depth}`);

/** Accuracy per fold (NaN where missing) of one candidate, over folds 0..done-1. */
function scoresOf(results: readonly RaceResult[], c: Candidate, done: number): number[] {
  const scores = new Array<number>(done).fill(Number.NaN);
  for (const r of results) if (r.mode === c.mode && r.depth === c.depth && r.fold < done) scores[r.fold] = r.accuracy;
  return scores;
}

/**
 * The eliminations after a round with `done` folds trained by every candidate in `alive`: the
 * leader is the best of the first mode's alive depths (the l* rule of stages/lib/statistics.ts);
 * every other alive candidate whose interval of leader − candidate, at `eliminationLevel(folds)`,
 * lies above 0 stops. `tasks` (a study's replicates, docs/protocol.md#task-instances): the task
 * of each fold position, so that the race tests over the same units as the study's final test.
 */
export function eliminationsAfter(
  results: readonly RaceResult[],
  alive: readonly Candidate[],
  primaryMode: string,
  done: number,
  folds: number,
  tasks: Tasks = null,
): Elimination[] {
  const units = tasks === null ? null : tasks.slice(0, done);
  const primary = new Map<number, number[]>();
  for (const c of alive) if (c.mode === primaryMode && c.depth !== null) primary.set(c.depth, scoresOf(results, c, done));
  const leader = bestDepth(primary, units);
  if (leader === null) return [];
  const reference = primary.get(leader) ?? [];
  const level = eliminationLevel(folds);
  const out: Elimination[] = [];
  for (const c of alive) {
    if (c.mode === primaryMode && c.depth === leader) continue;
    const scores = scoresOf(results, c, done);
    if (!scores.some((v, i) => Number.isFinite(v) && Number.isFinite(reference[i]))) continue;
    const gap = pairedDifferenceInterval(reference, scores, level, units);
    if (gap[0] !== null && gap[0] > 0) out.push({ mode: c.mode, depth: c.depth, after_folds: done, leader, gap });
  }
  return out;
}

/** Every candidate of a request: each depth of each mode, then scratch. */
export function raceCandidates(modes: readonly string[], depths: readonly number[]): Candidate[] {
  return [...modes.flatMap((mode) => depths.map((depth) => ({ mode, depth }))), { mode: SCRATCH_MODE, depth: null }];
}

/**
 * Replays the race on fold results (all of a race's runs, or an exhaustive recommend's): the
 * candidates eliminated, in order, and the folds each candidate is trained on. Results past a
 * candidate's elimination are ignored, as the race would never have trained them. `reached`: replay
 * only the looks made with at most that many folds trained (a race still under way).
 */
export function replayRace(
  results: readonly RaceResult[],
  candidates: readonly Candidate[],
  primaryMode: string,
  folds: number,
  tasks: Tasks = null,
  reached: number = folds,
): { eliminated: Elimination[]; trainedFolds: Map<string, number> } {
  const rounds = raceRounds(folds);
  const trainedFolds = new Map(candidates.map((c) => [candidateKey(c), folds]));
  const eliminated: Elimination[] = [];
  let alive = [...candidates];
  for (const done of rounds.slice(0, -1).filter((d) => d <= reached)) {
    const out = eliminationsAfter(results, alive, primaryMode, done, folds, tasks);
    for (const e of out) trainedFolds.set(candidateKey(e), done);
    eliminated.push(...out);
    const gone = new Set(out.map(candidateKey));
    alive = alive.filter((c) => !gone.has(candidateKey(c)));
  }
  return { eliminated, trainedFolds };
}
