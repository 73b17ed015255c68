/**
 * The similarity measures, one module each (`measure.ts` says what a measure declares;
 * docs/architecture.md, "Adding a measure, a mode"): a new measure is its module, its name in
 * `MEASURE_NAMES` and its entry in `MEASURE_BY_NAME` (the compiler holds the two together). The
 * config's `similarity.measures`, the `similarity` stage, `defrost compare` (its help and checks),
 * the same-task band, the report's charts and the docs' table of measures (`make docs`) read this
 * module; none of them names a measure.
 *
 * The names stand apart from the measures because the config, which every stage loads, needs only
 * them: this module computes nothing when it loads, so a stage's code fingerprint counts a
 * measure's code only when the stage uses the measures (docs/architecture.md, "Code
 * fingerprints").
 */
import { ckaMeasure, rbfCkaMeasure } from './cka.js';
import { intrinsicDimensionMeasure } from './intrinsic-dimension.js';
import type { MeasureValue, SimilarityMeasure } from './measure.js';
import { informationImbalanceMeasure, neighbourOverlapMeasure } from './neighbours.js';

/** Measure names as configs and the command line spell them, in the order values are reported (`compare --json`, `similarity.arrow`, charts). */
export const MEASURE_NAMES = ['cka', 'rbf_cka', 'neighbour_overlap', 'information_imbalance', 'intrinsic_dimension'] as const;
export type MeasureName = (typeof MEASURE_NAMES)[number];

/** Every measure by its name: one per name of `MEASURE_NAMES`, of that name (checked by the compiler). */
const MEASURE_BY_NAME: { readonly [N in MeasureName]: SimilarityMeasure<N> } = {
  cka: ckaMeasure,
  rbf_cka: rbfCkaMeasure,
  neighbour_overlap: neighbourOverlapMeasure,
  information_imbalance: informationImbalanceMeasure,
  intrinsic_dimension: intrinsicDimensionMeasure,
};

/** True when `name` is one of `MEASURE_NAMES`. */
export function isMeasureName(name: string): name is MeasureName {
  return (MEASURE_NAMES as readonly string[]).includes(name);
}

/** The definition of a measure by name. */
export function measureOf(name: MeasureName): SimilarityMeasure<MeasureName> {
  return MEASURE_BY_NAME[name];
}

/** Every measure, in the order of `MEASURE_NAMES`. */
export function allMeasures(): SimilarityMeasure<MeasureName>[] {
  return MEASURE_NAMES.map(measureOf);
}

/** A reported value with the measure that reports it. */
export interface ReportedValue extends MeasureValue {
  readonly measure: MeasureName;
}

/** Every reported value of every measure, in output order. */
export function reportedValues(): ReportedValue[] {
  return allMeasures().flatMap((m) => m.values.map((v) => ({ ...v, measure: m.name })));
}

/** A reported value by its name (`similarity.arrow`'s `measure` column), or undefined for one no measure reports. */
export function reportedValue(name: string): ReportedValue | undefined {
  return reportedValues().find((v) => v.name === name);
}
