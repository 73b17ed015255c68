/**
 * The columns of the report's tables by name and kind, without apache-arrow: the `aggregate`
 * stage declares its outputs from these (the engine checks them on publish) and
 * `arrow-tables.ts` writes them.
 */
import type { OptimalDepthRow, ResultRow, SimilarityRow } from '../report/types.js';

export type ColumnKind = 'float' | 'int' | 'string' | 'int_list';

export const RESULT_COLUMNS: Record<keyof ResultRow, ColumnKind> = {
  correlation: 'float',
  n: 'int',
  mode: 'string',
  depth: 'int',
  seed: 'int',
  task_seed: 'int',
  test_accuracy: 'float',
  test_loss: 'float',
  validation_accuracy: 'float',
  selection_accuracy: 'float',
  best_epoch: 'int',
  stopped_by: 'string',
  learning_rate: 'float',
  train_steps: 'int',
  seconds: 'float',
};

export const OPTIMAL_DEPTH_COLUMNS: Record<keyof OptimalDepthRow, ColumnKind> = {
  correlation: 'float',
  n: 'int',
  mode: 'string',
  optimal_depth: 'int',
  plausible_depths: 'int_list',
  optimal_selection_accuracy: 'float',
  optimal_accuracy: 'float',
  optimal_accuracy_se: 'float',
  full_depth_accuracy: 'float',
  full_depth_accuracy_se: 'float',
  scratch_accuracy: 'float',
  scratch_accuracy_se: 'float',
  gain_over_full_depth: 'float',
  gain_vs_full_low: 'float',
  gain_vs_full_high: 'float',
  gain_over_zero_depth: 'float',
  gain_vs_zero_low: 'float',
  gain_vs_zero_high: 'float',
  gain_over_scratch: 'float',
  gain_vs_scratch_low: 'float',
  gain_vs_scratch_high: 'float',
  seeds: 'int',
  tasks: 'int',
  missing_runs: 'int',
};

export const SIMILARITY_COLUMNS: Record<keyof SimilarityRow, ColumnKind> = {
  correlation: 'float',
  block_a: 'int',
  block_b: 'int',
  measure: 'string',
  value: 'float',
};

/** The Arrow type each kind is written as, as apache-arrow prints it (output declarations). */
const ARROW_TYPE_NAME: Record<ColumnKind, string> = { float: 'Float64', int: 'Int32', string: 'Utf8', int_list: 'List<Int32>' };

/** Column name -> Arrow type name, for `table(file, columns)`. */
export function arrowColumns<K extends string>(columns: Record<K, ColumnKind>): Record<K, string> {
  return Object.fromEntries(Object.entries<ColumnKind>(columns).map(([name, kind]) => [name, ARROW_TYPE_NAME[kind]])) as Record<K, string>;
}
