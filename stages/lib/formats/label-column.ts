/**
 * Which column of a table file (CSV, or an Arrow table of one column per feature) holds the labels
 * (docs/your-data.md#your-data-formats). The rule, stated in every refusal: the column named by
 * `--label-column NAME`; else the first name of `LABEL_COLUMN_NAMES` (any case) that is a column —
 * in that order, so `label` wins over a feature called `y`; else the file is refused (exit 2).
 * Never "the first column": a file whose label column has another name would silently lose a
 * feature and learn from it as labels.
 */
import { nearestName } from '../../../pipeline/nearest-name.js';
import { DataFileError } from './problem.js';

/** Column names taken for the labels without being told, the first present winning (compared in lower case). */
export const LABEL_COLUMN_NAMES: readonly string[] = ['label', 'labels', 'target', 'class', 'y'];

const RULE = `the labels are the column named by --label-column NAME, else the first column called (in this order) ${LABEL_COLUMN_NAMES.join(', ')} (any case)`;

/** The index of the label column among `columns`; a DataFileError stating the rule when there is none. */
export function labelColumnOf(file: string, columns: readonly string[], requested?: string): number {
  const shown = columns.length > 12 ? `${columns.slice(0, 12).join(', ')}, ... (${columns.length} columns)` : columns.join(', ');
  if (requested !== undefined) {
    const exact = columns.indexOf(requested);
    if (exact >= 0) return exact;
    const near = nearestName(requested, columns);
    throw new DataFileError(
      file,
      `--label-column ${requested}: no such column${near === null ? '' : `; did you mean ${near}?`}; columns: ${shown}`,
    );
  }
  for (const name of LABEL_COLUMN_NAMES) {
    const named = columns.flatMap((c, i) => (c.trim().toLowerCase() === name ? [i] : []));
    if (named.length === 1) return named[0]!;
    if (named.length > 1)
      throw new DataFileError(
        file,
        `several columns are called ${name} (${named.map((i) => columns[i]).join(', ')}): choose one with --label-column NAME`,
      );
  }
  throw new DataFileError(file, `no label column (columns: ${shown}): ${RULE}`);
}
