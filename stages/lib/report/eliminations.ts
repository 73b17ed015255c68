/**
 * The depths a study's early elimination stopped (`transfer.eliminate`,
 * docs/protocol.md#early-elimination-in-a-study), read from `results.arrow`'s rows: a transfer
 * the race stopped is a row with `stopped_by` `eliminated` and no accuracy. A stopped depth takes
 * no part in l* or the plausible set (optimal-depth.ts): the race showed it worse than the leader
 * at a stricter level than the final test. The text answer and the page name each one, and when.
 */
import { ELIMINATED } from '../tables/training-tables.js';
import type { ResultRow } from '../tables/report-tables.js';
import { compareCorrelation, compareMode } from './results.js';

/** One stopped depth of a cell: the replicates it trained before the race stopped it, of how many. */
export interface StoppedDepth {
  readonly correlation: number | null;
  readonly n: number;
  readonly mode: string;
  readonly depth: number;
  readonly trained: number;
  readonly replicates: number;
}

/** Every stopped depth, by cell (correlation high to low, n, mode) then depth. */
export function eliminationsOf(results: readonly ResultRow[]): StoppedDepth[] {
  const byDepth = new Map<
    string,
    { correlation: number | null; n: number; mode: string; depth: number; trained: number; all: number; stopped: boolean }
  >();
  for (const r of results) {
    if (r.depth === null) continue;
    const key = `${String(r.correlation)}|${r.n}|${r.mode}|${r.depth}`;
    const entry = byDepth.get(key) ?? {
      correlation: r.correlation,
      n: r.n,
      mode: r.mode,
      depth: r.depth,
      trained: 0,
      all: 0,
      stopped: false,
    };
    entry.all++;
    if (r.stopped_by === ELIMINATED) entry.stopped = true;
    else entry.trained++;
    byDepth.set(key, entry);
  }
  return [...byDepth.values()]
    .filter((e) => e.stopped)
    .map(({ correlation, n, mode, depth, trained, all }) => ({ correlation, n, mode, depth, trained, replicates: all }))
    .sort((a, b) => compareCorrelation(a.correlation, b.correlation) || a.n - b.n || compareMode(a.mode, b.mode) || a.depth - b.depth);
}

/** The stopped depths of one cell. */
export function eliminatedDepths(eliminations: readonly StoppedDepth[], correlation: number | null, n: number, mode: string): Set<number> {
  return new Set(eliminations.filter((e) => e.correlation === correlation && e.n === n && e.mode === mode).map((e) => e.depth));
}

/**
 * The text answer's lines about them (none without any): one per cell,
 * `early elimination, correlation=0.8 n=20 defrost: depth 4 after 3 of 12 replicates, ...`.
 */
export function eliminationLines(eliminations: readonly StoppedDepth[]): string[] {
  const cells = new Map<string, StoppedDepth[]>();
  for (const e of eliminations) {
    const label = `${e.correlation === null ? '' : `correlation=${e.correlation} `}n=${e.n} ${e.mode}`;
    cells.set(label, [...(cells.get(label) ?? []), e]);
  }
  return [...cells.entries()].map(
    ([label, list]) =>
      `early elimination, ${label}: ` +
      list.map((e) => `depth ${e.depth} stopped after ${e.trained} of ${e.replicates} replicates`).join(', '),
  );
}
