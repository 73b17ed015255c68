/** The tables of `defrost recommend`'s cross-validation (docs/your-data.md). */
import { defineTable, type RowOf } from './define-table.js';
import { TRAINING_METRICS } from './training-tables.js';

export const CV_METRICS = defineTable(
  'metrics.arrow',
  {
    fold_accuracy: { type: 'Float64', doc: 'accuracy on the fold’s held-out samples' },
    fold_loss: { type: 'Float64', doc: 'mean cross-entropy on them' },
    validation_accuracy: {
      type: 'Float64',
      doc: 'accuracy of the kept weights on the validation split of the fold’s training part (NaN without one)',
    },
    train_steps: TRAINING_METRICS.columns.train_steps,
    epochs: TRAINING_METRICS.columns.epochs,
    best_epoch: TRAINING_METRICS.columns.best_epoch,
    stopped_by: TRAINING_METRICS.columns.stopped_by,
  },
  { doc: 'Written by `cv-train`: one row, one fold of one transfer (mode, depth or setting) or of training from scratch.' },
);
export type CvMetricsRow = RowOf<typeof CV_METRICS>;

export const CV_RESULTS = defineTable(
  'cv_results.arrow',
  {
    mode: { type: 'Utf8', doc: 'the transfer mode, or `scratch`' },
    depth: { type: 'Int32', nullable: true, doc: 'the transfer depth; null for scratch and for a mode whose setting is not a depth' },
    setting: {
      type: 'Float64',
      nullable: true,
      doc: 'a protocol’s own setting when it is not a depth (`--protocols`; docs/science.md#beyond-freezing-a-prefix); else null',
    },
    fold: { type: 'Int32', doc: 'the fold, from 0' },
    accuracy: { type: 'Float64', doc: 'held-out accuracy of the fold' },
  },
  { doc: 'Written by `recommend`: one row per fold run, sorted by mode, depth, setting and fold.', allFieldsNullable: true },
);
export type CvResultRow = RowOf<typeof CV_RESULTS>;
