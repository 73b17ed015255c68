/**
 * What a similarity measure is (docs/similarity.md#measures): everything the config, the
 * `similarity` stage, `defrost compare`, the same-task band, the report and the docs need to know
 * about one measure, declared once in the measure's own module and listed in `registry.ts`
 * (docs/architecture.md, "Adding a measure, a mode").
 *
 * A measure is a formula over the quantities a `Representation` computes once and shares (Gram
 * matrices, distances, neighbour lists, kernels), so a measure module imports only types: the
 * config imports the registry for the names, and must not pull the numerical code with it.
 */
import type { Representation } from './representation.js';

/** The knobs some measures read; `reads` says which (docs/similarity.md). */
export interface MeasureOptions {
  /** Neighbours per point (1 <= k < N): `similarity.k`, `compare --k`. */
  readonly k: number;
  /** RBF bandwidth as a multiple of the median pairwise distance (> 0): `similarity.rbf_sigma`, `compare --rbf-sigma`. */
  readonly rbfSigma: number;
}

/**
 * Which way a value leans: `higher` (or `lower`) when a larger (smaller) value means the two
 * representations are more alike; `null` for a value that describes one representation alone,
 * which takes no part in the same-task band (docs/prediction.md).
 */
export type Alike = 'higher' | 'lower' | null;

/** One reported value: its name in `similarity.arrow` and `compare --json`, its chart label, its direction. */
export interface MeasureValue {
  readonly name: string;
  /** The title of its chart panel in the report. */
  readonly label: string;
  readonly alike: Alike;
}

/**
 * Which blocks the `similarity` stage compares with the measure: `same-block` compares block l of
 * the source network with block l of the reference network, when `similarity.measures` asks for
 * it; `every-pair` compares every pair of blocks (an L x L matrix, drawn by the report), always,
 * and its diagonal is the per-block value.
 */
export type BlockPairs = 'same-block' | 'every-pair';

export interface SimilarityMeasure<N extends string = string> {
  /** The name configs (`similarity.measures`) and the command line (`compare --measures`) spell. */
  readonly name: N;
  /** Its values, in output order (some measures report two: both directions, or each representation). */
  readonly values: readonly MeasureValue[];
  readonly blocks: BlockPairs;
  /** The options it reads (their ranges are checked only when a requested measure reads them). */
  readonly reads: readonly (keyof MeasureOptions)[];
  /** Its row in the docs' table of measures: the definition, its reference, its range. */
  readonly about: string;
  /** How to read it, for the report's caption: one clause (“CKA is 1 for identical representations”). */
  readonly reading: string;
  /** Its values between A and B (same rows = same inputs), in the order of `values`; NaN where undefined. */
  compute(a: Representation, b: Representation, options: MeasureOptions): readonly number[];
}
