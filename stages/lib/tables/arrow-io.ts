/**
 * Writing and reading declared tables (`define-table.ts`) as Arrow IPC files. This module imports
 * apache-arrow statically; only `define-table.ts` loads it, inside `write`/`read`, so the
 * scheduler never pays for it.
 *
 * The written schema is the declaration: the declared columns in declared order with their
 * declared types, each field nullable exactly when the column is (or when the table marks every
 * field nullable), no metadata. So a table reads the same from pyarrow, pandas or polars
 * whatever its values happen to be, and the same rows give the same bytes.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../../pipeline/fsutil.js';
import {
  Bool,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  List,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { StoreError } from '../../../pipeline/errors.js';
import { arrowTypeMatches } from '../../../pipeline/outputs.js';
import type { ColumnSpec, ColumnType, Columns, RowOf, TableDecl } from './define-table.js';

/** The Arrow type of a column; a fixed-size list needs its width, read from the rows. */
function arrowType(type: ColumnType, width: number): DataType {
  switch (type) {
    case 'Float64':
      return new Float64();
    case 'Int32':
      return new Int32();
    case 'Utf8':
      return new Utf8();
    case 'Bool':
      return new Bool();
    case 'List<Int32>':
      return new List(new Field('item', new Int32(), false));
    case 'FixedSizeList<Float32>':
      return new FixedSizeList(width, new Field('item', new Float32(), false));
  }
}

/** A fixed-size list column: every row's values, concatenated (a null row is zeros). */
function fixedSizeListVector(name: string, values: readonly unknown[], type: FixedSizeList): Vector {
  const width = type.listSize;
  const flat = new Float32Array(values.length * width);
  values.forEach((value, i) => {
    if (value === null) return;
    if (!(value instanceof Float32Array) || value.length !== width)
      throw new TypeError(`column ${name}: row ${i} is not a Float32Array of ${width} values like row 0`);
    flat.set(value, i * width);
  });
  const child = makeData({ type: type.children[0].type, length: flat.length, nullCount: 0, data: flat });
  return makeVector(makeData({ type, length: values.length, nullCount: 0, child }));
}

function widthOf(values: readonly unknown[]): number {
  const first = values.find((v) => v !== null);
  return first instanceof Float32Array ? first.length : 0;
}

/** Arrow IPC file bytes of `rows` with the declaration's schema; a null where none is allowed throws. */
export function tableBytes<C extends Columns>(decl: TableDecl<C>, rows: readonly RowOf<{ columns: C }>[]): Uint8Array {
  const fields: Field[] = [];
  const vectors: Record<string, Vector> = {};
  for (const [name, spec] of Object.entries<ColumnSpec>(decl.columns)) {
    const values = rows.map((row) => (row as Record<string, unknown>)[name] ?? null);
    const bad = spec.nullable === true ? -1 : values.indexOf(null);
    if (bad >= 0) throw new TypeError(`${decl.file}: column ${name} allows no null, but row ${bad} holds one`);
    const type = arrowType(spec.type, widthOf(values));
    fields.push(new Field(name, type, spec.nullable === true || decl.allFieldsNullable));
    vectors[name] = type instanceof FixedSizeList ? fixedSizeListVector(name, values, type) : vectorFromArray(values, type);
  }
  const schema = new Schema(fields);
  // apache-arrow infers the schema of an empty batch from its vectors (nullable or not by their
  // contents); build the one empty batch with the declared schema instead.
  const table =
    rows.length > 0
      ? new Table(schema, vectors)
      : new Table([
          new RecordBatch(
            schema,
            makeData({ type: new Struct(fields), length: 0, nullCount: 0, children: fields.map((f) => vectors[f.name].data[0]) }),
          ),
        ]);
  return tableToIPC(table, 'file');
}

/**
 * Writes a table by temp file and rename (pipeline/fsutil.ts): a partial report is rewritten in
 * the same folder of `.reports/`, and a link planted there is replaced, never written through.
 */
export async function writeTable<C extends Columns>(
  decl: TableDecl<C>,
  path: string,
  rows: readonly RowOf<{ columns: C }>[],
): Promise<void> {
  writeFileAtomic(path, tableBytes(decl, rows));
}

/** Plain JS value of an Arrow cell of a declared type. */
function plain(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'List<Int32>') return Array.from((value as Vector).toArray() as Int32Array);
  if (type === 'FixedSizeList<Float32>') return Float32Array.from((value as Vector).toArray() as Float32Array);
  return value;
}

/** Rows of a table file, checked against the declaration: every column present with its type, nulls only where allowed. */
export function rowsOfBytes<C extends Columns>(decl: TableDecl<C>, bytes: Uint8Array, path: string): RowOf<{ columns: C }>[] {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new StoreError(`${path} is not an Arrow IPC table: ${(error as Error).message}`);
  }
  const columns = Object.entries<ColumnSpec>(decl.columns).map(([name, spec]) => {
    const field = table.schema.fields.find((f) => f.name === name);
    if (field === undefined) throw new StoreError(`${path} lacks the column ${name} of ${decl.file} (docs/tables.md)`);
    if (!arrowTypeMatches(spec.type, String(field.type)))
      throw new StoreError(`${path}: column ${name} is ${String(field.type)}, declared ${spec.type} (docs/tables.md)`);
    return { name, spec, vector: table.getChild(name) as Vector };
  });
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const { name, spec, vector } of columns) {
      const value = plain(spec.type, vector.get(i));
      if (value === null && spec.nullable !== true)
        throw new StoreError(`${path}: column ${name} allows no null, but row ${i} holds one (docs/tables.md)`);
      row[name] = value;
    }
    rows.push(row);
  }
  // Checked above, column by column: each row holds exactly the declared columns with their types.
  return rows as RowOf<{ columns: C }>[];
}

export async function readTable<C extends Columns>(decl: TableDecl<C>, path: string): Promise<RowOf<{ columns: C }>[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new StoreError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return rowsOfBytes(decl, bytes, path);
}
