/**
 * The columns that name a cell of the study (docs/protocol.md): the task pair's correlation and
 * the target training set size n. Every table with rows per cell or per correlation starts with
 * them; they mean the same in each, so they are declared once.
 */

/** The task pair's correlation (the synthetic tasks' sweep); null for image tasks. */
export const CORRELATION_COLUMN = {
  type: 'Float64',
  nullable: true,
  doc: 'the task pair’s correlation; null for image tasks, which have no correlation sweep',
} as const;

/** A cell of the study: (correlation, n). */
export const CELL_COLUMNS = {
  correlation: CORRELATION_COLUMN,
  n: { type: 'Int32', doc: 'target training samples' },
} as const;
