/**
 * The table of the report section "Which protocol, and at which setting?"
 * (docs/science.md#beyond-freezing-a-prefix), written by `aggregate` when the study ran a protocol
 * beyond the frozen prefix: per cell, each mode's best setting on selection and its paired test
 * gains (stages/lib/report/protocol-table.ts computes it).
 */
import { CELL_COLUMNS } from './cell-columns.js';
import { defineTable, type RowOf } from './define-table.js';

const gain = (over: string) =>
  ({
    mean: { type: 'Float64', nullable: true, doc: `mean paired test gain of this setting over ${over}; null without that run` },
    low: { type: 'Float64', nullable: true, doc: 'low bound of its paired 95% interval (over task instances, or seeds with one task)' },
    high: { type: 'Float64', nullable: true, doc: 'high bound of that interval' },
  }) as const;
const FULL = gain('freezing every block (defrost at l = L)');
const ZERO = gain('fine-tuning everything (defrost at l = 0)');
const PREFIX = gain('the best prefix depth (defrost at its l*, chosen on selection)');

export const PROTOCOL_CHOICES = defineTable(
  'protocols.arrow',
  {
    ...CELL_COLUMNS,
    mode: { type: 'Utf8', doc: 'the transfer mode (a prefix mode or a protocol)' },
    symbol: { type: 'Utf8', doc: 'how its setting is named: `l`, `b`, `γ`, `α`' },
    setting: { type: 'Float64', doc: 'its best setting on selection accuracy (ties: the earlier in tie order)' },
    selection_accuracy: { type: 'Float64', doc: 'mean selection accuracy at that setting (what chose it)' },
    test_accuracy: { type: 'Float64', doc: 'mean test accuracy at that setting' },
    test_low: { type: 'Float64', nullable: true, doc: 'low bound of its 95% interval' },
    test_high: { type: 'Float64', nullable: true, doc: 'high bound of that interval' },
    gain_vs_full: FULL.mean,
    gain_vs_full_low: FULL.low,
    gain_vs_full_high: FULL.high,
    gain_vs_zero: ZERO.mean,
    gain_vs_zero_low: ZERO.low,
    gain_vs_zero_high: ZERO.high,
    gain_vs_best_prefix: PREFIX.mean,
    gain_vs_best_prefix_low: PREFIX.low,
    gain_vs_best_prefix_high: PREFIX.high,
    best: { type: 'Int32', doc: '1 when this is the cell’s best (protocol, setting) pair on selection, else 0' },
    plausible_settings: {
      type: 'Utf8',
      doc: 'this mode’s settings in the cell’s plausible set across every protocol and setting, comma-separated (empty: none)',
    },
  },
  { doc: 'Written by `aggregate` when the study ran a protocol beyond the frozen prefix: one row per (correlation, n, mode).' },
);
export type ProtocolRow = RowOf<typeof PROTOCOL_CHOICES>;
