/**
 * Leave-one-out nearest-centroid accuracy of frozen features: each of the N samples is classified
 * by the nearest class mean (Euclidean) of the other N - 1 samples. It is defrost's third depth
 * predictor (docs/prediction.md argues the choice): an out-of-sample accuracy, in the same unit
 * as what the study measures, from the n target samples alone (no validation split needed, so
 * `recommend --fast` can use it on a user's data), costing O(N C D).
 *
 * Conventions: a sample whose class has no other member cannot be matched to its own class and
 * counts as an error; ties between centroids go to the lower class index.
 */
import type { FeatureMatrix } from './logme.js';

export function leaveOneOutCentroidAccuracy(features: FeatureMatrix, labels: ArrayLike<number>, classes: number): number {
  const { rows: n, cols: d, data } = features;
  if (labels.length !== n) throw new Error(`nearest centroid: ${labels.length} labels for ${n} feature rows`);
  if (n === 0) return Number.NaN;
  const sums = new Float64Array(classes * d);
  const counts = new Int32Array(classes);
  for (let r = 0; r < n; r++) {
    const c = labels[r];
    counts[c]++;
    for (let j = 0; j < d; j++) sums[c * d + j] += data[r * d + j];
  }
  const centroids = new Float64Array(classes * d);
  for (let c = 0; c < classes; c++) {
    if (counts[c] === 0) continue;
    for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] / counts[c];
  }
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const own = labels[r];
    let best = -1;
    let bestDistance = Infinity;
    for (let c = 0; c < classes; c++) {
      const others = c === own ? counts[c] - 1 : counts[c];
      if (others === 0) continue;
      let dist = 0;
      for (let j = 0; j < d; j++) {
        // The own class's centroid without this sample: (sum - x) / (count - 1).
        const centre = c === own ? (sums[c * d + j] - data[r * d + j]) / others : centroids[c * d + j];
        const diff = data[r * d + j] - centre;
        dist += diff * diff;
      }
      if (dist < bestDistance) {
        bestDistance = dist;
        best = c;
      }
    }
    if (best === own) correct++;
  }
  return correct / n;
}
