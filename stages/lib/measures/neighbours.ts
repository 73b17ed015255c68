/**
 * Neighbourhood-based measures, on Euclidean distances with self excluded and ties broken by
 * row index (see `representation.ts`): neighbour overlap and information imbalance.
 */
import type { SimilarityMeasure } from './measure.js';
import type { Representation } from './representation.js';

/**
 * Neighbour overlap (Doimo, Glielmo, Ansuini and Laio, NeurIPS 2020):
 * mean over points of |kNN_A(i) ∩ kNN_B(i)| / k. 1 when the neighbourhoods coincide; about
 * k/(N-1) for unrelated representations.
 */
export function neighbourOverlap(a: Representation, b: Representation, k: number): number {
  const n = a.n;
  const na = a.neighbours(k);
  const nb = b.neighbours(k);
  const mark = new Int32Array(n).fill(-1);
  let shared = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) mark[na.index[i * na.k + r]] = i;
    for (let r = 0; r < k; r++) if (mark[nb.index[i * nb.k + r]] === i) shared++;
  }
  return shared / (n * k);
}

/**
 * Information imbalance (Glielmo, Zeni, Cheng, Csányi and Laio, PNAS Nexus 2022):
 * Delta(A -> B) = (2/N) mean_i r_B(i, nn_A(i)), where nn_A(i) is i's nearest neighbour in A and
 * r_B(i, j) the rank (1 = nearest) of j among i's neighbours in B. Its minimum 2/N means A
 * predicts B's neighbourhoods perfectly; about 1 means A carries no information about B.
 */
export function informationImbalance(a: Representation, b: Representation): number {
  const n = a.n;
  const nearest = a.neighbours(1);
  const row = new Float64Array(n);
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    b.squaredDistanceRow(i, row);
    rankSum += rankIn(row, i, nearest.index[i * nearest.k]);
  }
  return (2 / n) * (rankSum / n);
}

/**
 * Rank (1 = nearest) of point j among i's neighbours, self excluded, in (distance, index)
 * order. `row` must hold i's squared distances.
 */
function rankIn(row: Float64Array, i: number, j: number): number {
  const dj = row[j];
  let rank = 1;
  for (let m = 0; m < row.length; m++) {
    if (m === i || m === j) continue;
    const dm = row[m];
    if (dm < dj || (dm === dj && m < j)) rank++;
  }
  return rank;
}

export const neighbourOverlapMeasure: SimilarityMeasure<'neighbour_overlap'> = {
  name: 'neighbour_overlap',
  values: [{ name: 'neighbour_overlap', label: 'Neighbour overlap (1 = same)', alike: 'higher' }],
  blocks: 'same-block',
  reads: ['k'],
  about: 'mean fraction of shared k nearest neighbours (Euclidean, self excluded); chance level k/(N-1)',
  reading: 'neighbour overlap is 1 when every input keeps its k nearest neighbours',
  compute: (a, b, options) => [neighbourOverlap(a, b, options.k)],
};

export const informationImbalanceMeasure: SimilarityMeasure<'information_imbalance'> = {
  name: 'information_imbalance',
  values: [
    { name: 'information_imbalance_a_to_b', label: 'Info. imbalance source→target', alike: 'lower' },
    { name: 'information_imbalance_b_to_a', label: 'Info. imbalance target→source', alike: 'lower' },
  ],
  blocks: 'same-block',
  reads: [],
  about:
    "Delta(A->B) = (2/N) mean_i rank_B(i, nn_A(i)) (Glielmo et al. 2022): 2/N = A predicts B's neighbourhoods perfectly, ~1 = no information",
  reading:
    'information imbalance source→target is near 0 when the source block predicts the target block and near 1 when it carries no information about it',
  compute: (a, b) => [informationImbalance(a, b), informationImbalance(b, a)],
};
