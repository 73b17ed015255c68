/**
 * Reading (and, for tests and benchmarks, writing) representation matrices: rows = samples,
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
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError } from '../../../pipeline/errors.js';
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
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String((error as Error).message);
    throw new UsageError(`${path}: cannot read the file (${why})`);
  }
  if (format === '.npy') return parseNpy(bytes, path);
  if (format === '.csv') return parseCsv(bytes.toString('utf8'), path);
  return parseArrow(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html)

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Parses a .npy file of float32/float64 in C order. */
export function parseNpy(bytes: Buffer, path = '(npy)'): Matrix {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(NPY_MAGIC)) {
    throw new UsageError(`${path}: not a .npy file (missing the \\x93NUMPY magic string)`);
  }
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = bytes.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new UsageError(`${path}: truncated .npy header`);
    headerLength = bytes.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new UsageError(`${path}: unsupported .npy format version ${major}; allowed: 1, 2, 3`);
  }
  if (headerStart + headerLength > bytes.length) throw new UsageError(`${path}: truncated .npy header`);
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new UsageError(`${path}: malformed .npy header: ${header.trim()}`);
  }
  if (fortran === 'True') {
    throw new UsageError(`${path}: the array is in Fortran (column-major) order; allowed: C order (save it with np.ascontiguousarray)`);
  }
  // `=` is the machine's native order: little-endian on every machine defrost runs on.
  const reader = NPY_READERS[descr.startsWith('=') ? `<${descr.slice(1)}` : descr];
  if (reader === undefined)
    throw new UsageError(
      `${path}: unsupported dtype "${descr}"; allowed: little-endian floats or integers (${Object.keys(NPY_READERS).join(', ')})`,
    );
  const itemSize = reader.size;
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.length < 1 || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new UsageError(`${path}: array shape (${shapeText}) is not allowed; allowed: an (N, ...) array with one row per sample`);
  }
  // (N, d1, d2, ...) -> N rows of d1*d2*... features (C order keeps each sample contiguous).
  const rows = shape[0];
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  const count = rows * cols;
  if (bytes.length - dataStart < count * itemSize) {
    throw new UsageError(
      `${path}: truncated .npy data: shape (${shapeText}) needs ${count * itemSize} bytes, the file has ${bytes.length - dataStart}`,
    );
  }
  const offset = bytes.byteOffset + dataStart;
  let data: Float64Array;
  if (descr.endsWith('f8') && offset % 8 === 0 && littleEndianHost())
    data = new Float64Array(bytes.buffer.slice(offset, offset + 8 * count));
  else if (descr.endsWith('f4') && offset % 4 === 0 && littleEndianHost())
    // Aligned (the .npy header pads the data to 64 bytes): read through a typed-array view.
    data = Float64Array.from(new Float32Array(bytes.buffer, offset, count));
  else {
    data = new Float64Array(count);
    const view = new DataView(bytes.buffer, offset, count * itemSize);
    for (let t = 0; t < count; t++) data[t] = reader.read(view, t * itemSize);
  }
  return { rows, cols, data };
}

/** The numpy dtypes `compare` reads, as values (integers become floats exactly up to 2^53). */
const NPY_READERS: Record<string, { size: number; read(view: DataView, at: number): number }> = {
  '<f4': { size: 4, read: (v, at) => v.getFloat32(at, true) },
  '<f8': { size: 8, read: (v, at) => v.getFloat64(at, true) },
  '|i1': { size: 1, read: (v, at) => v.getInt8(at) },
  '|u1': { size: 1, read: (v, at) => v.getUint8(at) },
  '|b1': { size: 1, read: (v, at) => v.getUint8(at) },
  '<i2': { size: 2, read: (v, at) => v.getInt16(at, true) },
  '<u2': { size: 2, read: (v, at) => v.getUint16(at, true) },
  '<i4': { size: 4, read: (v, at) => v.getInt32(at, true) },
  '<u4': { size: 4, read: (v, at) => v.getUint32(at, true) },
  '<i8': { size: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  '<u8': { size: 8, read: (v, at) => Number(v.getBigUint64(at, true)) },
};

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Serialises a matrix as a version 1.0 .npy file (float64 or float32, C order). */
export function encodeNpy(m: Matrix, dtype: 'float64' | 'float32' = 'float64'): Buffer {
  const descr = dtype === 'float64' ? '<f8' : '<f4';
  const itemSize = dtype === 'float64' ? 8 : 4;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = Buffer.alloc(total + m.rows * m.cols * itemSize);
  NPY_MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const d = m.data;
  if (itemSize === 8) for (let t = 0; t < d.length; t++) out.writeDoubleLE(d[t], total + 8 * t);
  else for (let t = 0; t < d.length; t++) out.writeFloatLE(d[t], total + 4 * t);
  return out;
}

export async function writeNpy(path: string, m: Matrix, dtype: 'float64' | 'float32' = 'float64'): Promise<void> {
  await writeFile(path, encodeNpy(m, dtype));
}

// ---------------------------------------------------------------------------------------------
// .csv

/**
 * Parses numeric CSV. The first line is a header when any of its fields is not a number; every
 * other line must have the same number of numeric fields. Blank lines are ignored. `NaN` and
 * `Infinity` parse (and are then rejected by the comparison with their position).
 */
export function parseCsv(text: string, path = '(csv)'): Matrix {
  const lines = text.split(/\r?\n/);
  const values: number[] = [];
  let cols = -1;
  let rows = 0;
  let first = true;
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (line.length === 0) continue;
    const fields = line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
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
        `${path}: line ${ln + 1}, column ${bad + 1}: "${fields[bad]}" is not a number; allowed: numeric values only (plus one optional header line)`,
      );
    }
    if (cols === -1) cols = fields.length;
    else if (fields.length !== cols) {
      throw new UsageError(`${path}: line ${ln + 1} has ${fields.length} fields, expected ${cols} like the lines before`);
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
