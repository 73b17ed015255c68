/**
 * The sentence that says what the answer rests on (docs/protocol.md): where runs stopped and l*
 * was chosen, and how many task instances and seeds were run. The report and the terminal show
 * it next to the answer, so a reader knows whether an interval speaks for one task or the family.
 */
import type { ResultRow } from '../tables/report-tables.js';

/** How the aggregate was told runs stopped and were selected; null for stores from before the split. */
export type ValidationBasis = 'external' | 'held_out' | null;

export function answerBasis(validation: ValidationBasis, results: readonly ResultRow[]): string {
  const tasks = new Set(results.map((r) => r.task_seed)).size;
  const seeds = new Set(results.map((r) => r.seed)).size;
  const where =
    validation === 'held_out'
      ? 'runs stopped on a fifth of the n samples and l* was chosen on another fifth (validation: held_out)'
      : validation === 'external'
        ? 'runs stopped on one held-out set of the task and l* was chosen on another, disjoint one (validation: external)'
        : 'runs stopped and l* was chosen on one validation set (a store from before the selection split)';
  const replication =
    tasks >= 2
      ? `${tasks} task instances x ${seeds} seeds; intervals treat the task as the unit`
      : `one task instance x ${seeds} seed${seeds === 1 ? '' : 's'}; intervals speak for this task, not the task family`;
  return `Basis: ${where}; ${replication}.`;
}
