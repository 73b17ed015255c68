/**
 * The range of a network's training inputs, recorded with the network where defrost trains it
 * (`userDefinedMetadata.defrost_input_stats` of its model.json, TensorFlow.js's own place for
 * such facts), so that data on another scale is caught before anyone fine-tunes on it
 * (docs/your-data.md): frozen blocks fed pixels on 0..16 by a network trained on 0..1 see inputs
 * they never saw, and the answer silently loses accuracy.
 */
import { extname } from 'node:path';
import { readInputText } from '../formats/input-file.js';

/** Summary statistics of every input value a network was trained on. */
export interface InputStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
}

/** The key under model.json's `userDefinedMetadata`. */
export const INPUT_STATS_KEY = 'defrost_input_stats';

/**
 * How many times wider or narrower than the training inputs' range (max - min) data may span
 * before `rangeNote` warns: generous, so that a subset or a normalisation of the same data passes.
 */
export const RANGE_FACTOR = 4;

export function inputStatsOf(values: Float32Array): InputStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const n = Math.max(1, values.length);
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  // Rounded: the stats go into model.json, whose bytes must be the same on every run.
  const round = (x: number): number => Number(x.toPrecision(6));
  return { min: round(min), max: round(max), mean: round(mean), std: round(Math.sqrt(squares / n)) };
}

function isStats(value: unknown): value is InputStats {
  const s = value as Partial<InputStats> | null;
  return typeof s === 'object' && s !== null && [s.min, s.max, s.mean, s.std].every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** The input statistics recorded in a model.json, or null (a network defrost did not train, or an older one). */
export function readInputStats(modelJson: string): InputStats | null {
  if (extname(modelJson).toLowerCase() === '.onnx') return null; // no such record in ONNX
  try {
    // A user's file: through input-file.ts like every other (regular, bounded; docs/reliability.md).
    const json = JSON.parse(readInputText(modelJson).text) as { userDefinedMetadata?: Record<string, unknown> };
    const stats = json.userDefinedMetadata?.[INPUT_STATS_KEY];
    return isStats(stats) ? stats : null;
  } catch {
    return null; // readSourceModel has read it already; anything odd here just means no stats
  }
}

const span = (s: InputStats): string => `[${s.min}, ${s.max}] (mean ${s.mean})`;

/**
 * A warning when `data` spans a range more than RANGE_FACTOR times wider or narrower than the
 * network's training inputs, or lies mostly outside them; a note when the network has no
 * recorded statistics; null when the ranges agree.
 */
export function rangeNote(network: InputStats | null, data: InputStats, modelLabel: string): string | null {
  if (network === null)
    return (
      `note: ${modelLabel} carries no record of its training inputs' range (a network defrost did not train); ` +
      `your data span ${span(data)}: make sure they are scaled as its training data were (e.g. images in [0, 1])`
    );
  const width = (s: InputStats): number => Math.max(s.max - s.min, Number.EPSILON);
  const ratio = width(data) / width(network);
  const shifted = Math.abs(data.mean - network.mean) > width(network);
  if (ratio <= RANGE_FACTOR && ratio >= 1 / RANGE_FACTOR && !shifted) return null;
  const how =
    ratio > RANGE_FACTOR
      ? `${ratio.toPrecision(2)}x wider`
      : ratio < 1 / RANGE_FACTOR
        ? `${(1 / ratio).toPrecision(2)}x narrower`
        : 'shifted';
  return (
    `warning: your data span ${span(data)}; ${modelLabel} was trained on inputs spanning ${span(network)}: ${how} ` +
    `(defrost warns beyond a factor of ${RANGE_FACTOR}). Scale the data as the network's training data were, ` +
    'or its frozen blocks see inputs they never saw and the answer loses accuracy'
  );
}
