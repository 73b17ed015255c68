/**
 * "Did you mean ...?" for a misspelt name: the known name closest in edit distance, when it is
 * close enough to be a plausible typo (at most a third of the name's letters wrong, at least one).
 */
import { UsageError } from './errors.js';

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++)
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/** The closest known name to `name`, or null when none is a plausible typo of it. */
export function nearestName(name: string, known: readonly string[]): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(name.length / 3));
  return best !== null && bestDistance > 0 && bestDistance <= allowed ? best : null;
}

/**
 * The usage error for a name that is not one of `allowed`: `--force: got "train-sorce"; did you
 * mean train-source?; allowed: generate-data, train-source, ...` — the nearest name first, so a
 * typo is fixed by reading one line.
 */
export function unknownName(option: string, got: string, allowed: readonly string[]): UsageError {
  const near = nearestName(got, allowed);
  return new UsageError(
    `${option}: got ${JSON.stringify(got)}; ${near === null ? '' : `did you mean ${near}?; `}allowed: ${allowed.join(', ')}`,
  );
}
