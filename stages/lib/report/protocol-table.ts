/**
 * The protocols table of a study (docs/science.md#beyond-freezing-a-prefix): for every cell
 * (correlation, n) that ran a protocol beyond the frozen prefix, each mode's best setting, the
 * cell's best (protocol, setting) pair and its plausible set across protocols, with the paired
 * test gains of each protocol's best over freezing every block (`defrost` at l = L), over
 * fine-tuning everything (l = 0) and over the best prefix depth l* (`protocol-choice.ts` has the
 * rules). Rows are one per (cell, mode), in the report's cell order and registry order.
 * Pure: the report's protocols section writes and shows it.
 */
import { DEFAULT_TRANSFER_MODE } from '../models/transfer-modes/registry.js';
import type { Interval } from '../statistics.js';
import { alignByReplicate, replicatesOfCell, tasksOf } from './optimal-depth.js';
import { bestOfMode, chooseProtocol, inTieOrder, pairLabel, significantGain, symbolOf, type Candidate } from './protocol-choice.js';
import { compareCorrelation, isDepthMode, SCRATCH_MODE } from './results.js';
import type { ResultRow } from '../tables/report-tables.js';
import type { ProtocolRow } from '../tables/protocol-tables.js';

export type { ProtocolRow };

/** A row's setting: its depth for a depth mode, else its own setting. */
const settingOfRow = (r: ResultRow): number | null => r.depth ?? r.setting;

/** The candidates of a cell in tie order (`inTieOrder`), one per (mode, setting) it ran. */
function candidatesOf(rows: readonly ResultRow[], replicates: ReturnType<typeof replicatesOfCell>): Candidate[] {
  const pairs = new Map<string, { mode: string; setting: number }>();
  for (const r of rows) {
    const setting = settingOfRow(r);
    if (r.mode !== SCRATCH_MODE && setting !== null) pairs.set(`${r.mode}|${setting}`, { mode: r.mode, setting });
  }
  return inTieOrder([...pairs.values()]).map(({ mode, setting }) => {
    const at = rows.filter((r) => r.mode === mode && settingOfRow(r) === setting);
    return {
      mode,
      setting,
      symbol: symbolOf(mode),
      selection: alignByReplicate(at, replicates, 'selection_accuracy'),
      test: alignByReplicate(at, replicates, 'test_accuracy'),
    };
  });
}

const bounds = (iv: Interval | null): [number | null, number | null, number | null] =>
  iv === null ? [null, null, null] : [iv[0], iv[1], iv[2]];

/** The protocols table; empty when no cell ran a mode beyond the prefix modes. */
export function protocolRows(results: readonly ResultRow[], blocks: number): ProtocolRow[] {
  if (!results.some((r) => r.mode !== SCRATCH_MODE && !isDepthMode(r.mode))) return [];
  const cells = new Map<string, { correlation: number | null; n: number }>();
  for (const r of results) cells.set(`${r.correlation}|${r.n}`, { correlation: r.correlation, n: r.n });
  const sorted = [...cells.values()].sort((a, b) => compareCorrelation(a.correlation, b.correlation) || a.n - b.n);
  const rows: ProtocolRow[] = [];
  for (const { correlation, n } of sorted) {
    const replicates = replicatesOfCell(results, correlation, n);
    const tasks = tasksOf(replicates);
    const cellRows = results.filter((r) => r.correlation === correlation && r.n === n);
    const candidates = candidatesOf(cellRows, replicates);
    const prefix = (depth: number): Candidate | null =>
      candidates.find((c) => c.mode === DEFAULT_TRANSFER_MODE && c.setting === depth) ?? null;
    const choice = chooseProtocol(
      candidates,
      { freezeAll: prefix(blocks), fineTuneAll: prefix(0), bestPrefix: bestOfMode(candidates, DEFAULT_TRANSFER_MODE, tasks) },
      tasks,
    );
    if (choice === null) continue;
    for (const b of choice.byMode) {
      const [fullLow, full, fullHigh] = bounds(b.vsFreezeAll);
      const [zeroLow, zero, zeroHigh] = bounds(b.vsFineTuneAll);
      const [prefixLow, vsPrefix, prefixHigh] = bounds(b.vsBestPrefix);
      rows.push({
        correlation,
        n,
        mode: b.mode,
        symbol: b.symbol,
        setting: b.setting,
        selection_accuracy: b.selection,
        test_accuracy: b.test[1],
        test_low: b.test[0],
        test_high: b.test[2],
        gain_vs_full: full,
        gain_vs_full_low: fullLow,
        gain_vs_full_high: fullHigh,
        gain_vs_zero: zero,
        gain_vs_zero_low: zeroLow,
        gain_vs_zero_high: zeroHigh,
        gain_vs_best_prefix: vsPrefix,
        gain_vs_best_prefix_low: prefixLow,
        gain_vs_best_prefix_high: prefixHigh,
        best: choice.best.mode === b.mode ? 1 : 0,
        plausible_settings: choice.plausible
          .filter((p) => p.mode === b.mode)
          .map((p) => String(p.setting))
          .join(','),
      });
    }
  }
  return rows;
}

/** The interval of a row's gain, for `significantGain`. */
export function gainInterval(low: number | null, mean: number | null, high: number | null): Interval | null {
  return mean === null ? null : [low, mean, high];
}

/** Cells (correlation, n) where some mode other than `defrost` beats `defrost`'s l* on test beyond its 95% interval. */
export function cellsBeatingBestPrefix(rows: readonly ProtocolRow[]): { correlation: number | null; n: number; pairs: string[] }[] {
  const out = new Map<string, { correlation: number | null; n: number; pairs: string[] }>();
  for (const r of rows) {
    if (r.mode === DEFAULT_TRANSFER_MODE) continue;
    if (!significantGain(gainInterval(r.gain_vs_best_prefix_low, r.gain_vs_best_prefix, r.gain_vs_best_prefix_high))) continue;
    const key = `${r.correlation}|${r.n}`;
    const cell = out.get(key) ?? { correlation: r.correlation, n: r.n, pairs: [] };
    cell.pairs.push(pairLabel(r));
    out.set(key, cell);
  }
  return [...out.values()];
}
