/**
 * The writer and the one reader of every dataset defrost trains and tests on (`train.arrow`,
 * `test.arrow` in a `generate-data` instance directory), in the layout declared in
 * `dataset-layout.ts` (docs/tables.md; any Arrow reader understands it: pyarrow, pandas, polars,
 * arrow-js): a `features` FixedSizeList<Float32> and an Int32 `label` column, and the schema
 * metadata `shape`, `classes` and `provenance` (never dates, so regenerating gives identical bytes).
 *
 * Tables are written as one record batch, so reading one is a single zero-copy view of the file's
 * float buffer: loading 70,000 images is dominated by reading the file from disk.
 *
 * This module imports apache-arrow statically: stage modules must import it with
 * `await import('./dataset-table.js')` inside `run` (the scheduler must stay light).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Field, FixedSizeList, Float32, Int32, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import type { JsonObject } from '../../../pipeline/stage.js';
import type { DATASET } from './dataset-layout.js';

/** A dataset in memory: what `readDataset` returns and `writeDataset` takes. */
export interface Dataset {
  /** rows x dim values, row-major (row i is `features.subarray(i * dim, (i + 1) * dim)`). */
  readonly features: Float32Array;
  /** One class index 0..C-1 per row. */
  readonly labels: Int32Array;
  readonly rows: number;
  /** Shape of one sample, e.g. [28, 28, 1] or [256]; its product is the row width `dim`. */
  readonly shape: number[];
  /** Class names; `classes[label]` names a row's class. */
  readonly classes: string[];
}

/** What `writeDataset` records besides the data. */
export interface DatasetToWrite extends Dataset {
  /** Where the data came from (generator, params, dataset name). No dates: bytes must be stable. */
  readonly provenance: JsonObject;
}

/** The column names of the declaration (`dataset-layout.ts`), checked against it by the compiler. */
const FEATURES_COLUMN: keyof typeof DATASET.columns = 'features';
const LABEL_COLUMN: keyof typeof DATASET.columns = 'label';

/** Number of values per row for a sample shape. */
export function widthOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Builds the Arrow table of a dataset (one record batch). */
export function datasetTable(data: DatasetToWrite): Table {
  const dim = widthOf(data.shape);
  if (data.features.length !== data.rows * dim)
    throw new Error(`dataset features hold ${data.features.length} values; expected rows x dim = ${data.rows} x ${dim}`);
  if (data.labels.length !== data.rows) throw new Error(`dataset labels hold ${data.labels.length} values; expected ${data.rows}`);

  const valueType = new Float32();
  const listType = new FixedSizeList(dim, new Field('item', valueType, false));
  const values = makeData({ type: valueType, length: data.rows * dim, nullCount: 0, data: data.features });
  const features = makeData({ type: listType, length: data.rows, nullCount: 0, child: values });
  const labels = makeData({ type: new Int32(), length: data.rows, nullCount: 0, data: data.labels });

  const metadata = new Map<string, string>([
    ['shape', JSON.stringify(data.shape)],
    ['classes', JSON.stringify(data.classes)],
    ['provenance', JSON.stringify(data.provenance)],
  ]);
  const fields = [new Field(FEATURES_COLUMN, listType, false), new Field(LABEL_COLUMN, new Int32(), false)];
  const schema = new Schema(fields, metadata);
  const struct = makeData({ type: new Struct(fields), length: data.rows, nullCount: 0, children: [features, labels] });
  return new Table([new RecordBatch(schema, struct)]);
}

/** Writes a dataset as an Arrow IPC file. Same data -> identical bytes. */
export function writeDataset(file: string, data: DatasetToWrite): void {
  writeFileSync(file, tableToIPC(datasetTable(data), 'file'));
}

/** Thrown when a file is not a dataset table in the layout above. */
export class DatasetFormatError extends Error {
  constructor(file: string, problem: string) {
    super(`${file} is not a defrost dataset table: ${problem}`);
    this.name = 'DatasetFormatError';
  }
}

function parseJsonList(file: string, key: string, text: string | undefined): unknown[] | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DatasetFormatError(file, `metadata "${key}" is not JSON: ${text.slice(0, 60)}`);
  }
  if (!Array.isArray(value)) throw new DatasetFormatError(file, `metadata "${key}" is not a JSON list`);
  return value;
}

/**
 * Reads a dataset table; `limit` keeps only the first `limit` rows (a target pool's prefix is the
 * training set of that size). The returned arrays may be views of one buffer holding the file.
 */
export function readDataset(file: string, limit?: number): Dataset {
  return datasetFromBytes(readFileSync(file), file, limit);
}

/** `readDataset` of bytes already read (a user's file, read through stages/lib/formats/input-file.ts); `file` names them. */
export function datasetFromBytes(bytes: Uint8Array, file: string, limit?: number): Dataset {
  const table = tableFromIPC(bytes);
  const featureField = table.schema.fields.find((f) => f.name === FEATURES_COLUMN);
  const labelField = table.schema.fields.find((f) => f.name === LABEL_COLUMN);
  if (!featureField || !(featureField.type instanceof FixedSizeList))
    throw new DatasetFormatError(file, `no "${FEATURES_COLUMN}" FixedSizeList<Float32> column`);
  if (!labelField) throw new DatasetFormatError(file, `no "${LABEL_COLUMN}" column`);
  const dim = (featureField.type as FixedSizeList).listSize;

  const meta = table.schema.metadata;
  const shapeList = parseJsonList(file, 'shape', meta.get('shape'));
  const shape = shapeList ? shapeList.map(Number) : [dim];
  if (widthOf(shape) !== dim) throw new DatasetFormatError(file, `shape ${JSON.stringify(shape)} does not match row width ${dim}`);

  const rows = limit === undefined ? table.numRows : Math.max(0, Math.min(limit, table.numRows));
  const classList = parseJsonList(file, 'classes', meta.get('classes'));

  const features = gatherFeatures(file, table, rows, dim);
  const labels = gatherLabels(table, rows);
  let maxLabel = -1;
  for (let i = 0; i < rows; i++) if (labels[i] > maxLabel) maxLabel = labels[i];
  const classes = classList ? classList.map(String) : Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  return { features, labels, rows, shape, classes };
}

/** The first `rows` feature rows as one Float32Array: a view when the table is one batch. */
function gatherFeatures(file: string, table: Table, rows: number, dim: number): Float32Array {
  const column = table.getChild(FEATURES_COLUMN);
  if (!column) throw new Error('unreachable: features column checked above');
  const chunks = column.data;
  const valuesOf = (chunk: (typeof chunks)[number]): Float32Array => {
    // arrow-js slices value buffers and children along with the data, so `values` starts at the
    // chunk's first row.
    const values = chunk.children[0].values as unknown;
    if (!(values instanceof Float32Array)) throw new DatasetFormatError(file, 'features are not Float32');
    return values.subarray(0, chunk.length * dim);
  };
  if (chunks.length === 1) return valuesOf(chunks[0]).subarray(0, rows * dim);
  const out = new Float32Array(rows * dim);
  let row = 0;
  for (const chunk of chunks) {
    if (row >= rows) break;
    const take = Math.min(chunk.length, rows - row);
    out.set(valuesOf(chunk).subarray(0, take * dim), row * dim);
    row += take;
  }
  return out;
}

/** The first `rows` labels as one Int32Array (any integer column type is accepted). */
function gatherLabels(table: Table, rows: number): Int32Array {
  const column = table.getChild(LABEL_COLUMN);
  if (!column) throw new Error('unreachable: label column checked above');
  const out = new Int32Array(rows);
  let row = 0;
  for (const chunk of column.data) {
    if (row >= rows) break;
    const take = Math.min(chunk.length, rows - row);
    const values = chunk.values as ArrayLike<number | bigint>; // already sliced to the chunk
    if (values instanceof Int32Array) out.set(values.subarray(0, take), row);
    else for (let i = 0; i < take; i++) out[row + i] = Number(values[i]);
    row += take;
  }
  return out;
}
