/**
 * `defrost export KEY|DIR [--table T] --format csv|json|npy [--out FILE]`: one Arrow table of
 * an instance in a format other tools read. CSV expands list columns (e.g. `features`) into
 * `name_0..name_{d-1}`; JSON is an array of row objects; npy is an array of rows — a
 * FixedSizeList<Float32> column as float32 (rows x dim, or rows x 28 x 28 x 1 when the table's
 * `shape` metadata describes each row), otherwise the numeric columns stacked
 * as float64 (rows x columns). `--column C` picks one column.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Table } from 'apache-arrow';
import { UsageError } from '../errors.js';
import { isWithin } from '../store.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';

interface ExportOptions {
  store?: string;
  table?: string;
  format?: string;
  out?: string;
  column?: string;
}

const FORMATS = ['csv', 'json', 'npy'];

export function registerExportCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('export')
    .argument('<ref>', 'instance key, unique key prefix, or instance directory')
    .description('export an Arrow table of an instance as CSV, JSON or NumPy .npy')
    .option('--table <file>', 'which .arrow file (default: the only one)')
    .requiredOption('--format <format>', 'csv|json|npy')
    .option('--column <name>', 'export only this column')
    .option('--out <file>', 'write here instead of stdout');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (ref: string, options: ExportOptions) => {
      const format = options.format ?? '';
      if (!FORMATS.includes(format)) throw new UsageError(`--format: got ${JSON.stringify(format)}; allowed: ${FORMATS.join(', ')}`);
      const store = storeFrom(options);
      if (options.out !== undefined) refuseInsideStore(store.root, options.out);
      const inst = store.resolve(ref);
      const tables = inst.manifest.files.filter((f) => f.path.endsWith('.arrow')).map((f) => f.path);
      let file: string;
      if (options.table !== undefined) {
        const wanted = options.table.endsWith('.arrow') ? options.table : `${options.table}.arrow`;
        if (!tables.includes(wanted))
          throw new UsageError(`--table: got ${JSON.stringify(options.table)}; allowed: ${tables.join(', ') || '(no tables)'}`);
        file = wanted;
      } else if (tables.length === 1) file = tables[0];
      else
        throw new UsageError(
          `${inst.stage} ${inst.key} has ${tables.length === 0 ? 'no tables' : `several tables; pick one with --table: ${tables.join(', ')}`}`,
        );
      const { readArrowTable } = await import('../arrow.js');
      let table = await readArrowTable(join(inst.dir, file));
      if (options.column !== undefined) {
        const names = table.schema.fields.map((f) => f.name);
        if (!names.includes(options.column))
          throw new UsageError(`--column: got ${JSON.stringify(options.column)}; allowed: ${names.join(', ')}`);
        table = table.select([options.column]);
      }
      const data = format === 'csv' ? toCsv(table) : format === 'json' ? toJson(table) : await toNpy(table);
      if (options.out) writeFileSync(options.out, data);
      else process.stdout.write(data);
      return 0;
    }),
  );
}

/**
 * `--out` must not land in the store: a published file overwritten by an export would be a
 * damaged result (and the store's own files are the engine's alone). Judged on the real path of
 * the output's directory, so a symlink into the store is caught too.
 */
function refuseInsideStore(storeRoot: string, out: string): void {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const target = join(real(dirname(resolve(out))), basename(out));
  if (isWithin(real(storeRoot), target) || isWithin(resolve(storeRoot), resolve(out)))
    throw new UsageError(`--out ${out} is inside the store ${storeRoot}; defrost never writes there on request — choose a path outside it`);
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'bigint' ? value.toString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function isListType(typeName: string): boolean {
  return /^(FixedSizeList|List)/.test(typeName);
}

function toCsv(table: Table): string {
  const fields = table.schema.fields;
  const header: string[] = [];
  const widths: number[] = [];
  for (const f of fields) {
    if (isListType(String(f.type))) {
      const listSize = (f.type as { listSize?: number }).listSize;
      const width = listSize ?? maxListLength(table, f.name);
      widths.push(width);
      for (let i = 0; i < width; i++) header.push(`${f.name}_${i}`);
    } else {
      widths.push(-1);
      header.push(f.name);
    }
  }
  const lines = [header.map(csvCell).join(',')];
  const cols = fields.map((f) => table.getChild(f.name));
  for (let r = 0; r < table.numRows; r++) {
    const cells: string[] = [];
    fields.forEach((_f, c) => {
      const v = cols[c]?.get(r) as unknown;
      if (widths[c] >= 0) {
        const arr = v === null || v === undefined ? [] : Array.from((v as { toArray(): ArrayLike<unknown> }).toArray());
        for (let i = 0; i < widths[c]; i++) cells.push(csvCell(arr[i]));
      } else cells.push(csvCell(v));
    });
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

function maxListLength(table: Table, name: string): number {
  const col = table.getChild(name);
  let max = 0;
  for (let r = 0; r < table.numRows; r++) {
    const v = col?.get(r) as { length?: number } | null;
    if (v && typeof v.length === 'number') max = Math.max(max, v.length);
  }
  return max;
}

function toJson(table: Table): string {
  // Lazy import keeps this module light; arrow.ts is already loaded by the caller.
  return `${JSON.stringify(rowsOf(table))}\n`;
}

function rowsOf(table: Table): unknown[] {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n));
  const rows: unknown[] = [];
  for (let r = 0; r < table.numRows; r++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, c) => {
      row[n] = plain(cols[c]?.get(r));
    });
    rows.push(row);
  }
  return rows;
}

function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'object' && typeof (v as { toArray?: unknown }).toArray === 'function')
    return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), plain);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, plain);
  return v;
}

/** NumPy .npy v1.0: magic, header dict padded to 64 bytes, little-endian C-order data. */
function npy(descr: '<f4' | '<f8', shape: readonly number[], data: Float32Array | Float64Array): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/**
 * The per-row shape of a vector column: the table's `shape` metadata (e.g. `[28,28,1]`, written
 * by generate-data) when it describes exactly `dim` values, so images export as N x 28 x 28 x 1
 * as numpy users expect; otherwise `[dim]`.
 */
function rowShape(table: Table, dim: number): number[] {
  const text = table.schema.metadata.get('shape');
  if (text !== undefined) {
    try {
      const shape = JSON.parse(text) as unknown;
      if (
        Array.isArray(shape) &&
        shape.length > 0 &&
        shape.every((d) => Number.isInteger(d) && d > 0) &&
        (shape as number[]).reduce((a, b) => a * b, 1) === dim
      )
        return shape as number[];
    } catch {
      // Not JSON: fall back to the flat layout.
    }
  }
  return [dim];
}

async function toNpy(table: Table): Promise<Buffer> {
  const { Type } = await import('apache-arrow');
  const fields = table.schema.fields;
  const rows = table.numRows;
  const fsl = fields.filter((f) => f.type.typeId === Type.FixedSizeList);
  if (fsl.length === 1) {
    // The table's one vector column (e.g. `features`); pick another column with --column.
    const f = fsl[0];
    const dim = (f.type as unknown as { listSize: number }).listSize;
    const child = (f.type as unknown as { children: { type: { typeId: number; precision?: number } }[] }).children[0];
    const isF32 = child.type.typeId === Type.Float && child.type.precision === 1;
    const out = isF32 ? new Float32Array(rows * dim) : new Float64Array(rows * dim);
    const col = table.getChild(f.name);
    let row = 0;
    for (const chunk of col?.data ?? []) {
      const values = chunk.children[0]?.values as Float32Array | Float64Array | undefined;
      if (chunk.nullCount === 0 && values !== undefined && values.constructor === out.constructor) {
        // Contiguous child values: copy the chunk at once instead of row by row.
        out.set(values.subarray(chunk.offset * dim, (chunk.offset + chunk.length) * dim), row * dim);
      } else {
        for (let r = 0; r < chunk.length; r++) {
          const v = col?.get(row + r) as { toArray(): ArrayLike<number> } | null;
          if (v) out.set(Array.from(v.toArray(), Number), (row + r) * dim);
          else out.fill(Number.NaN, (row + r) * dim, (row + r + 1) * dim);
        }
      }
      row += chunk.length;
    }
    return npy(isF32 ? '<f4' : '<f8', [rows, ...rowShape(table, dim)], out);
  }
  const numeric = fields.filter((f) => [Type.Int, Type.Float, Type.Bool].includes(f.type.typeId));
  if (numeric.length === 0)
    throw new UsageError(`no numeric column to export as npy (columns: ${fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ')})`);
  const out = new Float64Array(rows * numeric.length);
  const cols = numeric.map((f) => table.getChild(f.name));
  for (let r = 0; r < rows; r++)
    cols.forEach((col, c) => {
      const v = col?.get(r) as unknown;
      out[r * numeric.length + c] = v === null || v === undefined ? Number.NaN : Number(v);
    });
  return npy('<f8', [rows, numeric.length], out);
}
