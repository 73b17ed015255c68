/**
 * Reading and writing the report's Arrow IPC tables. This module imports apache-arrow
 * statically, so only code that runs inside `aggregate.run` or a command action may import it
 * (dynamically): the scheduler must not pay for it on a cached run.
 *
 * Column types are explicit (nullable Float64 correlation, Int32 sizes and depths), so a table
 * reads the same from Python/pandas whatever the values happen to be.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Field, Float64, Int32, List, Schema, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { OPTIMAL_DEPTH_COLUMNS, RESULT_COLUMNS, SIMILARITY_COLUMNS, type ColumnKind } from './columns.js';
import type { OptimalDepthRow, ResultRow, SimilarityRow } from '../report/types.js';

const ARROW_TYPE: Record<ColumnKind, () => DataType> = {
  float: () => new Float64(),
  int: () => new Int32(),
  string: () => new Utf8(),
  int_list: () => new List(new Field('item', new Int32(), false)),
};

export { OPTIMAL_DEPTH_COLUMNS, RESULT_COLUMNS, SIMILARITY_COLUMNS };

/** Serialises rows to Arrow IPC file bytes with the given column types (every column nullable). */
export function rowsToIPC<R extends object>(rows: readonly R[], columns: Record<keyof R & string, ColumnKind>): Uint8Array {
  const names = Object.keys(columns) as (keyof R & string)[];
  const fields = names.map((name) => new Field(name, ARROW_TYPE[columns[name]](), true));
  const vectors = Object.fromEntries(
    names.map((name, i) => [
      name,
      vectorFromArray(
        rows.map((r) => (r as Record<string, unknown>)[name] ?? null),
        fields[i].type,
      ),
    ]),
  );
  const table = new Table(new Schema(fields), vectors);
  return tableToIPC(table, 'file');
}

export async function writeRows<R extends object>(
  file: string,
  rows: readonly R[],
  columns: Record<keyof R & string, ColumnKind>,
): Promise<void> {
  await writeFile(file, rowsToIPC(rows, columns));
}

/** Plain JS value of an Arrow cell: BigInt to number, a list to an array, everything else as is. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value !== null && typeof value === 'object' && 'toArray' in value && typeof value.toArray === 'function')
    return Array.from(value.toArray() as ArrayLike<unknown>, plain);
  return value;
}

/** Reads any Arrow IPC table into plain row objects. */
export async function readRows(file: string): Promise<Record<string, unknown>[]> {
  const table = tableFromIPC(await readFile(file));
  const names = table.schema.fields.map((f) => f.name);
  const columns = names.map((name) => table.getChild(name));
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((name, j) => {
      row[name] = plain(columns[j]?.get(i) ?? null);
    });
    rows.push(row);
  }
  return rows;
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * Reads one similarity instance's `similarity.arrow` (long format: correlation, block_a,
 * block_b, measure, value). A missing correlation column falls back to the instance's coords.
 */
export async function readSimilarity(file: string, correlation: number | null): Promise<SimilarityRow[]> {
  return (await readRows(file)).map((r) => ({
    correlation: 'correlation' in r ? toNumber(r.correlation) : correlation,
    block_a: toNumber(r.block_a) ?? 0,
    block_b: toNumber(r.block_b) ?? 0,
    measure: String(r.measure),
    value: toNumber(r.value),
  }));
}

/** Whether a cell holds what a column of this kind was written with (every column is nullable). */
function fits(value: unknown, kind: ColumnKind): boolean {
  if (value === null) return true;
  if (kind === 'string') return typeof value === 'string';
  if (kind === 'int_list') return Array.isArray(value) && value.every((v) => typeof v === 'number');
  return typeof value === 'number';
}

function hasColumns<R>(row: Record<string, unknown>, columns: Record<keyof R & string, ColumnKind>): row is Record<string, unknown> & R {
  return Object.entries<ColumnKind>(columns).every(([name, kind]) => name in row && fits(row[name], kind));
}

/** Rows of a table written with `columns`, checked cell by cell: another table's rows are an error, not mistyped rows. */
async function readTyped<R>(file: string, columns: Record<keyof R & string, ColumnKind>): Promise<R[]> {
  const rows: R[] = [];
  for (const [i, row] of (await readRows(file)).entries()) {
    if (!hasColumns<R>(row, columns)) throw new TypeError(`${file}: row ${i} does not have the columns ${Object.keys(columns).join(', ')}`);
    rows.push(row);
  }
  return rows;
}

export async function readOptimalDepth(file: string): Promise<OptimalDepthRow[]> {
  return readTyped<OptimalDepthRow>(file, OPTIMAL_DEPTH_COLUMNS);
}

export async function readResults(file: string): Promise<ResultRow[]> {
  return readTyped<ResultRow>(file, RESULT_COLUMNS);
}
