/**
 * Lazy Apache Arrow helpers for `inspect`, `export` and manifest row counts. apache-arrow is
 * imported only inside these functions, so neither the scheduler nor a fully cached run pays
 * for loading it.
 */
import { readFileSync } from 'node:fs';
import type { Table } from 'apache-arrow';

export async function readArrowTable(path: string): Promise<Table> {
  const { tableFromIPC } = await import('apache-arrow');
  return tableFromIPC(readFileSync(path));
}

export async function countArrowRows(path: string): Promise<number> {
  return (await readArrowTable(path)).numRows;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
}

export function describeSchema(table: Table): { columns: ColumnInfo[]; metadata: Record<string, string> } {
  return {
    columns: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
    metadata: Object.fromEntries(table.schema.metadata),
  };
}

/** Arrow cell -> plain JSON (bigints as numbers when safe, lists and vectors as arrays). */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, toPlain);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const v = value as { toArray?: () => unknown; toJSON?: () => unknown };
    if (typeof v.toArray === 'function') return toPlain(v.toArray());
    if (typeof v.toJSON === 'function') return toPlain(v.toJSON());
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, toPlain(x)]));
  }
  return value;
}

/** The first `limit` rows as plain objects. */
export function headRows(table: Table, limit: number): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const n = Math.min(limit, table.numRows);
  const names = table.schema.fields.map((f) => f.name);
  const columns = names.map((name) => table.getChild(name));
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((name, c) => {
      row[name] = toPlain(columns[c]?.get(i));
    });
    rows.push(row);
  }
  return rows;
}
