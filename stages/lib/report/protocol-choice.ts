/**
 * "Which protocol, and at which setting?" for one cell (docs/science.md#beyond-freezing-a-prefix):
 * every (protocol, setting) pair run on the cell is a candidate, scored per replication unit on the
 * selection split and measured on test. The rules are those of l* (docs/protocol.md), applied
 * across protocols instead of across depths:
 * - the best pair has the highest mean selection accuracy; a tie goes to the earlier candidate
 *   (the caller lists the prefix modes first, deepest depth first: the cheaper protocol);
 * - its plausible set holds every pair whose paired selection difference from it is not
 *   significant at 95%;
 * - each protocol's best setting is chosen the same way among its own settings, and its gains on
 *   test over freezing every block (`defrost` at l = L), over fine-tuning everything (l = 0) and
 *   over the best prefix depth l* (`defrost` at its l*) come with paired 95% intervals.
 * Units: seeds (folds for `recommend`), or with several task instances the tasks (`Tasks`,
 * stages/lib/statistics.ts), exactly as for l*.
 * Pure: the report's protocol section and `recommend --protocols` both call it.
 */
import {
  accuracyInterval,
  bestDepth,
  excludesZero,
  pairedDifferenceInterval,
  plausibleSet,
  replicationUnits,
  type Interval,
  type Tasks,
} from '../statistics.js';
import { settingOf } from '../models/transfer-modes/mode.js';
import { DEFAULT_TRANSFER_MODE, knownTransferMode, TRANSFER_MODES } from '../models/transfer-modes/registry.js';

/** One (protocol, setting) pair of a cell, its per-unit values aligned across candidates (NaN: missing). */
export interface Candidate {
  readonly mode: string;
  readonly setting: number;
  /** How the setting is named: `l`, `b`, `γ`, `α`. */
  readonly symbol: string;
  readonly selection: readonly number[];
  readonly test: readonly number[];
}

/** A protocol's best setting in a cell and what it gains on test. */
export interface ProtocolBest {
  readonly mode: string;
  readonly setting: number;
  readonly symbol: string;
  readonly selection: number;
  readonly test: Interval;
  /** Paired test gain over freezing every block (l = L), over fine-tuning everything (l = 0), over the best prefix l*; null without them. */
  readonly vsFreezeAll: Interval | null;
  readonly vsFineTuneAll: Interval | null;
  readonly vsBestPrefix: Interval | null;
}

export interface ProtocolChoice {
  readonly best: ProtocolBest;
  /** The pairs not significantly worse than the best on selection (the best included), in candidate order. */
  readonly plausible: readonly Pick<Candidate, 'mode' | 'setting' | 'symbol'>[];
  /** Each protocol's best, in the order protocols first appear among the candidates. */
  readonly byMode: readonly ProtocolBest[];
}

/** The prefix references: freezing every block, fine-tuning everything and the best prefix depth (null when not run). */
export interface PrefixReferences {
  readonly freezeAll: Candidate | null;
  readonly fineTuneAll: Candidate | null;
  readonly bestPrefix: Candidate | null;
}

/**
 * The best of `candidates` by mean selection accuracy (ties: the earlier one), or null when none
 * has a selection score. Candidates are keyed for `bestDepth` so that its tie rule (the larger
 * key) is the candidate order.
 */
function bestIndex(candidates: readonly Candidate[], tasks: Tasks): number | null {
  const keyed = new Map(candidates.map((c, i) => [candidates.length - i, c.selection]));
  const key = bestDepth(keyed, tasks);
  return key === null ? null : candidates.length - key;
}

/** `a - b` on test, paired by unit; null when either is absent or they share no unit. */
function gain(a: Candidate, b: Candidate | null, tasks: Tasks): Interval | null {
  if (b === null) return null;
  try {
    return pairedDifferenceInterval(a.test, b.test, 0.95, tasks);
  } catch {
    return null;
  }
}

function protocolBest(c: Candidate, references: PrefixReferences, tasks: Tasks): ProtocolBest {
  const selection = replicationUnits(c.selection, tasks);
  return {
    mode: c.mode,
    setting: c.setting,
    symbol: c.symbol,
    selection: selection.reduce((a, b) => a + b, 0) / selection.length,
    test: accuracyInterval(c.test, 0.95, tasks),
    vsFreezeAll: gain(c, references.freezeAll, tasks),
    vsFineTuneAll: gain(c, references.fineTuneAll, tasks),
    vsBestPrefix: gain(c, references.bestPrefix, tasks),
  };
}

/** The best candidate among those of one prefix mode: its l* (the deeper depth on a tie, by candidate order). */
export function bestOfMode(candidates: readonly Candidate[], mode: string, tasks: Tasks = null): Candidate | null {
  const own = candidates.filter((c) => c.mode === mode);
  const i = bestIndex(own, tasks);
  return i === null ? null : own[i];
}

/** The answer across protocols for one cell; null when no candidate has a selection score. */
export function chooseProtocol(candidates: readonly Candidate[], references: PrefixReferences, tasks: Tasks = null): ProtocolChoice | null {
  const i = bestIndex(candidates, tasks);
  if (i === null) return null;
  const keyed = new Map(candidates.map((c, k) => [candidates.length - k, c.selection]));
  const plausible = plausibleSet(keyed, candidates.length - i, 0.95, tasks)
    .map((key) => candidates[candidates.length - key])
    .sort((a, b) => candidates.indexOf(a) - candidates.indexOf(b))
    .map(({ mode, setting, symbol }) => ({ mode, setting, symbol }));
  const modes = [...new Set(candidates.map((c) => c.mode))];
  const byMode = modes.flatMap((mode) => {
    const best = bestOfMode(candidates, mode, tasks);
    return best === null ? [] : [protocolBest(best, references, tasks)];
  });
  return { best: protocolBest(candidates[i], references, tasks), plausible, byMode };
}

/** True when `interval` lies above 0: the gain is significant at its level. */
export function significantGain(interval: Interval | null): boolean {
  return interval !== null && excludesZero(interval) && interval[1] > 0;
}

/** The symbol of a mode's setting (`l` for a mode no registry knows). */
export function symbolOf(mode: string): string {
  const definition = knownTransferMode(mode);
  return definition === undefined ? 'l' : settingOf(definition).symbol;
}

/** Registry order, the default mode first, modes no registry knows last. */
function modeOrder(mode: string): number {
  if (mode === DEFAULT_TRANSFER_MODE) return -1;
  const i = (TRANSFER_MODES as readonly string[]).indexOf(mode);
  return i < 0 ? TRANSFER_MODES.length : i;
}

/**
 * Candidates in tie order: the default mode (`defrost`) first, then the other modes in registry
 * order; within a mode the larger setting first (for a depth: the one that freezes more).
 */
export function inTieOrder<C extends Pick<Candidate, 'mode' | 'setting'>>(candidates: readonly C[]): C[] {
  return [...candidates].sort((a, b) => modeOrder(a.mode) - modeOrder(b.mode) || b.setting - a.setting);
}

/** How a pair reads in tables and text: `defrost l=2`, `llrd γ=0.5`, `lp-ft l=0`. */
export function pairLabel(pair: Pick<Candidate, 'mode' | 'setting' | 'symbol'>): string {
  return `${pair.mode} ${pair.symbol}=${pair.setting}`;
}
