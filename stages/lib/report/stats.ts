/** Summary statistics over seeds, with the conventions the report documents. */

/** Arithmetic mean, summed in the given order; null for an empty list. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Standard error of the mean: sample standard deviation (n - 1 denominator) / sqrt(n).
 * null with fewer than two values, because one seed says nothing about the spread.
 */
export function standardError(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values) as number;
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (values.length - 1)) / Math.sqrt(values.length);
}
