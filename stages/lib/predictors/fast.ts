/**
 * `defrost recommend --fast` (docs/prediction.md): rank the depths with a predictor, train only
 * the top few (plus scratch) by cross-validation, and say whether that confirms the ranking.
 * Pure functions; the command and stages/recommend/fast-scores.ts do the I/O.
 */
import type { Score } from './scoring.js';

/** Depths by decreasing score, ties to the deeper depth (as l*); depths without a score last. */
export function rankDepths(scores: readonly Score[]): number[] {
  const depths = scores.map((_, d) => d);
  const value = (d: number): number => {
    const s = scores[d];
    return s === null || !Number.isFinite(s) ? Number.NEGATIVE_INFINITY : s;
  };
  return depths.sort((a, b) => value(b) - value(a) || b - a);
}

/** The part of a cross-validated recommendation the verdict reads (stages/recommend/answer.ts). */
export interface TrainedAnswer {
  readonly l_star: number;
  readonly plausible: readonly number[];
  /** [low, mean, high] over folds. */
  readonly accuracy: readonly [number | null, number, number | null];
  readonly scratch_accuracy: readonly [number | null, number, number | null];
}

export interface FastVerdict {
  readonly confirmed: boolean;
  /** One sentence for the user, whatever the verdict. */
  readonly reason: string;
}

/**
 * Whether training the top-ranked depths confirms the ranking: the predictor's first choice must be
 * as good as the best trained depth within the noise (in the cross-validated plausible set), and
 * transfer must not lose to training from scratch. Otherwise the untrained depths may hold a better
 * answer, and only the full `defrost recommend` can tell.
 */
export function fastVerdict(ranking: readonly number[], trained: readonly number[], answer: TrainedAnswer): FastVerdict {
  const first = ranking[0];
  const untrained = ranking.filter((d) => !trained.includes(d));
  const rest = untrained.length === 0 ? '' : ` Depths ${untrained.join(', ')} were not trained.`;
  if (!answer.plausible.includes(first))
    return {
      confirmed: false,
      reason: `could not confirm: the predictor ranked depth ${first} first, but cross-validation finds depth ${answer.l_star} significantly better; run without --fast to train every depth.${rest}`,
    };
  if (answer.accuracy[1] < answer.scratch_accuracy[1])
    return {
      confirmed: false,
      reason: `could not confirm: training from scratch beats every trained depth; transfer may not help, run without --fast to check every depth.${rest}`,
    };
  return {
    confirmed: true,
    reason: `confirmed: the predictor's first choice (depth ${first}) is as good as the best trained depth within the noise, and its mean accuracy is not below training from scratch.${rest}`,
  };
}
