/**
 * The similarity measures' names as configs (`similarity.measures`) and the command line
 * (`compare --measures`) spell them (docs/similarity.md). Light: the config imports it.
 */
export const MEASURE_NAMES = ['cka', 'rbf_cka', 'neighbour_overlap', 'information_imbalance', 'intrinsic_dimension'] as const;
export type MeasureName = (typeof MEASURE_NAMES)[number];
