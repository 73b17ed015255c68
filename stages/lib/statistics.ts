/**
 * The statistics behind every number defrost reports with its uncertainty (docs/protocol.md):
 * means with Student t intervals over seeds, paired differences between two protocols run with
 * the same seeds, the rule that picks l* and the plausible set around it.
 *
 * Pure functions of their arguments, no I/O. Conventions:
 * - An undefined statistic is NaN (the mean of no value, the standard error of one); `finiteOrNull`
 *   turns it into the null a table cell or JSON value holds.
 * - Paired inputs are arrays aligned by seed index: `a[i]` and `b[i]` come from the same seed
 *   (same training subset, initialisation and batch order), so the seed-to-seed variation they
 *   share cancels in `a[i] - b[i]`. A pair with a missing (non-finite) member is left out.
 * - An interval is `[low, mean, high]`. With fewer than two values the spread is unknown, so
 *   `low` and `high` are null (never a made-up zero-width interval).
 * - Intervals are two-sided Student t intervals with n - 1 degrees of freedom; a paired
 *   difference is "significant at level 0.95" exactly when its 95% interval excludes 0 (the
 *   two-sided paired t-test at 5%).
 * - Two levels of replication (task instances x seeds, docs/protocol.md): the optional `tasks`
 *   argument gives each position's task instance. With two or more tasks the unit is the task:
 *   each task's values (or paired differences) are averaged over its seeds first, and the t
 *   interval runs over the task means with T - 1 degrees of freedom, the inference of the
 *   balanced nested model for the grand mean. With one task (or none given) the seeds are the units.
 * - Means are compared with a tolerance (`TIE_TOLERANCE`): the same fold or seed accuracies summed
 *   in another order differ in the last bits, and must still tie.
 */
import jstat from 'jstat';

/** `[low, mean, high]`; low and high are null when fewer than two values were given. */
export type Interval = readonly [low: number | null, mean: number, high: number | null];

/** The finite values of a list, in order (missing runs are NaN or absent, never zero). */
function finite(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v));
}

/**
 * A statistic as a table cell or JSON value: null where it is undefined. The functions here
 * return NaN for an undefined statistic (the mean of nothing, the spread of one value) so they
 * compose in arithmetic; tables and summaries carry null instead, converted here at that boundary.
 */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Arithmetic mean, summed in the given order; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n - 1 denominator); NaN with fewer than two values. */
export function sampleStandardDeviation(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (values.length - 1));
}

/** Standard error of the mean, s / sqrt(n); NaN with fewer than two values. */
export function standardError(values: readonly number[]): number {
  return sampleStandardDeviation(values) / Math.sqrt(values.length);
}

/** The Student t quantile t_{(1+level)/2, dof}: half-width of a `level` interval in standard errors. */
export function studentCriticalValue(level: number, dof: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level ${level} is not in (0, 1)`);
  if (!(dof >= 1)) throw new RangeError(`degrees of freedom ${dof} must be at least 1`);
  return jstat.jStat.studentt.inv((1 + level) / 2, dof);
}

/**
 * Mean of the finite values with its two-sided Student t interval at `level`. Throws on a list
 * without any finite value (there is nothing to report).
 */
export function meanInterval(values: readonly number[], level = 0.95): Interval {
  const xs = finite(values);
  if (xs.length === 0) throw new RangeError('meanInterval: no finite value');
  const m = mean(xs);
  if (xs.length < 2) return [null, m, null];
  const half = studentCriticalValue(level, xs.length - 1) * standardError(xs);
  return [m - half, m, m + half];
}

/**
 * `meanInterval` of accuracies (proportions), with its bounds kept inside [0, 1]. With few seeds or
 * folds a t interval can reach past the possible values (2 folds: t = 12.7 standard errors); the
 * values it would add there are impossible, so the bound is the end of the range
 * (docs/protocol.md).
 */
export function accuracyInterval(values: readonly number[], level = 0.95, tasks: Tasks = null): Interval {
  const [low, m, high] = meanInterval(replicationUnits(values, tasks), level);
  return [low === null ? null : Math.max(0, low), m, high === null ? null : Math.min(1, high)];
}

/** Task instance of each position (see the module comment); null: every position its own unit. */
export type Tasks = readonly number[] | null;

/**
 * Two means closer than this are a tie: accuracies are ratios of counts, far coarser than this,
 * so only summation order can separate them by less.
 */
export const TIE_TOLERANCE = 1e-9;

/**
 * The units of replication of per-position values: the finite values themselves, or with two
 * or more tasks, each task's mean over its finite values (a task without any is left out).
 */
export function replicationUnits(values: readonly number[], tasks: Tasks = null): number[] {
  if (tasks === null) return finite(values);
  if (tasks.length !== values.length) throw new RangeError(`tasks and values differ in length: ${tasks.length} and ${values.length}`);
  const byTask = new Map<number, number[]>();
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const list = byTask.get(tasks[i]);
    if (list === undefined) byTask.set(tasks[i], [v]);
    else list.push(v);
  });
  if (new Set(tasks).size < 2) return finite(values);
  return [...byTask.keys()].sort((x, y) => x - y).map((t) => mean(byTask.get(t) ?? []));
}

/** `a[i] - b[i]` for every seed index where both are finite. Throws when the lengths differ. */
export function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired lists differ in length: ${a.length} and ${b.length}`);
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i] - b[i]);
  return d;
}

/**
 * Mean of `a - b` paired by seed index, with its Student t interval at `level` (the interval of
 * the paired t-test). Throws when no seed has both values.
 */
export function pairedDifferenceInterval(a: readonly number[], b: readonly number[], level = 0.95, tasks: Tasks = null): Interval {
  const d = pairedUnits(a, b, tasks);
  if (d.length === 0) throw new RangeError('pairedDifferenceInterval: no seed has both values');
  return meanInterval(d, level);
}

/** The units of `a - b`: per-position differences (NaN where either is missing), then `replicationUnits`. */
function pairedUnits(a: readonly number[], b: readonly number[], tasks: Tasks): number[] {
  if (a.length !== b.length) throw new RangeError(`paired lists differ in length: ${a.length} and ${b.length}`);
  return replicationUnits(
    a.map((x, i) => (Number.isFinite(x) && Number.isFinite(b[i]) ? x - b[i] : Number.NaN)),
    tasks,
  );
}

/** True when the interval is known and excludes 0 (the difference is significant at its level). */
export function excludesZero(interval: Interval): boolean {
  const [low, , high] = interval;
  return low !== null && high !== null && (low > 0 || high < 0);
}

/**
 * The l* rule: the depth with the highest mean (over its finite per-seed scores, in practice
 * selection accuracies). Ties of the mean (within `TIE_TOLERANCE`) go to the deeper depth, the
 * one that freezes more and trains less (the cheaper of two equally good protocols), so the
 * choice never depends on the map's order or on summation order. Depths without any finite score take no part; null when none has one.
 */
export function bestDepth(scoresByDepth: ReadonlyMap<number, readonly number[]>, tasks: Tasks = null): number | null {
  let best: number | null = null;
  let bestMean = Number.NEGATIVE_INFINITY;
  for (const [depth, scores] of scoresByDepth) {
    const xs = replicationUnits(scores, tasks);
    if (xs.length === 0) continue;
    const m = mean(xs);
    const tie = best !== null && Math.abs(m - bestMean) <= TIE_TOLERANCE;
    if (best === null || (m > bestMean && !tie) || (tie && depth > best)) {
      best = depth;
      bestMean = m;
    }
  }
  return best;
}

/**
 * The plausible set around `best` (l*): every depth whose paired difference from l*, over the
 * seeds both have, is not significant at `level` by the two-sided paired t-test, i.e. whose
 * interval of `score(l*) - score(d)` contains 0. l* itself is always in it. A depth that shares
 * fewer than two seeds with l* cannot be ruled out, so it is in the set. No correction for
 * comparing several depths: each is tested on its own, which keeps the set small rather than
 * conservative (docs/protocol.md). Returned in ascending order.
 */
export function plausibleSet(
  scoresByDepth: ReadonlyMap<number, readonly number[]>,
  best: number,
  level = 0.95,
  tasks: Tasks = null,
): number[] {
  const reference = scoresByDepth.get(best);
  if (reference === undefined) throw new RangeError(`plausibleSet: depth ${best} has no scores`);
  const set: number[] = [];
  for (const [depth, scores] of scoresByDepth) {
    if (depth === best) {
      set.push(depth);
      continue;
    }
    const d = pairedUnits(reference, scores, tasks);
    if (d.length === 0 && finite(scores).length === 0) continue;
    if (!excludesZero(d.length === 0 ? [null, Number.NaN, null] : meanInterval(d, level))) set.push(depth);
  }
  return set.sort((x, y) => x - y);
}
