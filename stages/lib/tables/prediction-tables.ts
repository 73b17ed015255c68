/**
 * The tables of "Can l* be predicted?" (docs/prediction.md): what each `predict` instance writes
 * for its cell (correlation, n), and what `aggregate` writes for the study. Every field is marked
 * nullable, as these tables always were; `nullable` says which values can be missing.
 */
import { CELL_COLUMNS, CORRELATION_COLUMN } from './cell-columns.js';
import { defineTable, type RowOf } from './define-table.js';

const PREDICTION_COLUMNS = {
  ...CELL_COLUMNS,
  predictor: { type: 'Utf8', doc: '`similarity_band`, `logme` or `nearest_centroid`' },
  depth: { type: 'Int32', doc: 'the transfer depth l scored' },
  score: { type: 'Float64', nullable: true, doc: 'the predictor’s score of depth l (higher is better); null when it cannot be computed' },
  predicted_depth: { type: 'Int32', nullable: true, doc: 'the predictor’s l* for the cell, the same on each of its rows' },
} as const;

export const PREDICTION = defineTable('prediction.arrow', PREDICTION_COLUMNS, {
  doc: 'Written by `predict`: one row per predictor and depth of its cell. Timings are not results (the same key gives the same bytes): they are in its summary.',
  allFieldsNullable: true,
});
export type PredictionRow = RowOf<typeof PREDICTION>;

export const STUDY_PREDICTION = defineTable(
  'prediction.arrow',
  {
    ...PREDICTION_COLUMNS,
    seconds: {
      type: 'Float64',
      nullable: true,
      doc: 'the predictor’s compute for the cell, from the predict instance’s summary (for the band predictor its share of the inputs it needs)',
    },
  },
  { doc: 'Written by `aggregate`: every predict instance’s rows, with the seconds each predictor spent.', allFieldsNullable: true },
);
export type StudyPredictionRow = RowOf<typeof STUDY_PREDICTION>;

export const BAND = defineTable(
  'band.arrow',
  {
    correlation: CORRELATION_COLUMN,
    block: { type: 'Int32', doc: 'the block, 1..L' },
    measure: { type: 'Utf8', doc: 'the similarity value name' },
    value: { type: 'Float64', doc: 'source network vs target reference network' },
    low: { type: 'Float64', doc: 'low edge of the same-task band (95% prediction interval of two target networks trained from scratch)' },
    high: { type: 'Float64', doc: 'high edge of the band' },
    pairs: { type: 'Int32', doc: 'pairs of reference networks behind the band' },
    inside: { type: 'Bool', doc: 'at least as alike as the band’s less alike edge' },
  },
  {
    doc: 'Written by `predict` for its correlation, and by `aggregate` for every correlation (read from its first predict instance): the source-vs-target similarity against the same-task band.',
    allFieldsNullable: true,
  },
);
export type BandRow = RowOf<typeof BAND>;

export const PREDICTION_SCORES = defineTable(
  'prediction_scores.arrow',
  {
    ...CELL_COLUMNS,
    mode: { type: 'Utf8', doc: 'the transfer mode whose measured l* the prediction is scored against' },
    predictor: { type: 'Utf8', doc: 'the predictor' },
    predicted_depth: { type: 'Int32', nullable: true, doc: 'its l*' },
    l_star: { type: 'Int32', nullable: true, doc: 'the measured l*' },
    plausible_depths: { type: 'Utf8', doc: 'the measured plausible set, e.g. `1,2,3`' },
    exact: { type: 'Int32', nullable: true, doc: '1 when the predicted l* is l*, else 0; null when either side has no answer' },
    within_one: { type: 'Int32', nullable: true, doc: '1 when it is within one block of l*' },
    in_plausible: { type: 'Int32', nullable: true, doc: '1 when it lies in the plausible set' },
    kendall_tau: {
      type: 'Float64',
      nullable: true,
      doc: 'Kendall’s τ-b between the scores and the measured mean accuracy per depth; null when either side is constant',
    },
    seconds: { type: 'Float64', nullable: true, doc: 'the predictor’s seconds for the cell' },
    sweep_seconds: { type: 'Float64', nullable: true, doc: 'seconds of the cell’s transfer runs (every depth and seed of this mode)' },
    accuracy: {
      type: 'Utf8',
      doc: '`selection_accuracy` (or, for runs from before the selection split, `validation_accuracy` or `test_accuracy`): what l*, the plausible set and τ were computed on',
    },
  },
  { doc: 'Written by `aggregate`: one predictor on one cell (correlation, n, mode) of the study.', allFieldsNullable: true },
);
export type PredictionScoreRow = RowOf<typeof PREDICTION_SCORES>;
