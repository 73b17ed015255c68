/**
 * `similarity.arrow` (docs/similarity.md): written by `similarity` and `baseline` for one
 * correlation, and by `aggregate` as every similarity instance's rows concatenated.
 */
import { CORRELATION_COLUMN } from './cell-columns.js';
import { defineTable, type RowOf } from './define-table.js';

export const SIMILARITY = defineTable(
  'similarity.arrow',
  {
    correlation: CORRELATION_COLUMN,
    block_a: { type: 'Int32', doc: 'block of the source network, 1..L (the input is not a block)' },
    block_b: { type: 'Int32', doc: 'block of the reference network, 1..L' },
    measure: { type: 'Utf8', doc: 'a reported value name of docs/similarity.md (`cka`, `rbf_cka`, `information_imbalance_a_to_b`...)' },
    value: { type: 'Float64', nullable: true, doc: 'the value; null when undefined (e.g. TwoNN on points that all coincide)' },
  },
  {
    doc: 'Long format, one row per value: `cka` for every (block_a, block_b) pair, the other measures for block_a = block_b.',
    allFieldsNullable: true,
  },
);
export type SimilarityRow = RowOf<typeof SIMILARITY>;
