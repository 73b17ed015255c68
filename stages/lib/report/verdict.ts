/**
 * The one sentence per cell a practitioner can act on (docs/report.md#one-sentence-per-cell):
 * what to freeze, what that gains over the two defaults — fine-tuning everything (l = 0) and
 * freezing every block (l = L, the textbook protocol) — with paired 95% intervals, and whether
 * the data can tell l* from them at all. The study's report and terminal and `defrost recommend`
 * say it with the same words, so a reader meets one vocabulary.
 *
 * Rules the sentence keeps (each came from a misreading, issue 23):
 * - l* is never compared with itself: at l* = L there is no "+0.0 [+0.0, +0.0] over freezing
 *   every block", the sentence says l* *is* that protocol;
 * - a gain whose interval contains 0 reads "cannot be told apart", never as a win;
 * - with one seed (or fold) there is no interval: the sentence says intervals need two, instead
 *   of printing a bare estimate as if it were measured;
 * - a plausible set with a gap ({1, 3}) is flagged: accuracy varies smoothly with depth, so the
 *   gap is noise of the per-depth tests, not a depth to avoid;
 * - an interval of no width is every replicate giving the same gain: it reads `+33.3 (all 3
 *   folds agree)`, agreement of that many replicates, never `[+33.3, +33.3]`, which reads as a
 *   measured certainty.
 *
 * Pure: numbers in, words out.
 */
import { excludesZero, TIE_TOLERANCE } from '../statistics.js';
import { knownTransferMode } from '../models/transfer-modes/registry.js';

/** A gain of l* over an alternative in accuracy (a fraction): `[low, mean, high]`, bounds null with one replicate. */
export type Gain = readonly [low: number | null, mean: number, high: number | null];

/** What the sentence of one cell is made of. */
export interface CellAnswer {
  /** The transfer mode (names what l = 0 means: fine-tuning everything, or re-initialising it). */
  readonly mode: string;
  /** l*: leading blocks kept frozen. */
  readonly lStar: number;
  /** L: hidden blocks of the network. */
  readonly blocks: number;
  /** Depths not significantly worse than l* (l* included), ascending. */
  readonly plausible: readonly number[];
  /** Gains of l* over l = L, over l = 0 and over training from scratch; null when that alternative has no result. */
  readonly vsFreezeAll: Gain | null;
  readonly vsFineTuneAll: Gain | null;
  readonly vsScratch: Gain | null;
  /** Seeds (a study) or folds (`recommend`) behind the gains. */
  readonly replicates: number;
  readonly unit: 'seed' | 'fold';
  /**
   * The replicates each gain pairs, where known (`recommend`: early elimination stops a candidate
   * after fewer folds than l* trained). Absent, an interval of no width says its replicates agree
   * without counting them (a study's replicates may be task instances rather than seeds).
   */
  readonly paired?: { readonly freezeAll: number; readonly fineTuneAll: number; readonly scratch: number };
  /**
   * Name a significant gain over training from scratch as well (`recommend`: whether transfer
   * helps at all is the first question about one's own data). Absent, scratch is named only when
   * transfer is not significantly better than it (the study reports that gain in its own column).
   */
  readonly sayScratchWin?: boolean;
}

/** Replicates whose gains agree exactly: their unit and, where known, how many. */
export interface Agreement {
  readonly unit: 'seed' | 'fold';
  readonly count?: number;
}

/** How l* compares with an alternative on the paired interval of its gain. */
export type Comparison = 'better' | 'worse' | 'same' | 'unknown';

export function compareGain(gain: Gain): Comparison {
  if (gain[0] === null || gain[2] === null) return 'unknown';
  if (!excludesZero(gain)) return 'same';
  return gain[0] > 0 ? 'better' : 'worse';
}

/** `+4.1`: accuracy points, one decimal; a negative value that rounds to zero keeps its sign. */
export function signedPoints(value: number): string {
  const text = (100 * value).toFixed(1);
  return value >= 0 ? `+${text}` : text.startsWith('-') ? text : `-${text}`;
}

/**
 * `+4.1 [+2.0, +6.2]` (points), or `+4.1` alone when the interval is unknown. Given what the
 * replicates are, an interval of no width (every replicate the same gain, to summation noise)
 * reads `+33.3 (all 3 folds agree)`.
 */
export function formatGainPoints(gain: Gain, unit = '', agreement?: Agreement): string {
  const [low, mean, high] = gain;
  if (low === null || high === null) return `${signedPoints(mean)}${unit}`;
  if (agreement !== undefined && high - low <= TIE_TOLERANCE)
    return `${signedPoints(mean)}${unit} (all ${agreement.count === undefined ? '' : `${agreement.count} `}${agreement.unit}s agree)`;
  return `${signedPoints(mean)}${unit} [${signedPoints(low)}, ${signedPoints(high)}]`;
}

/** Depths missing between the smallest and largest of a plausible set ({1, 3} -> [2]). */
export function plausibleGaps(plausible: readonly number[]): number[] {
  if (plausible.length === 0) return [];
  const lo = Math.min(...plausible);
  const hi = Math.max(...plausible);
  const gaps: number[] = [];
  for (let d = lo + 1; d < hi; d++) if (!plausible.includes(d)) gaps.push(d);
  return gaps;
}

/** `1-3` for a run of three or more depths, else `1, 3`. */
export function depthList(depths: readonly number[]): string {
  const sorted = [...depths].sort((a, b) => a - b);
  const contiguous = plausibleGaps(sorted).length === 0;
  return contiguous && sorted.length >= 3 ? `${sorted[0]}-${sorted[sorted.length - 1]}` : sorted.join(', ');
}

/** Whether l = 0 of this mode starts from the source weights (defrost) or from fresh ones (reinit). */
function copiesAtZero(mode: string, blocks: number): boolean {
  const definition = knownTransferMode(mode);
  return definition === undefined || definition.copied(0, blocks).length > 0;
}

/** `freezing all 4`, `freezing both`, `freezing its one block`: the l = L alternative. */
export function freezeAllName(blocks: number): string {
  return blocks === 1 ? 'freezing its one block' : blocks === 2 ? 'freezing both' : `freezing all ${blocks}`;
}

/**
 * `fine-tuning everything` (defrost), `training from scratch` (reinit, whose l = 0 re-initialises
 * every block: the scratch network): the l = 0 alternative.
 */
export function fineTuneAllName(mode: string, blocks: number): string {
  return copiesAtZero(mode, blocks) ? 'fine-tuning everything' : 'training from scratch';
}

/** What to do at depth l, in words: `freeze 2 of 4 blocks`, `fine-tune every block`... */
export function depthAction(mode: string, depth: number, blocks: number): string {
  if (depth === blocks) return `freeze ${blocks === 1 ? 'the one block' : blocks === 2 ? 'both blocks' : `all ${blocks} blocks`}`;
  if (depth === 0) return copiesAtZero(mode, blocks) ? 'fine-tune every block' : 'train from scratch';
  return `freeze ${depth} of ${blocks} blocks`;
}

/** The notes after the action: the standard protocol named, the plausible set (gaps flagged as noise). */
function actionNotes(lStar: number, blocks: number, plausible: readonly number[]): string {
  const notes: string[] = [];
  if (lStar === blocks) notes.push('the standard protocol: only the readout trains');
  if (plausible.length > 1 && plausible.includes(lStar)) {
    const gaps = plausibleGaps(plausible);
    const every = plausible.length === blocks + 1;
    notes.push(
      every
        ? 'every depth as good'
        : `${depthList(plausible)} as good${gaps.length === 0 ? '' : `, the gap at ${gaps.join(', ')} is noise`}`,
    );
  }
  return notes.length === 0 ? '' : ` (${notes.join('; ')})`;
}

/** The verdict on one default: better, cannot be told apart, or worse on this data. */
function verdictOn(comparison: Comparison, name: string): string | null {
  switch (comparison) {
    case 'better':
      return `better than ${name}`;
    case 'same':
      return `cannot be told apart from ${name}`;
    case 'worse':
      return `${name} did better`;
    case 'unknown':
      return null;
  }
}

/** `intervals need at least 2 seeds (this study has 1)`, or null when there are enough. */
export function intervalsNote(unit: 'seed' | 'fold', replicates: number): string | null {
  return replicates >= 2 ? null : `intervals need at least 2 ${unit}s (${replicates === 1 ? `only 1 ${unit}` : `no ${unit}s`} here)`;
}

/**
 * The sentence: `freeze 2 of 4 blocks (as good: 1-3): +4.1 points [+2.0, +6.2] over freezing
 * all 4, +0.8 [-0.5, +2.1] over fine-tuning everything — better than freezing all 4; cannot be
 * told apart from fine-tuning everything.` A default that was not run is said to be untested.
 */
export function verdictSentence(answer: CellAnswer): string {
  const { mode, lStar, blocks } = answer;
  const freezeAll = freezeAllName(blocks);
  const fineTuneAll = fineTuneAllName(mode, blocks);
  const gains: string[] = [];
  const verdicts: string[] = [];
  const untested: string[] = [];
  const agreement = (count: number | undefined): Agreement => ({ unit: answer.unit, count });
  const compare = (gain: Gain | null, name: string, isItself: boolean, count: number | undefined): void => {
    if (isItself) return;
    if (gain === null) {
      untested.push(name);
      return;
    }
    gains.push(`${formatGainPoints(gain, gains.length === 0 ? ' points' : '', agreement(count))} over ${name}`);
    const verdict = verdictOn(compareGain(gain), name);
    if (verdict !== null) verdicts.push(verdict);
  };
  compare(answer.vsFreezeAll, freezeAll, lStar === blocks, answer.paired?.freezeAll);
  compare(answer.vsFineTuneAll, fineTuneAll, lStar === 0, answer.paired?.fineTuneAll);

  // Two "cannot be told apart" read better as one.
  const apart = verdicts.filter((v) => v.startsWith('cannot be told apart from '));
  if (apart.length === 2)
    verdicts.splice(
      0,
      verdicts.length,
      ...verdicts.filter((v) => !apart.includes(v)),
      `cannot be told apart from ${fineTuneAll} or from ${freezeAll} with this much data`,
    );
  else if (apart.length === 1) verdicts[verdicts.indexOf(apart[0])] = `${apart[0]} with this much data`;
  // So do two "better than".
  if (verdicts.length === 2 && verdicts.every((v) => v.startsWith('better than ')))
    verdicts.splice(0, 2, `better than ${freezeAll} and than ${fineTuneAll}`);

  // In a mode whose l = 0 is training from scratch, the scratch comparison was made above.
  const scratch = answer.vsScratch === null || !copiesAtZero(mode, blocks) ? 'unknown' : compareGain(answer.vsScratch);
  const scratchGain = answer.vsScratch === null ? '' : formatGainPoints(answer.vsScratch, '', agreement(answer.paired?.scratch));
  if (scratch === 'same') verdicts.push(`no better than training from scratch (${scratchGain})`);
  if (scratch === 'worse') verdicts.push(`training from scratch did better (${scratchGain})`);
  if (scratch === 'better' && answer.sayScratchWin === true) {
    // Joined to the defaults l* beats: `better than freezing all 4 and than training from scratch (...)`.
    const win = `training from scratch (${scratchGain})`;
    const better = verdicts.findIndex((v) => v.startsWith('better than '));
    if (better === -1) verdicts.push(`better than ${win}`);
    else verdicts[better] = `${verdicts[better].replace(' and than ', ', than ')} and than ${win}`;
  }
  const note = intervalsNote(answer.unit, answer.replicates);
  if (note !== null) verdicts.push(`no verdict: ${note}`);
  if (untested.length > 0) verdicts.push(`${untested.join(' and ')} not run, so not compared`);

  const head = `${depthAction(mode, lStar, blocks)}${actionNotes(lStar, blocks, answer.plausible)}`;
  const body = gains.join(', ');
  return `${head}${body === '' ? '' : `: ${body}`}${verdicts.length === 0 ? '' : ` — ${verdicts.join('; ')}`}.`;
}
