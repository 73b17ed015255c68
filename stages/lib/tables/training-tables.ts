/**
 * The tables every training run writes (`train-source`, `train-scratch`, `transfer`; the jobs in
 * stages/training/training-job.ts, the protocol in docs/protocol.md). Its metrics row is also the
 * run's declared summary, which the report reads (stages/lib/report/results.ts).
 */
import { defineTable, type RowOf } from './define-table.js';

export const TRAINING_METRICS = defineTable(
  'metrics.arrow',
  {
    test_accuracy: { type: 'Float64', doc: 'accuracy of the kept weights on the test set (it measures only: nothing is chosen on it)' },
    test_loss: { type: 'Float64', doc: 'mean cross-entropy of the kept weights on the test set' },
    validation_accuracy: {
      type: 'Float64',
      doc: 'accuracy of the kept weights on the validation (stopping) split, what ended the run (NaN without one; null in the summary)',
    },
    validation_loss: { type: 'Float64', doc: 'mean cross-entropy on the validation set (NaN without one)' },
    selection_accuracy: {
      type: 'Float64',
      doc: 'accuracy of the kept weights on the selection split, disjoint from the stopping split: what l* is chosen on (NaN for source networks: nothing is chosen on them; null in the summary)',
    },
    selection_loss: { type: 'Float64', doc: 'mean cross-entropy on the selection split (NaN for source networks)' },
    train_steps: { type: 'Int32', doc: 'optimizer steps taken' },
    epochs: { type: 'Int32', doc: 'epochs run' },
    best_epoch: { type: 'Int32', doc: 'the epoch whose weights were kept (best validation check, or the last epoch)' },
    learning_rate: { type: 'Float64', doc: 'learning rate of the kept weights (chosen on validation when several were tried)' },
    // Marked nullable since the first metrics.arrow; training always says why it stopped.
    stopped_by: {
      type: 'Utf8',
      nullable: true,
      doc: '`patience` (early stopping ended training), `budget` (the epoch budget did), or `eliminated` (a transfer early elimination stopped before it trained: docs/protocol.md#early-elimination-in-a-study)',
    },
  },
  {
    doc: 'One row: how the kept weights of a training run do on test and validation, and how training ended. The same row is the run’s manifest summary.',
  },
);
export type TrainingMetricsRow = RowOf<typeof TRAINING_METRICS>;

/** `stopped_by` of a transfer early elimination stopped: it trained nothing (docs/protocol.md#early-elimination-in-a-study). */
export const ELIMINATED = 'eliminated';

/** What a training stage declares as its summary: its metrics row as JSON. */
export const TRAINING_SUMMARY = TRAINING_METRICS.jsonSchema;

export const TRAINING_CURVE = defineTable(
  'curve.arrow',
  {
    epoch: { type: 'Int32', doc: 'epoch, from 1' },
    loss: { type: 'Float64', doc: 'training loss, averaged over the epoch’s batches before each update' },
    train_accuracy: { type: 'Float64', doc: 'training accuracy, averaged the same way' },
    val_loss: {
      type: 'Float64',
      doc: 'validation loss at the epoch’s validation check (NaN at epochs without one, and at every epoch without early stopping)',
    },
    val_accuracy: { type: 'Float64', doc: 'validation accuracy at that check (NaN likewise)' },
  },
  { doc: 'One row per epoch of a training run.' },
);
export type TrainingCurveRow = RowOf<typeof TRAINING_CURVE>;
