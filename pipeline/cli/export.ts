/**
 * `defrost export KEY|DIR [--table T] --format csv|json|npy [--out FILE]`: one Arrow table of
 * an instance in a format other tools read. CSV expands list columns (e.g. `features`) into
 * `name_0..name_{d-1}`; JSON is an array of row objects; npy keeps each column's dtype and shape
 * (one column: a plain array; several: a structured array; see `npy.ts`). `--column C` picks one
 * column.
 */
import { existsSync, realpathSync } from 'node:fs';
import { outputFileRefusal, writeOutputFile } from '../fsutil.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Table } from 'apache-arrow';
import { resolveAddress } from '../address.js';
import { UsageError } from '../errors.js';
import { unknownName } from '../nearest-name.js';
import { isWithin } from '../store-dirs.js';
import { act, addStoreOption, requireOptions, storeFrom, type CliContext } from './context.js';

interface ExportOptions {
  store?: string;
  table?: string;
  format?: string;
  out?: string;
  column?: string;
  columns?: string;
  drop?: string;
}

const FORMATS = ['csv', 'json', 'npy'];

export function registerExportCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('export')
    .argument('<address>', 'key (or unique prefix), `last`, a run id or name, stage[name=value,...], or an instance directory')
    .description('export an Arrow table of an instance as CSV, JSON or NumPy .npy')
    .option('--table <file>', 'which .arrow file (default: the only one)')
    .option('--format <format>', 'csv|json|npy (required)')
    .option('--column <name>', 'export only this column')
    .option('--columns <list>', 'export these columns, comma-separated, in this order')
    .option('--drop <list>', 'leave out these columns, comma-separated')
    .option('--out <file>', 'write here instead of stdout');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (ref: string, given: ExportOptions) => {
      const options = requireOptions(given, { format: '--format <format>' });
      const format = options.format;
      if (!FORMATS.includes(format)) throw unknownName('--format', format, FORMATS);
      const store = storeFrom(options);
      if (options.out !== undefined) {
        refuseInsideStore(store.root, options.out);
        const dir = dirname(resolve(options.out));
        if (!existsSync(dir)) throw new UsageError(`--out: the directory ${dir} does not exist; create it first (mkdir -p ${dir})`);
        const refused = outputFileRefusal(options.out);
        if (refused !== null) throw new UsageError(`--out: ${refused}`);
      }
      const inst = resolveAddress(store, ref);
      const tables = inst.manifest.files.filter((f) => f.path.endsWith('.arrow')).map((f) => f.path);
      let file: string;
      if (options.table !== undefined) {
        const wanted = options.table.endsWith('.arrow') ? options.table : `${options.table}.arrow`;
        if (!tables.includes(wanted))
          throw tables.length === 0
            ? new UsageError(`--table: ${inst.stage} ${inst.key} has no tables`)
            : unknownName(
                '--table',
                options.table,
                tables.map((t) => t.replace(/\.arrow$/, '')),
              );
        file = wanted;
      } else if (tables.length === 1) file = tables[0];
      else
        throw new UsageError(
          `${inst.stage} ${inst.key} has ${tables.length === 0 ? 'no tables' : `several tables; pick one with --table: ${tables.join(', ')}`}`,
        );
      const { readArrowTable } = await import('../arrow.js');
      let table = await readArrowTable(join(inst.dir, file));
      const picked = pickColumns(
        table.schema.fields.map((f) => f.name),
        options,
      );
      if (picked !== null) table = table.select(picked);
      const data =
        format === 'csv'
          ? toCsv(table)
          : format === 'json'
            ? toJson(table)
            : (await import('../npy.js')).tableToNpy(table, (text) => ctx.err(`note: ${text}`), {
                // A column the user picked is an error if npy cannot hold it; of a whole table it is left out, said.
                leaveOut: options.column === undefined && options.columns === undefined,
              });
      if (options.out) {
        // lstat-checked, temp file + rename: never through a symlink, never in place (fsutil.ts).
        refuseInsideStore(store.root, options.out);
        const refused = writeOutputFile(options.out, data);
        if (refused !== null) throw new UsageError(`--out: ${refused}`);
      } else process.stdout.write(data);
      return 0;
    }),
  );
}

/**
 * The columns `--column`, `--columns` and `--drop` choose (null: all of them, in table order);
 * every name must be a column of the table (the nearest one suggested).
 */
function pickColumns(names: readonly string[], options: ExportOptions): string[] | null {
  const list = (option: string, text: string): string[] => {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const item of items) if (!names.includes(item)) throw unknownName(option, item, names);
    return items;
  };
  if (options.column !== undefined && options.columns !== undefined) throw new UsageError('--column and --columns: give one of them');
  let picked: string[] | null = null;
  if (options.column !== undefined) picked = list('--column', options.column);
  if (options.columns !== undefined) picked = list('--columns', options.columns);
  if (options.drop !== undefined) {
    const dropped = list('--drop', options.drop);
    picked = (picked ?? [...names]).filter((n) => !dropped.includes(n));
    if (picked.length === 0) throw new UsageError(`--drop ${options.drop}: no column would be left to export`);
  }
  return picked;
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
