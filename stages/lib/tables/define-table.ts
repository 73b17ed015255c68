/**
 * One definition per table (docs/tables.md): a table's file name and its columns — Arrow type,
 * whether a value may be null, what it means — are written once, in a `defineTable` call, and
 * everything else is derived from that declaration:
 * - `RowOf<typeof T>`: the type of one row (no interface restates the columns);
 * - `T.write(path, rows)`: the Arrow IPC file with exactly the declared schema (field order,
 *   types, nullability), the same rows giving the same bytes;
 * - `T.read(path)`: typed rows, after checking the file has every declared column with its type
 *   and no null where the declaration allows none;
 * - `T.output()`: the stage output the engine checks before publishing (column -> Arrow type);
 * - `T.json(row)` and `T.jsonSchema`: a row as JSON and its zod schema (a stage's declared
 *   summary, stored in the manifest);
 * - docs/tables.md, rendered by `make docs` (`stages/table-docs.ts`).
 *
 * This module is light: apache-arrow loads inside `write`/`read` only (`arrow-io.ts`), so stage
 * declarations, which the scheduler loads on every run, may import table declarations.
 */
import { z } from 'zod';
import { table, type JsonObject, type OutputDecl } from '../../../pipeline/stage.js';

/**
 * The Arrow types a column can have, spelled as apache-arrow prints them. A fixed-size list is
 * declared without its width (`FixedSizeList<Float32>`: every row holds the same number of
 * values, known when the table is written); the engine's check accepts any width for it.
 */
export type ColumnType = 'Float64' | 'Int32' | 'Utf8' | 'Bool' | 'List<Int32>' | 'FixedSizeList<Float32>';
export const COLUMN_TYPES: readonly ColumnType[] = ['Float64', 'Int32', 'Utf8', 'Bool', 'List<Int32>', 'FixedSizeList<Float32>'];

/** One column of a table declaration. */
export interface ColumnSpec {
  readonly type: ColumnType;
  /** Whether a value may be null (missing); the row type says `| null` exactly then. Default false. */
  readonly nullable?: boolean;
  /** What the column holds, for docs/tables.md. */
  readonly doc: string;
}
export type Columns = Readonly<Record<string, ColumnSpec>>;

/** The TypeScript value of each column type. */
interface Values {
  Float64: number;
  Int32: number;
  Utf8: string;
  Bool: boolean;
  'List<Int32>': number[];
  'FixedSizeList<Float32>': Float32Array;
}
/** The JSON value of each column type: JSON has no NaN or infinity, so a float may be null. */
interface JsonValues {
  Float64: number | null;
  Int32: number;
  Utf8: string;
  Bool: boolean;
  'List<Int32>': number[];
  'FixedSizeList<Float32>': number[];
}

type CellOf<C extends ColumnSpec, V extends Values | JsonValues> = C extends { readonly nullable: true }
  ? V[C['type']] | null
  : V[C['type']];

/** One row of a declared table. */
export type RowOf<T extends { readonly columns: Columns }> = { readonly [K in keyof T['columns']]: CellOf<T['columns'][K], Values> };
/** One row of a declared table as JSON (non-finite floats become null). */
export type JsonRowOf<T extends { readonly columns: Columns }> = {
  readonly [K in keyof T['columns']]: CellOf<T['columns'][K], JsonValues>;
};

export interface TableOptions {
  /** What one row is, for docs/tables.md. */
  readonly doc: string;
  /**
   * Mark every Arrow field nullable, also where no value is ever null (what pyarrow writes by
   * default). The tables of `aggregate` and of the prediction section were written so before
   * their declarations existed; they keep their schema byte for byte. `nullable` on a column
   * still says whether its values may be null.
   */
  readonly allFieldsNullable?: boolean;
}

/** A declared table; see the module comment for what derives from it. */
export interface TableDecl<C extends Columns = Columns> {
  /** File name inside the instance directory, e.g. `metrics.arrow`. */
  readonly file: string;
  readonly doc: string;
  readonly columns: C;
  readonly allFieldsNullable: boolean;
  /** Column name -> Arrow type: what `table(...)` declares and the engine checks on publish. */
  readonly arrowTypes: Readonly<Record<keyof C & string, ColumnType>>;
  /** The output declaration of a stage that writes this table (`file`: the same layout under another name). */
  output(options?: { readonly optional?: boolean; readonly file?: string }): OutputDecl;
  /** Arrow IPC file bytes of the rows. */
  bytes(rows: readonly RowOf<{ columns: C }>[]): Promise<Uint8Array>;
  write(path: string, rows: readonly RowOf<{ columns: C }>[]): Promise<void>;
  /** The rows of a file written with this declaration; a `StoreError` naming what does not match. */
  read(path: string): Promise<RowOf<{ columns: C }>[]>;
  /** A row as JSON: non-finite floats become null, lists become arrays. */
  json(row: RowOf<{ columns: C }>): JsonRowOf<{ columns: C }> & JsonObject;
  /** The zod schema of `json(row)`: what a stage declares as its summary when the summary is a row. */
  readonly jsonSchema: z.ZodType<JsonRowOf<{ columns: C }> & JsonObject>;
}

/** Any table declaration (for code that handles every table: the docs, the tests). */
export type AnyTableDecl = TableDecl<Columns>;

const JSON_CELL: Record<ColumnType, () => z.ZodType> = {
  Float64: () => z.number().nullable(),
  Int32: () => z.number().int(),
  Utf8: () => z.string(),
  Bool: () => z.boolean(),
  'List<Int32>': () => z.array(z.number().int()),
  'FixedSizeList<Float32>': () => z.array(z.number().nullable()),
};

function jsonCell(type: ColumnType, value: unknown): unknown {
  if (value === null) return null;
  if (typeof value === 'number') return type === 'Float64' && !Number.isFinite(value) ? null : value;
  if (value instanceof Float32Array) return Array.from(value, (v) => (Number.isFinite(v) ? v : null));
  if (Array.isArray(value)) return [...value];
  return value;
}

/** Every declaration by the column map its outputs carry, so code that walks the stages' outputs finds them. */
const DECLARATIONS = new WeakMap<object, AnyTableDecl>();

/**
 * The declaration a stage output was built from (`decl.output()`), or undefined for a table
 * declared by hand: docs/tables.md and the test that every table is declared walk the stages.
 */
export function declarationOf(output: OutputDecl): AnyTableDecl | undefined {
  return output.columns === undefined ? undefined : DECLARATIONS.get(output.columns);
}

/**
 * Declares a table: its file name, its columns in file order and what a row is. Declare each
 * table once, in `stages/lib/tables/`; a table with the same layout under another name (the
 * dataset splits) uses `output({ file })`.
 */
export function defineTable<const C extends Columns>(file: string, columns: C, options: TableOptions): TableDecl<C> {
  type Row = RowOf<{ columns: C }>;
  type JsonRow = JsonRowOf<{ columns: C }> & JsonObject;
  const names = Object.keys(columns) as (keyof C & string)[];
  const arrowTypes = Object.fromEntries(names.map((name) => [name, columns[name].type])) as Record<keyof C & string, ColumnType>;
  const shape = Object.fromEntries(
    names.map((name) => {
      const cell = JSON_CELL[columns[name].type]();
      return [name, columns[name].nullable === true ? cell.nullable() : cell];
    }),
  );
  const decl: TableDecl<C> = {
    file,
    doc: options.doc,
    columns,
    allFieldsNullable: options.allFieldsNullable ?? false,
    arrowTypes,
    output: (opts = {}) => table(opts.file ?? file, arrowTypes, { optional: opts.optional }),
    async bytes(rows: readonly Row[]): Promise<Uint8Array> {
      const { tableBytes } = await import('./arrow-io.js');
      return tableBytes(decl, rows);
    },
    async write(path: string, rows: readonly Row[]): Promise<void> {
      const { writeTable } = await import('./arrow-io.js');
      await writeTable(decl, path, rows);
    },
    async read(path: string): Promise<Row[]> {
      const { readTable } = await import('./arrow-io.js');
      return readTable(decl, path);
    },
    // The compiler cannot follow a mapped type through Object.fromEntries: the rows and the schema
    // are built column by column from the same declaration (and tests/tables.test.ts checks them).
    json: (row: Row): JsonRow => Object.fromEntries(names.map((name) => [name, jsonCell(columns[name].type, row[name])])) as JsonRow,
    jsonSchema: z.strictObject(shape) as unknown as z.ZodType<JsonRow>,
  };
  DECLARATIONS.set(arrowTypes, decl);
  return decl;
}
