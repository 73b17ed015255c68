/**
 * Class labels as users have them — integers or names — mapped to 0..C-1 (docs/your-data.md).
 * Classes are sorted (numerically when every label is an integer, else as text), so the same
 * label set always gives the same mapping, whatever the order of the rows; the names are kept
 * (`classes[index]`) and end up in the dataset table's metadata.
 *
 * Integer labels are compared by exact value (as BigInt, so 2^53 and 2^53 + 1 stay two classes):
 * when every label is an integer, `1`, `01` and `+1` are one class, named `1` — the rule for CSV
 * files, whose labels are text (docs/your-data.md, "Labels").
 */

/** One raw label: an integer, or text (a folder name, a CSV field, a NumPy string). */
export type RawLabel = number | string;

const INTEGER = /^[+-]?\d+$/;

/** The text of a label, as it is shown and stored (`3`, `cat`). */
export function labelName(label: RawLabel): string {
  return typeof label === 'number' ? String(label) : label;
}

/** The canonical name of an integer label, exact at any size (`007` -> `7`, `-0` -> `0`). */
function integerName(text: string): string {
  return BigInt(text.trim()).toString();
}

/** Sorted distinct class names: numeric order when all are integers, else text order. */
export function sortedClassNames(labels: Iterable<RawLabel>): string[] {
  const names = [...new Set([...labels].map(labelName))];
  if (names.length > 0 && names.every((n) => INTEGER.test(n.trim())))
    return [...new Set(names.map(integerName))].sort((a, b) => {
      const d = BigInt(a) - BigInt(b);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    });
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Maps raw labels to indices of `classes` (names from `sortedClassNames`); -1 for an unknown one. */
export function indexLabels(labels: readonly RawLabel[], classes: readonly string[]): Int32Array {
  const index = new Map(classes.map((name, i) => [name, i]));
  const numeric = classes.every((n) => INTEGER.test(n));
  return Int32Array.from(labels, (l) => {
    // Integer labels match by value: "07" in a CSV is class 7.
    const name = numeric && typeof l === 'string' && INTEGER.test(l.trim()) ? integerName(l) : labelName(l);
    return index.get(name) ?? -1;
  });
}
