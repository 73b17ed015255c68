/**
 * The shapes the report is built from (docs/report.md); the rows of the tables it writes are
 * declared in stages/lib/tables/report-tables.ts.
 *
 * The same builder serves two callers: the `aggregate` stage, whose inputs are all published,
 * and `defrost report` on a partial sweep, where some planned runs never published. So every
 * planned run is a `RunRecord` that says whether it was published; a missing run is carried as
 * missing all the way to the tables and charts instead of turning into a zero.
 */
import type { Coords, JsonObject } from '../../../pipeline/stage.js';
import type { OptimalDepthRow, ResultRow } from '../tables/report-tables.js';
import type { SimilarityRow } from '../tables/similarity-table.js';

/** One planned scratch, transfer or similarity instance, published or not. */
export interface RunRecord {
  /** The plan's instance id, e.g. `transfer[correlation=0.9,n=50,mode=defrost,depth=2,seed=0]`. */
  readonly id: string;
  readonly stage: string;
  readonly coords: Coords;
  /** False when the instance was planned but has no published result (failed, not run yet). */
  readonly published: boolean;
  /** The summary in its manifest (a training run's: its metrics row, stages/lib/tables/training-tables.ts). */
  readonly summary?: JsonObject;
  readonly durationSeconds?: number;
  /** Published instance directory (similarity instances hold `similarity.arrow`). */
  readonly dir?: string;
}

/** A planned scratch or transfer run that has no published result: where it sits in the sweep. */
export interface MissingRun extends Pick<ResultRow, 'correlation' | 'n' | 'mode' | 'depth' | 'setting' | 'seed' | 'task_seed'> {
  readonly id: string;
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
