/**
 * How a depth predictor is scored against the study (docs/prediction.md): per cell, whether its
 * predicted l* equals the measured l*, lies within one block of it, or lies in the plausible set;
 * and Kendall's tau between its per-depth scores and the measured validation accuracy per depth.
 */

/** A finite number, or null for a score that could not be computed. */
export type Score = number | null;

/**
 * The depth a predictor picks: the highest score, ties to the deeper depth (as the study's l*:
 * the deeper of two equally good depths freezes more and trains less). `scores[l]` is depth l's.
 * Null when no depth has a finite score.
 */
export function predictedDepth(scores: readonly Score[]): number | null {
  let best: number | null = null;
  scores.forEach((s, depth) => {
    if (s === null || !Number.isFinite(s)) return;
    if (best === null || s >= (scores[best] as number)) best = depth;
  });
  return best;
}

/**
 * Kendall's tau-b between paired values (pairs with a null on either side are left out): the
 * rank agreement of a predictor's scores with measured accuracies, ties counted as neither
 * concordant nor discordant and normalised as in tau-b. Null when fewer than two pairs remain or
 * one side is constant (tau is undefined then, not zero).
 */
export function kendallTau(x: readonly Score[], y: readonly Score[]): number | null {
  const pairs: [number, number][] = [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const a = x[i];
    const b = y[i];
    if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) pairs.push([a, b]);
  }
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < pairs.length; i++) {
    for (let j = i + 1; j < pairs.length; j++) {
      const dx = Math.sign(pairs[i][0] - pairs[j][0]);
      const dy = Math.sign(pairs[i][1] - pairs[j][1]);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}

/** One cell's verdict for one predictor. */
export interface CellVerdict {
  readonly exact: boolean;
  readonly withinOne: boolean;
  readonly inPlausible: boolean;
}

export function judgeCell(predicted: number, lStar: number, plausible: readonly number[]): CellVerdict {
  return { exact: predicted === lStar, withinOne: Math.abs(predicted - lStar) <= 1, inPlausible: plausible.includes(predicted) };
}

/** A predictor's score over the cells where both it and the study have an answer. */
export interface PredictorScore {
  readonly cells: number;
  readonly exact: number;
  readonly withinOne: number;
  readonly inPlausible: number;
  /** Mean over cells of Kendall's tau (cells where tau is undefined are left out); null if none. */
  readonly kendallTau: number | null;
}

export interface CellOutcome {
  readonly predicted: number | null;
  readonly lStar: number | null;
  readonly plausible: readonly number[];
  readonly tau: number | null;
}

export function scorePredictor(cells: readonly CellOutcome[]): PredictorScore {
  const judged = cells.filter((c) => c.predicted !== null && c.lStar !== null);
  const verdicts = judged.map((c) => judgeCell(c.predicted as number, c.lStar as number, c.plausible));
  const fraction = (f: (v: CellVerdict) => boolean): number => (verdicts.length === 0 ? 0 : verdicts.filter(f).length / verdicts.length);
  const taus = cells.map((c) => c.tau).filter((t): t is number => t !== null);
  return {
    cells: verdicts.length,
    exact: fraction((v) => v.exact),
    withinOne: fraction((v) => v.withinOne),
    inPlausible: fraction((v) => v.inPlausible),
    kendallTau: taus.length === 0 ? null : taus.reduce((a, b) => a + b, 0) / taus.length,
  };
}
