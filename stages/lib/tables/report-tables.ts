/**
 * The tables of the study's answer, written by `aggregate` (and by `defrost report` on a partial
 * sweep): every scratch and transfer run, and l* per (correlation, n, mode) with its plausible
 * set and gains (docs/report.md, docs/protocol.md). Every field is marked nullable, as these
 * tables always were; `nullable` says which values can be missing.
 */
import { CELL_COLUMNS } from './cell-columns.js';
import { defineTable, type RowOf } from './define-table.js';
import { TRAINING_METRICS } from './training-tables.js';

const RUN = TRAINING_METRICS.columns;

export const RESULTS = defineTable(
  'results.arrow',
  {
    ...CELL_COLUMNS,
    mode: { type: 'Utf8', doc: '`scratch`, or the transfer mode (`defrost`, `reinit`, or a protocol: `surgical`, `lp-ft`, ...)' },
    depth: {
      type: 'Int32',
      nullable: true,
      doc: 'frozen leading blocks l (for `lp-ft` and `gradual`: blocks never trained); null for scratch runs and for a mode whose setting is not a depth',
    },
    setting: {
      type: 'Float64',
      nullable: true,
      doc: "the mode's own swept setting when it is not a depth (surgical's b, llrd's gamma, l2sp's alpha; docs/science.md#beyond-freezing-a-prefix); else null",
    },
    seed: { type: 'Int32', doc: 'the training seed' },
    task_seed: { type: 'Int32', nullable: true, doc: 'the task instance (`task_seeds`); null when the study has the one task of `seed`' },
    // A training run's metrics (training-tables.ts), missing when its summary lacks them.
    test_accuracy: { ...RUN.test_accuracy, nullable: true },
    test_loss: { ...RUN.test_loss, nullable: true },
    validation_accuracy: {
      type: 'Float64',
      nullable: true,
      doc: 'accuracy of the kept weights on the stopping split (what ended the run; maximised, so optimistic)',
    },
    selection_accuracy: { ...RUN.selection_accuracy, nullable: true },
    best_epoch: { ...RUN.best_epoch, nullable: true },
    stopped_by: { ...RUN.stopped_by, nullable: true },
    learning_rate: { ...RUN.learning_rate, nullable: true },
    train_steps: { ...RUN.train_steps, nullable: true },
    seconds: { type: 'Float64', nullable: true, doc: 'the run’s compute time, from its manifest (not a result: it varies run to run)' },
  },
  {
    doc: 'One row per published scratch or transfer run of the sweep, sorted by correlation (high to low), n, mode (scratch first), depth, setting and seed.',
    allFieldsNullable: true,
  },
);
export type ResultRow = RowOf<typeof RESULTS>;

export const OPTIMAL_DEPTH = defineTable(
  'optimal_depth.arrow',
  {
    ...CELL_COLUMNS,
    mode: { type: 'Utf8', doc: 'the transfer mode' },
    optimal_depth: {
      type: 'Int32',
      nullable: true,
      doc: 'l*: the depth with the highest mean selection accuracy (ties to the deeper depth); null when no depth has a result',
    },
    plausible_depths: {
      type: 'List<Int32>',
      doc: 'depths whose paired selection difference from l* is not significant at 95% (l* included)',
    },
    optimal_selection_accuracy: { type: 'Float64', nullable: true, doc: 'mean selection accuracy at l* (what chose it)' },
    optimal_accuracy: { type: 'Float64', nullable: true, doc: 'mean test accuracy at l*' },
    optimal_accuracy_se: { type: 'Float64', nullable: true, doc: 'its standard error over replicates; null with fewer than two' },
    full_depth_accuracy: {
      type: 'Float64',
      nullable: true,
      doc: 'mean test accuracy at l = L (the standard protocol: only the readout trains)',
    },
    full_depth_accuracy_se: { type: 'Float64', nullable: true, doc: 'its standard error' },
    scratch_accuracy: { type: 'Float64', nullable: true, doc: 'mean test accuracy of the network trained from scratch at the same n' },
    scratch_accuracy_se: { type: 'Float64', nullable: true, doc: 'its standard error' },
    gain_over_full_depth: {
      type: 'Float64',
      nullable: true,
      doc: 'mean over seeds of test accuracy at l* minus at l = L (can be negative: l* is chosen on selection)',
    },
    gain_vs_full_low: {
      type: 'Float64',
      nullable: true,
      doc: 'low bound of its paired 95% interval; null with fewer than two paired seeds',
    },
    gain_vs_full_high: { type: 'Float64', nullable: true, doc: 'high bound of that interval' },
    gain_over_zero_depth: {
      type: 'Float64',
      nullable: true,
      doc: 'mean over seeds of test accuracy at l* minus at l = 0 (fine-tuning, or re-initialising, every block)',
    },
    gain_vs_zero_low: { type: 'Float64', nullable: true, doc: 'low bound of its paired 95% interval' },
    gain_vs_zero_high: { type: 'Float64', nullable: true, doc: 'high bound of that interval' },
    gain_over_scratch: {
      type: 'Float64',
      nullable: true,
      doc: 'mean over seeds of test accuracy at l* minus scratch (negative: transfer loses to scratch)',
    },
    gain_vs_scratch_low: { type: 'Float64', nullable: true, doc: 'low bound of its paired 95% interval' },
    gain_vs_scratch_high: { type: 'Float64', nullable: true, doc: 'high bound of that interval' },
    seeds: { type: 'Int32', doc: 'seeds behind optimal_accuracy (over every task instance)' },
    tasks: { type: 'Int32', doc: 'task instances behind it: the unit of replication when there are two or more (docs/protocol.md)' },
    missing_runs: { type: 'Int32', doc: 'planned transfer and scratch runs of this (correlation, n, mode) with no result' },
  },
  {
    doc: 'One row per (correlation, n, transfer mode): the answer, chosen on the selection split and measured on test (docs/protocol.md); intervals paired by replicate, 95%.',
    allFieldsNullable: true,
  },
);
export type OptimalDepthRow = RowOf<typeof OPTIMAL_DEPTH>;
