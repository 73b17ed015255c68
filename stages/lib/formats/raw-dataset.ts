/**
 * What every file reader returns before labels are mapped and values checked: features of one
 * shape, one raw label per row, and how to name a row in a message (a CSV line number, an image
 * path). `finishDataset` turns it into a `Dataset` (dataset-table.ts) or refuses it, naming the
 * file, the row and the problem (docs/your-data.md).
 */
import type { Dataset } from '../tables/dataset-table.js';
import { indexLabels, sortedClassNames, type RawLabel } from './labels.js';
import { DataFileError } from './problem.js';

/** One file a dataset was read from, and the sha256 of the bytes read. */
export interface ReadFile {
  readonly path: string;
  readonly sha256: string;
}

export interface RawDataset {
  /** The file (or folder) the data came from, for messages. */
  readonly file: string;
  /** rows x prod(shape) values, row-major. */
  readonly features: Float32Array;
  readonly rows: number;
  /** Shape of one sample. */
  readonly shape: number[];
  readonly labels: RawLabel[];
  /** Class names in a declared order (an Arrow table's metadata); otherwise the sorted labels. */
  readonly classes?: string[];
  /** Every file read, with the sha256 of the bytes the data came from (read.ts fingerprints them). */
  readonly files: readonly ReadFile[];
  /** Where row `i` is, in words (`row 3`, `line 4`, `image cat/01.png`), and in which file. */
  readonly describeRow: (row: number) => { file: string; where: string };
}

/** Refuses a non-finite value, naming the first row (and position in it) that has one. */
export function checkFinite(raw: RawDataset): void {
  const dim = raw.shape.reduce((a, b) => a * b, 1);
  const f = raw.features;
  for (let i = 0; i < f.length; i++) {
    if (!Number.isFinite(f[i])) {
      const row = Math.floor(i / Math.max(1, dim));
      const { file, where } = raw.describeRow(row);
      throw new DataFileError(
        file,
        `${where}: value ${f[i]} at feature ${i - row * dim} is not a finite number (NaN and Inf are not allowed)`,
      );
    }
  }
}

/**
 * Checks the values and maps labels to 0..C-1 over `classes` (by default the sorted labels of
 * this dataset; a test set passes its training set's classes).
 */
export function finishDataset(raw: RawDataset, classes?: readonly string[]): Dataset {
  if (raw.rows === 0) throw new DataFileError(raw.file, 'no samples');
  checkFinite(raw);
  const names = classes ? [...classes] : (raw.classes ?? sortedClassNames(raw.labels));
  const labels = indexLabels(raw.labels, names);
  const unknown = labels.indexOf(-1);
  if (unknown >= 0) {
    const { file, where } = raw.describeRow(unknown);
    throw new DataFileError(
      file,
      `${where}: label ${JSON.stringify(raw.labels[unknown])} is not a class of the training data (${names.join(', ')})`,
    );
  }
  if (names.length < 2) throw new DataFileError(raw.file, `only one class (${names.join(', ')}): a classifier needs at least two`);
  return { features: raw.features, labels, rows: raw.rows, shape: raw.shape, classes: names };
}
