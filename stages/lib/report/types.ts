/**
 * The shapes the report is built from and the tables it writes (docs/report.md).
 *
 * The same builder serves two callers: the `aggregate` stage, whose inputs are all published,
 * and `defrost report` on a partial sweep, where some planned runs never published. So every
 * planned run is a `RunRecord` that says whether it was published; a missing run is carried as
 * missing all the way to the tables and charts instead of turning into a zero.
 */
import type { Coords, JsonObject } from '../../../pipeline/stage.js';

/** One planned scratch, transfer or similarity instance, published or not. */
export interface RunRecord {
  /** The plan's instance id, e.g. `transfer[correlation=0.9,n=50,mode=defrost,depth=2,seed=0]`. */
  readonly id: string;
  readonly stage: string;
  readonly coords: Coords;
  /** False when the instance was planned but has no published result (failed, not run yet). */
  readonly published: boolean;
  /** Training stages: `{ test_accuracy, test_loss, train_steps, epochs }` from the manifest. */
  readonly summary?: JsonObject;
  readonly durationSeconds?: number;
  /** Published instance directory (similarity instances hold `similarity.arrow`). */
  readonly dir?: string;
}

/** One row of `results.arrow`: one published scratch or transfer run. */
export interface ResultRow {
  /** null for image tasks, which have no correlation sweep. */
  readonly correlation: number | null;
  readonly n: number;
  /** `scratch`, or the transfer mode (`defrost`, `reinit`). */
  readonly mode: string;
  /** Frozen leading blocks l; null for scratch runs. */
  readonly depth: number | null;
  readonly seed: number;
  /** The task instance (`task_seeds`); null when the study has the one task of `seed`. */
  readonly task_seed: number | null;
  readonly test_accuracy: number | null;
  readonly test_loss: number | null;
  /** Accuracy of the kept weights on the stopping split (what ended the run; maximised, so optimistic). */
  readonly validation_accuracy: number | null;
  /** Accuracy of the kept weights on the selection split, disjoint from the stopping split: what l* is chosen on. */
  readonly selection_accuracy: number | null;
  /** Epoch whose weights were kept (best validation check, or the last epoch). */
  readonly best_epoch: number | null;
  /** `patience` (early stopping ended training) or `budget` (the epoch budget did). */
  readonly stopped_by: string | null;
  /** The learning rate of the kept weights (chosen on validation when several were tried). */
  readonly learning_rate: number | null;
  readonly train_steps: number | null;
  readonly seconds: number | null;
}

/** A planned scratch or transfer run that has no published result. */
export interface MissingRun {
  readonly id: string;
  readonly correlation: number | null;
  readonly n: number;
  readonly mode: string;
  readonly depth: number | null;
  readonly seed: number;
  readonly task_seed: number | null;
}

/**
 * One row of `optimal_depth.arrow`: the answer for one (correlation, n, transfer mode), chosen
 * on the selection split and measured on test (docs/protocol.md). Intervals are paired by replicate, 95%.
 */
export interface OptimalDepthRow {
  readonly correlation: number | null;
  readonly n: number;
  readonly mode: string;
  /** l*: the depth with the highest mean selection accuracy; null when no depth has a result. */
  readonly optimal_depth: number | null;
  /** Depths whose paired selection difference from l* is not significant at 95% (l* included). */
  readonly plausible_depths: number[];
  /** Mean selection accuracy at l* (what chose it). */
  readonly optimal_selection_accuracy: number | null;
  /** Mean test accuracy at l*. */
  readonly optimal_accuracy: number | null;
  /** Standard error of that mean over seeds; null with fewer than two seeds. */
  readonly optimal_accuracy_se: number | null;
  /** Mean accuracy at l = L (the standard protocol: only the readout trains). */
  readonly full_depth_accuracy: number | null;
  readonly full_depth_accuracy_se: number | null;
  /** Mean accuracy of the network trained from scratch at the same n. */
  readonly scratch_accuracy: number | null;
  readonly scratch_accuracy_se: number | null;
  /** Mean over seeds of test accuracy at l* minus at l = L (can be negative: l* is chosen on selection). */
  readonly gain_over_full_depth: number | null;
  /** 95% paired interval of that gain; null bounds with fewer than two paired seeds. */
  readonly gain_vs_full_low: number | null;
  readonly gain_vs_full_high: number | null;
  /** Mean over seeds of test accuracy at l* minus at l = 0 (fine-tuning, or re-initialising, every block). */
  readonly gain_over_zero_depth: number | null;
  readonly gain_vs_zero_low: number | null;
  readonly gain_vs_zero_high: number | null;
  /** Mean over seeds of test accuracy at l* minus scratch (negative: transfer loses to scratch). */
  readonly gain_over_scratch: number | null;
  readonly gain_vs_scratch_low: number | null;
  readonly gain_vs_scratch_high: number | null;
  /** Seeds behind optimal_accuracy (over every task instance). */
  readonly seeds: number;
  /** Task instances behind it: the unit of replication when there are two or more (docs/protocol.md). */
  readonly tasks: number;
  /** Planned transfer and scratch runs of this (correlation, n, mode) with no result. */
  readonly missing_runs: number;
}

/** One row of `similarity.arrow` (the similarity stage's, and the aggregate's concatenation). */
export interface SimilarityRow {
  readonly correlation: number | null;
  /** Block of the source network (1-based hidden block). */
  readonly block_a: number;
  /** Block of the target reference network (1-based hidden block). */
  readonly block_b: number;
  readonly measure: string;
  readonly value: number | null;
}

/** Everything a report is made of, before rendering. */
export interface ReportTables {
  /** Number of hidden blocks L. */
  readonly depth: number;
  /** What the answer rests on, one sentence (`basis.ts`). */
  readonly basis: string;
  readonly classes: number;
  readonly taskKind: string;
  /** The pre-trained network the study imported (`source_model`), or null when it trains its own source network. */
  readonly sourceModel: string | null;
  readonly results: readonly ResultRow[];
  readonly optimal: readonly OptimalDepthRow[];
  readonly similarity: readonly SimilarityRow[];
  readonly missing: readonly MissingRun[];
  /** Planned similarity instances with no published result (their correlation). */
  readonly missingSimilarity: readonly (number | null)[];
}
