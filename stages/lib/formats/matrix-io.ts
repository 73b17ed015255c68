/**
 * Reading representation matrices: rows = samples,
 * columns = features, as `defrost compare` accepts them (docs/similarity.md#defrost-compare):
 *
 * - `.arrow` (Arrow IPC file or stream): the first FixedSizeList column (e.g. the `features`
 *   column of a dataset table or saved activations), or else every numeric column in order;
 * - `.npy`: an (N, ...) array of floats or integers (little-endian), C order; trailing dimensions
 *   are flattened, so images (N, 28, 28, 1) are N rows of 784 features;
 * - `.csv`: numbers separated by commas, one row per line, with an optional header line.
 *
 * Every problem becomes a `UsageError` naming the file and what is allowed: these are the user's
 * files, so a bad one is bad usage (exit 2), never a stack trace. Apache Arrow is imported
 * dynamically, and only for `.arrow` files.
 */
import { extname } from 'node:path';
import { UsageError } from '../../../pipeline/errors.js';
import { csvRecords, UnclosedQuote } from './csv-records.js';
import { readInputFile } from './input-file.js';
import { parseNpyArray } from './npy.js';
import { parseCsvNumber } from './read-csv.js';
import type { Matrix } from '../measures/matrix.js';

/** File extensions `readMatrix` understands. */
export const MATRIX_FORMATS = ['.arrow', '.npy', '.csv'] as const;

/** Reads a matrix file, choosing the format by extension. */
export async function readMatrix(path: string): Promise<Matrix> {
  const format = extname(path).toLowerCase();
  if (!(MATRIX_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`${path}: unsupported file type "${format || '(none)'}"; allowed: ${MATRIX_FORMATS.join(', ')}`);
  }
  // A regular file of bounded size, read once (input-file.ts): a FIFO or /dev/zero is refused.
  const { bytes } = readInputFile(path, { text: format === '.csv' });
  if (format === '.npy') return parseNpy(bytes, path);
  if (format === '.csv') return parseCsv(bytes.toString('utf8'), path);
  return parseArrow(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// .npy

/** An (N, ...) array of numbers as N rows (the one reader, `npy.ts`; trailing dimensions flattened, C order keeps each sample contiguous). */
export function parseNpy(bytes: Buffer, path = '(npy)'): Matrix {
  const array = parseNpyArray(bytes, path);
  if (array.kind !== 'number') throw new UsageError(`${path}: an array of text; allowed: floats or integers`);
  if (array.shape.length < 1) throw new UsageError(`${path}: a scalar, shape (); allowed: an (N, ...) array with one row per sample`);
  const rows = array.shape[0];
  return { rows, cols: array.shape.slice(1).reduce((a, b) => a * b, 1), data: array.values };
}

// ---------------------------------------------------------------------------------------------
// .csv

/**
 * Parses numeric CSV. The first line is a header when any of its fields is not a number; every
 * other line must have the same number of numeric fields. Blank lines are ignored. `NaN` and
 * `Infinity` parse (and are then rejected by the comparison with their position).
 */
export function parseCsv(text: string, path = '(csv)'): Matrix {
  let records;
  try {
    records = csvRecords(text);
  } catch (error) {
    if (error instanceof UnclosedQuote) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
  const values: number[] = [];
  let cols = -1;
  let rows = 0;
  let first = true;
  for (const { fields, line } of records) {
    const numbers = fields.map(parseCsvNumber);
    if (first) {
      first = false;
      if (numbers.some((v) => v === null)) {
        cols = fields.length; // a header: it fixes the column count
        continue;
      }
    }
    const bad = numbers.findIndex((v) => v === null);
    if (bad >= 0) {
      throw new UsageError(
        `${path}: line ${line}, column ${bad + 1}: ${JSON.stringify(fields[bad])} is not a number; allowed: numeric values only (plus one optional header line)`,
      );
    }
    if (cols === -1) cols = fields.length;
    else if (fields.length !== cols) {
      throw new UsageError(`${path}: line ${line} has ${fields.length} fields, expected ${cols} like the lines before`);
    }
    for (const v of numbers) values.push(v as number);
    rows++;
  }
  return { rows, cols: Math.max(cols, 0), data: Float64Array.from(values) };
}

// ---------------------------------------------------------------------------------------------
// .arrow

async function parseArrow(bytes: Buffer, path: string): Promise<Matrix> {
  // An IPC file starts with "ARROW1"; a stream with a 0xFFFFFFFF continuation marker. arrow-js
  // reads anything else as an empty table, so check first.
  const isFile = bytes.subarray(0, 6).toString('latin1') === 'ARROW1';
  const isStream = bytes.length >= 4 && bytes.readUInt32LE(0) === 0xffffffff;
  if (!isFile && !isStream) throw new UsageError(`${path}: not a readable Arrow IPC file (no Arrow file or stream header)`);
  const arrow = await import('apache-arrow');
  let table: import('apache-arrow').Table;
  try {
    table = arrow.tableFromIPC(bytes);
  } catch (error) {
    throw new UsageError(`${path}: not a readable Arrow IPC file (${(error as Error).message})`);
  }
  const rows = table.numRows;
  const fields = table.schema.fields;
  const listIndex = fields.findIndex((f) => f.type.typeId === arrow.Type.FixedSizeList);
  if (listIndex >= 0) {
    const column = table.getChildAt(listIndex);
    const width = (fields[listIndex].type as import('apache-arrow').FixedSizeList).listSize;
    const data = new Float64Array(rows * width);
    if (column !== null && copyPlainFloatChunks(column, width, data)) return { rows, cols: width, data };
    if (column !== null) {
      for (let i = 0; i < rows; i++) {
        const row = column.get(i) as import('apache-arrow').Vector | null;
        if (row === null) {
          data.fill(Number.NaN, i * width, (i + 1) * width); // a null row: rejected later as NaN
          continue;
        }
        for (let k = 0; k < width; k++) {
          const v = row.get(k) as number | bigint | null;
          data[i * width + k] = v === null ? Number.NaN : Number(v);
        }
      }
    }
    return { rows, cols: width, data };
  }
  const numeric = fields
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.type.typeId === arrow.Type.Int || f.type.typeId === arrow.Type.Float);
  if (numeric.length === 0) {
    throw new UsageError(`${path}: no usable column; allowed: a FixedSizeList column of numbers, or numeric (int/float) columns`);
  }
  const cols = numeric.length;
  const data = new Float64Array(rows * cols);
  numeric.forEach(({ i: columnIndex }, c) => {
    const column = table.getChildAt(columnIndex);
    for (let i = 0; i < rows; i++) {
      const v = column?.get(i) as number | bigint | null | undefined;
      data[i * cols + c] = v === null || v === undefined ? Number.NaN : Number(v);
    }
  });
  return { rows, cols, data };
}

/**
 * Fast path: copies a FixedSizeList<Float32|Float64> column without nulls straight from its value
 * buffers (arrow-js slices children along with their parent, so `values` starts at the chunk's
 * first row). Returns false, copying nothing useful, when the column needs the general path.
 */
function copyPlainFloatChunks(column: import('apache-arrow').Vector, width: number, out: Float64Array): boolean {
  let row = 0;
  for (const chunk of column.data) {
    const child = chunk.children[0];
    const values = child?.values as unknown;
    if (chunk.nullCount > 0 || child === undefined || child.nullCount > 0) return false;
    if (!(values instanceof Float32Array || values instanceof Float64Array)) return false;
    if (values.length < chunk.length * width) return false;
    for (let t = 0; t < chunk.length * width; t++) out[row * width + t] = values[t];
    row += chunk.length;
  }
  return true;
}
