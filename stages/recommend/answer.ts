/**
 * The answer of `defrost recommend` (docs/your-data.md) from the held-out accuracy of every
 * cross-validation fold: per mode and depth the mean over folds; l* by the rule of
 * stages/lib/statistics.ts over the depths of the first mode, paired by fold (every depth and
 * scratch train on the same fold split, so fold-to-fold variation cancels); the plausible set;
 * l*'s and scratch's mean accuracy with their 95% Student t intervals over folds; the paired
 * gains of l* over the two defaults (fine-tuning everything, l = 0; freezing every block, l = L)
 * and over training from scratch; and the verdict in words (stages/lib/report/verdict.ts).
 * With early elimination (stages/lib/race.ts), the candidates the race stopped take no part in l* and the
 * plausible set (they were shown worse than a depth at a stricter level than the set's own);
 * their means, and gains over them, rest on the folds they trained.
 *
 * Pure: `recommend` (the stage) computes it and stores it; the command prints it.
 */
import { columnsOf, TERMINAL_WIDTH, wrapWords } from '../../pipeline/terminal-width.js';
import { SCRATCH_MODE } from '../lib/models/transfer-modes/registry.js';
import { formatGainPoints, verdictSentence } from '../lib/report/verdict.js';
import { accuracyInterval, bestDepth, pairedDifferenceInterval, plausibleSet, type Interval } from '../lib/statistics.js';
import { DEFAULT_TRANSFER_MODE } from '../lib/models/transfer-modes/registry.js';
import { bestOfMode, chooseProtocol, inTieOrder, symbolOf, type Candidate, type ProtocolBest } from '../lib/report/protocol-choice.js';
import type { CvResultRow } from '../lib/tables/recommend-tables.js';
import { eliminationLevel, type Elimination } from '../lib/race.js';

/**
 * One finished fold run: a depth of a mode, a protocol's setting (`setting`, when it is not a
 * depth), or training from scratch (`mode: scratch`); a row of `cv_results.arrow`.
 */
export interface FoldResult extends CvResultRow {
  /** What ended its training: `patience` or `budget` (from the fold's metrics.arrow). */
  readonly stoppedBy?: string;
}

/**
 * Paired gains of l* over the alternatives, `[low, mean, high]` over folds: null when the
 * alternative was not trained (`--depths`, `--fast`); exactly `[0, 0, 0]` when l* is that depth.
 */
export interface Versus {
  /** l* − (l = 0): every block trained. */
  readonly fine_tune_all: Interval | null;
  /** l* − (l = L): every block frozen, only the readout trains (the standard protocol). */
  readonly freeze_all: Interval | null;
  readonly scratch: Interval | null;
}

/** What `--json` prints (SPEC: `defrost recommend`), plus the per-mode table the report shows. */
export interface Recommendation {
  readonly l_star: number;
  readonly mode: string;
  readonly plausible: number[];
  readonly accuracy: Interval;
  readonly scratch_accuracy: Interval;
  /** Mean cross-validated accuracy per depth of `mode`. */
  readonly depths: Record<string, number>;
  readonly folds: number;
  /** L: blocks of the network. */
  readonly blocks: number;
  readonly versus: Versus;
  /** The answer in one sentence: what to freeze, what it gains, whether the folds can tell. */
  readonly verdict: string;
  /** Fold runs (every mode, depth and scratch) by what ended their training. */
  readonly stopped_by: Record<string, number>;
  /** The candidates early elimination stopped, in order; null when every fold was trained (`--exhaustive`). */
  readonly eliminated: Elimination[] | null;
  /** Every mode: depth -> [low, mean, high] over folds. */
  readonly by_mode: Record<string, Record<string, Interval>>;
  /** With `--protocols`: which protocol, and at which setting (absent otherwise). */
  readonly protocol?: ProtocolAnswer;
}

/** A (protocol, setting) pair as the answer names it. */
export interface ProtocolPair {
  readonly mode: string;
  readonly setting: number;
  readonly symbol: string;
}

/** Paired fold gains of a protocol's best setting over the prefix references. */
export interface ProtocolVersus {
  /** − (defrost at l = L): freezing every block. */
  readonly freeze_all: Interval | null;
  /** − (defrost at l = 0): fine-tuning everything. */
  readonly fine_tune_all: Interval | null;
  /** − (defrost at its l*): the best prefix depth. */
  readonly best_prefix: Interval | null;
}

/**
 * "Which protocol, and at which setting" (docs/science.md#beyond-freezing-a-prefix): the best pair by
 * mean cross-validated accuracy across every protocol and setting trained, its plausible set (paired
 * by fold), and each protocol's best setting with its paired gains (stages/lib/report/protocol-choice.ts).
 */
export interface ProtocolAnswer extends ProtocolPair {
  readonly accuracy: Interval;
  readonly plausible: ProtocolPair[];
  readonly versus: ProtocolVersus;
  readonly by_protocol: (ProtocolPair & { readonly accuracy: Interval; readonly versus: ProtocolVersus })[];
}

/** Scores per depth of one mode, aligned by fold index (NaN where a fold is missing). */
function scoresByDepth(results: readonly FoldResult[], mode: string, folds: number): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const r of results) {
    if (r.mode !== mode || r.depth === null) continue;
    const scores = map.get(r.depth) ?? new Array<number>(folds).fill(Number.NaN);
    scores[r.fold] = r.accuracy;
    map.set(r.depth, scores);
  }
  return new Map([...map.entries()].sort((a, b) => a[0] - b[0]));
}

/** The paired interval of `a - b` over folds, or null when `b` was not trained. */
function gainOver(a: readonly number[], b: readonly number[] | undefined): Interval | null {
  if (b === undefined) return null;
  try {
    return pairedDifferenceInterval(a, b);
  } catch {
    return null;
  }
}

/** Folds where both `a` and `b` have a result: what a paired gain rests on. */
function pairedFolds(a: readonly number[], b: readonly number[] | undefined): number {
  return b === undefined ? 0 : a.filter((v, i) => Number.isFinite(v) && Number.isFinite(b[i])).length;
}

/** The answer across `protocols` (the modes trained for it) from the fold results; null when none has a result. */
export function protocolAnswer(
  results: readonly FoldResult[],
  protocols: readonly string[],
  folds: number,
  blocks: number,
): ProtocolAnswer | null {
  const pairs = new Map<string, { mode: string; setting: number }>();
  for (const r of results) {
    const setting = r.depth ?? r.setting ?? null;
    if (protocols.includes(r.mode) && setting !== null) pairs.set(`${r.mode}|${setting}`, { mode: r.mode, setting });
  }
  const candidates: Candidate[] = inTieOrder([...pairs.values()]).map(({ mode, setting }) => {
    const scores = new Array<number>(folds).fill(Number.NaN);
    for (const r of results) if (r.mode === mode && (r.depth ?? r.setting ?? null) === setting) scores[r.fold] = r.accuracy;
    return { mode, setting, symbol: symbolOf(mode), selection: scores, test: scores };
  });
  const prefix = (depth: number): Candidate | null =>
    candidates.find((c) => c.mode === DEFAULT_TRANSFER_MODE && c.setting === depth) ?? null;
  const choice = chooseProtocol(candidates, {
    freezeAll: prefix(blocks),
    fineTuneAll: prefix(0),
    bestPrefix: bestOfMode(candidates, DEFAULT_TRANSFER_MODE),
  });
  if (choice === null) return null;
  const versus = (b: ProtocolBest): ProtocolVersus => ({
    freeze_all: b.vsFreezeAll,
    fine_tune_all: b.vsFineTuneAll,
    best_prefix: b.vsBestPrefix,
  });
  const pair = ({ mode, setting, symbol }: ProtocolPair): ProtocolPair => ({ mode, setting, symbol });
  return {
    ...pair(choice.best),
    accuracy: choice.best.test,
    plausible: choice.plausible.map(pair),
    versus: versus(choice.best),
    by_protocol: choice.byMode.map((b) => ({ ...pair(b), accuracy: b.test, versus: versus(b) })),
  };
}

export function recommendation(
  results: readonly FoldResult[],
  modes: readonly string[],
  folds: number,
  blocks: number,
  protocols: readonly string[] = [],
  eliminated: readonly Elimination[] | null = null,
): Recommendation {
  const mode = modes[0];
  const primary = scoresByDepth(results, mode, folds);
  // l* and the plausible set among the depths that trained every fold.
  const stopped = new Set((eliminated ?? []).filter((e) => e.mode === mode).map((e) => e.depth));
  const finished = new Map([...primary].filter(([depth]) => !stopped.has(depth)));
  const lStar = bestDepth(finished);
  if (lStar === null) throw new RangeError(`no fold result for mode ${mode}`);
  const scratch = new Array<number>(folds).fill(Number.NaN);
  for (const r of results) if (r.mode === SCRATCH_MODE) scratch[r.fold] = r.accuracy;
  const byMode: Record<string, Record<string, Interval>> = {};
  for (const m of modes) {
    byMode[m] = {};
    for (const [depth, scores] of scoresByDepth(results, m, folds)) byMode[m][String(depth)] = accuracyInterval(scores);
  }
  byMode[SCRATCH_MODE] = { scratch: accuracyInterval(scratch) };
  const depths: Record<string, number> = {};
  for (const [depth, scores] of primary) depths[String(depth)] = accuracyInterval(scores)[1];
  const atBest = primary.get(lStar) ?? [];
  const plausible = plausibleSet(finished, lStar);
  const versus: Versus = {
    fine_tune_all: gainOver(atBest, primary.get(0)),
    freeze_all: gainOver(atBest, primary.get(blocks)),
    scratch: gainOver(atBest, scratch),
  };
  const stoppedBy: Record<string, number> = {};
  for (const r of results) if (r.stoppedBy !== undefined) stoppedBy[r.stoppedBy] = (stoppedBy[r.stoppedBy] ?? 0) + 1;
  const verdict = verdictSentence({
    mode,
    lStar,
    blocks,
    plausible,
    vsFreezeAll: versus.freeze_all,
    vsFineTuneAll: versus.fine_tune_all,
    vsScratch: versus.scratch,
    replicates: atBest.filter((v) => Number.isFinite(v)).length,
    unit: 'fold',
    paired: {
      freezeAll: pairedFolds(atBest, primary.get(blocks)),
      fineTuneAll: pairedFolds(atBest, primary.get(0)),
      scratch: pairedFolds(atBest, scratch),
    },
    sayScratchWin: true,
  });
  return {
    l_star: lStar,
    mode,
    plausible,
    accuracy: accuracyInterval(atBest),
    scratch_accuracy: accuracyInterval(scratch),
    depths,
    folds,
    blocks,
    versus,
    verdict,
    stopped_by: stoppedBy,
    eliminated: eliminated === null ? null : [...eliminated],
    by_mode: byMode,
    ...(protocols.length === 0 ? {} : withProtocol(protocolAnswer(results, protocols, folds, blocks))),
  };
}

const withProtocol = (answer: ProtocolAnswer | null): { protocol?: ProtocolAnswer } => (answer === null ? {} : { protocol: answer });

/** The `--json` line: exactly the keys docs/your-data.md documents (`protocol` with `--protocols`). */
export function recommendationJson(r: Recommendation): string {
  const { l_star, plausible, accuracy, scratch_accuracy, depths, folds, versus, verdict, stopped_by, eliminated, protocol } = r;
  return JSON.stringify({
    l_star,
    plausible,
    accuracy,
    scratch_accuracy,
    depths,
    folds,
    versus,
    verdict,
    stopped_by,
    eliminated,
    ...(protocol === undefined ? {} : { protocol }),
  });
}

const pct = (v: number | null): string => (v === null ? '?' : `${(100 * v).toFixed(1)}%`);
const interval = (iv: Interval): string => (iv[0] === null || iv[2] === null ? '' : ` [${pct(iv[0])}, ${pct(iv[2])}]`);

/**
 * The short report, within 100 columns: the verdict first (what to freeze, what it gains over the
 * defaults and scratch, whether the folds can tell them apart), then what it rests on.
 */
export function recommendationText(r: Recommendation, what: { data: string; model: string; rows: number; classes: number }): string {
  const sentence = `${r.verdict.charAt(0).toUpperCase()}${r.verdict.slice(1)}`;
  const lines = [
    ...wrapWords(`Recommendation: ${sentence}`, '', '  '),
    ...wrapWords(
      `For ${what.data} (${what.rows} samples, ${what.classes} classes) with ${what.model} (${r.blocks} blocks), ` +
        `${r.folds}-fold cross-validation, mode ${r.mode}; gains in accuracy points with paired 95% intervals over folds.`,
      '  ',
      '    ',
    ),
    ...wrapWords(
      `keep the first ${r.l_star} block(s) frozen (l* = ${r.l_star}): ${pct(r.accuracy[1])} cross-validated accuracy${interval(r.accuracy)}; ` +
        `from scratch ${pct(r.scratch_accuracy[1])}${interval(r.scratch_accuracy)}; as good within the noise (plausible set): ` +
        `${r.plausible.join(', ')}.`,
      '  ',
      '    ',
    ),
    ...wrapWords(stoppedByLine(r.stopped_by), '  ', '    '),
    '  mean cross-validated accuracy by depth:',
  ];
  for (const [mode, table] of Object.entries(r.by_mode)) {
    if (mode === SCRATCH_MODE) continue;
    // `depth: accuracy` cells, as many per line as fit.
    let line = `    ${mode.padEnd(8)}`;
    for (const [d, iv] of Object.entries(table)) {
      const cell = `${d}: ${pct(iv[1])}`;
      if (columnsOf(`${line}  ${cell}`) > TERMINAL_WIDTH) {
        lines.push(line);
        line = ' '.repeat(12);
      }
      line = `${line}  ${cell}`;
    }
    lines.push(line);
  }
  if (r.eliminated !== null) lines.push(...wrapWords(eliminationLine(r.eliminated, r.mode, r.folds), '  ', '    '));
  if (r.protocol !== undefined) lines.push(...protocolLines(r.protocol));
  return lines.join('\n');
}

const pairText = (p: ProtocolPair): string => `${p.mode} ${p.symbol}=${p.setting}`;
const gainText = (iv: Interval | null): string => (iv === null ? 'not trained' : formatGainPoints(iv, '', { unit: 'fold' }));

/** The answer across protocols, within 100 columns: the best pair, its gains, its plausible set, each protocol's best. */
function protocolLines(p: ProtocolAnswer): string[] {
  const lines = [
    ...wrapWords(
      `Which protocol, and at which setting (docs/science.md#beyond-freezing-a-prefix): ${pairText(p)}, ` +
        `${pct(p.accuracy[1])}${interval(p.accuracy)}; over freezing every block ${gainText(p.versus.freeze_all)}, ` +
        `over fine-tuning everything ${gainText(p.versus.fine_tune_all)}, over the best prefix depth ${gainText(p.versus.best_prefix)} ` +
        `points; as good within the noise: ${p.plausible.map(pairText).join(', ')}.`,
      '  ',
      '    ',
    ),
    '  each protocol at its best setting (accuracy; gain over the best prefix depth, points):',
  ];
  for (const b of p.by_protocol)
    lines.push(`    ${pairText(b).padEnd(18)} ${pct(b.accuracy[1]).padStart(6)}  ${gainText(b.versus.best_prefix)}`);
  return lines;
}

/** How the fold runs ended: a run at the budget may still have been learning (docs/protocol.md#recommend-at-small-n). */
function stoppedByLine(counts: Readonly<Record<string, number>>): string {
  const patience = counts.patience ?? 0;
  const budget = counts.budget ?? 0;
  return (
    `fold runs stopped by patience: ${patience}, at the budget: ${budget}` +
    (budget > patience ? ' (most were still improving when the budget ended them; --set train.min_steps=N raises it).' : '.')
  );
}

/** −v in signed accuracy points: how far below the leader a gap of `v` puts a candidate. */
const below = (v: number | null): string => (v === null ? '?' : `${v <= 0 ? '+' : ''}${(-100 * v).toFixed(1)}`);

/** Which candidates early elimination stopped, when, and by how much they trailed the leader. */
function eliminationLine(eliminated: readonly Elimination[], mode: string, folds: number): string {
  if (eliminated.length === 0) return `early elimination: every depth and scratch trained all ${folds} folds (none trailed significantly).`;
  const name = (e: Elimination): string =>
    e.depth === null ? 'scratch' : e.mode === mode ? `depth ${e.depth}` : `${e.mode} depth ${e.depth}`;
  const level = (100 * eliminationLevel(folds)).toFixed(0);
  return (
    `early elimination (${level}% paired intervals, --exhaustive trains all): ` +
    eliminated
      .map(
        (e) =>
          `${name(e)} stopped after ${e.after_folds} folds, ${below(e.gap[1])} points [${below(e.gap[2])}, ${below(e.gap[0])}] against depth ${e.leader}`,
      )
      .join('; ') +
    '.'
  );
}
