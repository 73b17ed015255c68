/**
 * Neighbourhood-based measures, on Euclidean distances with self excluded and ties broken by
 * row index (see `representation.ts`).
 */
import { Representation } from './representation.js';

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
    rankSum += Representation.rankIn(row, i, nearest.index[i * nearest.k]);
  }
  return (2 / n) * (rankSum / n);
}
