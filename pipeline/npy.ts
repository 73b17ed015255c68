/**
 * Arrow table -> NumPy `.npy` (format 1.0), keeping what the table says (docs/engine.md#export):
 *
 * - one column (`--column C`, or a one-column table): a plain array of that column's own dtype,
 *   shape (N,) for scalars — Int32 labels give int32 (N,) — and (N, ...row shape) for a
 *   fixed-size list (`features` as float32 (N, 28, 28, 1) when the table's `shape` metadata
 *   says so);
 * - several columns: a structured array with one field per column, in table order (numpy reads
 *   it as `x['mode']`, `x['features']`); text becomes fixed-width unicode (`<U7`).
 *
 * Nothing is dropped silently. What npy cannot hold is an error naming the column (a nested
 * list of variable length, a map...). Nulls: float columns use NaN; an integer column with nulls
 * becomes float64 with NaN, a text column '' — each said in a note.
 */
import type { Field, Table } from 'apache-arrow';
import { UsageError } from './errors.js';

/** How one column is written: numpy type string, bytes per row, and the writer. */
interface ColumnCodec {
  readonly name: string;
  /** numpy scalar type string, e.g. `<f4`, `<i4`, `|b1`, `<U7`. */
  readonly descr: string;
  /** Per-row shape of a fixed-size list column; [] for scalars. */
  readonly rowShape: readonly number[];
  readonly rowBytes: number;
  write(view: DataView, offset: number, row: number): void;
}

// apache-arrow's Type enum values (stable across versions; avoids importing the library here).
const T = { Int: 2, Float: 3, Utf8: 5, Bool: 6, LargeUtf8: 20, List: 12, FixedSizeList: 16, Dictionary: -1 } as const;

interface ArrowTypeLike {
  typeId: number;
  bitWidth?: number;
  isSigned?: boolean;
  precision?: number;
  listSize?: number;
  children?: { type: ArrowTypeLike }[];
  dictionary?: ArrowTypeLike;
  toString(): string;
}

interface ColumnLike {
  readonly length: number;
  readonly nullCount: number;
  get(row: number): unknown;
}

/** numpy type string and byte size of a scalar Arrow type, or null when npy has no equivalent. */
function scalarDescr(type: ArrowTypeLike): { descr: string; bytes: number; kind: 'int' | 'uint' | 'float' | 'bool' } | null {
  if (type.typeId === T.Int && type.bitWidth !== undefined) {
    const bytes = type.bitWidth / 8;
    return { descr: `${bytes === 1 ? '|' : '<'}${type.isSigned ? 'i' : 'u'}${bytes}`, bytes, kind: type.isSigned ? 'int' : 'uint' };
  }
  if (type.typeId === T.Float) {
    const bytes = [2, 4, 8][type.precision ?? 2]!;
    return { descr: `<f${bytes}`, bytes, kind: 'float' };
  }
  if (type.typeId === T.Bool) return { descr: '|b1', bytes: 1, kind: 'bool' };
  return null;
}

function isText(type: ArrowTypeLike): boolean {
  if (type.typeId === T.Utf8 || type.typeId === T.LargeUtf8) return true;
  return type.typeId === T.Dictionary && type.dictionary !== undefined && isText(type.dictionary);
}

function writeScalar(view: DataView, offset: number, descr: string, value: number | bigint | boolean): void {
  switch (descr.slice(1)) {
    case 'f2':
      view.setUint16(offset, float16Bits(Number(value)), true);
      return;
    case 'f4':
      view.setFloat32(offset, Number(value), true);
      return;
    case 'f8':
      view.setFloat64(offset, Number(value), true);
      return;
    case 'i1':
      view.setInt8(offset, Number(value));
      return;
    case 'u1':
    case 'b1':
      view.setUint8(offset, Number(value));
      return;
    case 'i2':
      view.setInt16(offset, Number(value), true);
      return;
    case 'u2':
      view.setUint16(offset, Number(value), true);
      return;
    case 'i4':
      view.setInt32(offset, Number(value), true);
      return;
    case 'u4':
      view.setUint32(offset, Number(value), true);
      return;
    case 'i8':
      view.setBigInt64(offset, BigInt(value), true);
      return;
    case 'u8':
      view.setBigUint64(offset, BigInt(value), true);
      return;
    default:
      throw new Error(`npy: no writer for ${descr}`);
  }
}

/** IEEE half-precision bits of a number (round to nearest; for Float16 columns, which are rare). */
function float16Bits(x: number): number {
  const f32 = new Float32Array([x]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (Number.isNaN(x)) return 0x7e00;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return sign | (exp < -10 ? 0 : ((mant | 0x800000) >> (1 - exp + 13)) & 0x3ff);
  return sign | (exp << 10) | (mant >> 13);
}

/** The per-row shape of a vector column: the table's `shape` metadata when it fits, else [dim]. */
export function rowShapeOf(table: Table, dim: number): number[] {
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
      // Not JSON: the flat layout.
    }
  }
  return [dim];
}

/** A column npy has no type for (a list of varying length, a map...): named, with the reason. */
export class NpyColumnError extends UsageError {
  constructor(
    readonly column: string,
    readonly type: string,
    readonly why: string,
  ) {
    super(
      `column ${JSON.stringify(column)} (${type}) cannot be written to npy: ${why}. ` +
        'Export it as csv or json (--format csv), or leave it out (--drop, or pick others with --columns).',
    );
  }
}

function cannotHold(field: Field, why: string): NpyColumnError {
  return new NpyColumnError(field.name, String(field.type), why);
}

function codecOf(table: Table, field: Field, note: (text: string) => void): ColumnCodec {
  const type = field.type as unknown as ArrowTypeLike;
  const column = table.getChild(field.name) as unknown as ColumnLike;
  const nulls = column.nullCount;
  const scalar = scalarDescr(type);
  if (scalar !== null) {
    let { descr, bytes } = scalar;
    if (nulls > 0 && scalar.kind === 'bool') throw cannotHold(field, `it has ${nulls} null value(s) and npy booleans have no null`);
    if (nulls > 0 && scalar.kind !== 'float') {
      note(`column ${field.name}: ${nulls} null value(s), which ${descr} cannot hold: written as float64 with NaN for null`);
      descr = '<f8';
      bytes = 8;
    }
    const d = descr;
    return {
      name: field.name,
      descr: d,
      rowShape: [],
      rowBytes: bytes,
      write: (view, offset, row) => {
        const v = column.get(row) as number | bigint | boolean | null;
        writeScalar(view, offset, d, v === null || v === undefined ? Number.NaN : v);
      },
    };
  }
  if (isText(type)) {
    let width = 1;
    for (let r = 0; r < table.numRows; r++) {
      const v = column.get(r);
      if (typeof v === 'string') width = Math.max(width, [...v].length);
    }
    if (nulls > 0) note(`column ${field.name}: ${nulls} null value(s) written as the empty string`);
    return {
      name: field.name,
      descr: `<U${width}`,
      rowShape: [],
      rowBytes: 4 * width,
      write: (view, offset, row) => {
        const v = column.get(row);
        let i = 0;
        for (const ch of typeof v === 'string' ? v : '') view.setUint32(offset + 4 * i++, ch.codePointAt(0)!, true);
      },
    };
  }
  if (type.typeId === T.FixedSizeList && type.listSize !== undefined && type.children?.[0] !== undefined) {
    const child = scalarDescr(type.children[0].type);
    if (child === null) throw cannotHold(field, `its items are ${String(type.children[0].type)}`);
    const dim = type.listSize;
    const descr = child.kind === 'float' ? child.descr : nulls > 0 ? '<f8' : child.descr;
    const bytes = descr === '<f8' ? 8 : child.bytes;
    if (nulls > 0) note(`column ${field.name}: ${nulls} null row(s) written as NaN`);
    return {
      name: field.name,
      descr,
      rowShape: rowShapeOf(table, dim),
      rowBytes: bytes * dim,
      write: (view, offset, row) => {
        const v = column.get(row) as { toArray(): ArrayLike<number | bigint | boolean> } | null;
        const values = v === null ? null : v.toArray();
        for (let i = 0; i < dim; i++) writeScalar(view, offset + i * bytes, descr, values === null ? Number.NaN : values[i]!);
      },
    };
  }
  throw cannotHold(field, type.typeId === T.List ? 'npy has no type for lists of varying length' : 'npy has no type for it');
}

/**
 * The one `.npy` writer (format 1.0, C order, little-endian data as it lies in memory): the
 * header for `descr` (numpy's dtype text: `'<f4'` with its quotes, or a structured list) and
 * `shape`, then the data. `export` writes tables with it; the stages write arrays with it
 * (`stages/lib/formats/npy.ts`).
 */
export function npyBytes(descr: string, shape: readonly number[], data: ArrayBufferView): Buffer {
  return Buffer.concat([header(descr, shape), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function header(descr: string, shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let text = `{'descr': ${descr}, 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + text.length + 1;
  text += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(text.length, 8);
  return Buffer.concat([pre, Buffer.from(text, 'latin1')]);
}

function tupleText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Fast path: one fixed-size list column whose chunks hold contiguous values of the output type. */
function copyVectorColumn(table: Table, codec: ColumnCodec, out: Buffer): boolean {
  const column = table.getChild(codec.name) as unknown as {
    data: { nullCount: number; offset: number; length: number; children: { values?: ArrayBufferView }[] }[];
  } | null;
  if (column === null) return false;
  const rowBytes = codec.rowBytes;
  let at = 0;
  for (const chunk of column.data) {
    const values = chunk.children[0]?.values;
    if (chunk.nullCount !== 0 || values === undefined) return false;
    const bytesPer = rowBytes / codec.rowShape.reduce((a, b) => a * b, 1);
    if ((values as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT !== bytesPer) return false;
    const src = Buffer.from(values.buffer, values.byteOffset + chunk.offset * rowBytes, chunk.length * rowBytes);
    src.copy(out, at);
    at += chunk.length * rowBytes;
  }
  return at === out.length;
}

/**
 * The .npy bytes of a table (see the module comment); `note` receives conversions worth saying.
 * With `leaveOut`, a column npy cannot hold is left out and named in a note (a whole table was
 * asked for); without, it is an error naming it (the user picked that column).
 */
export function tableToNpy(table: Table, note: (text: string) => void = () => {}, options: { leaveOut?: boolean } = {}): Buffer {
  const fields = table.schema.fields;
  if (fields.length === 0) throw new UsageError('the table has no columns to export');
  const codecs: ColumnCodec[] = [];
  const left: NpyColumnError[] = [];
  for (const f of fields) {
    try {
      codecs.push(codecOf(table, f, note));
    } catch (error) {
      if (!(options.leaveOut && error instanceof NpyColumnError)) throw error;
      left.push(error);
    }
  }
  if (codecs.length === 0) throw left[0] ?? new UsageError('the table has no columns to export');
  for (const e of left)
    note(
      `column ${e.column} (${e.type}) left out: ${e.why}; --format csv or json keeps it (--drop ${e.column} says so and silences this note)`,
    );
  const rows = table.numRows;
  const recordBytes = codecs.reduce((s, c) => s + c.rowBytes, 0);
  const data = Buffer.alloc(rows * recordBytes);
  let descr: string;
  let shape: number[];
  if (codecs.length === 1) {
    const c = codecs[0]!;
    descr = `'${c.descr}'`;
    shape = [rows, ...c.rowShape];
    if (c.rowShape.length > 0 && copyVectorColumn(table, c, data)) return npyBytes(descr, shape, data);
  } else {
    const members = codecs
      .map((c) => (c.rowShape.length === 0 ? `('${c.name}', '${c.descr}')` : `('${c.name}', '${c.descr}', ${tupleText(c.rowShape)})`))
      .join(', ');
    descr = `[${members}]`;
    shape = [rows];
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let r = 0; r < rows; r++) {
    let offset = r * recordBytes;
    for (const c of codecs) {
      c.write(view, offset, r);
      offset += c.rowBytes;
    }
  }
  return npyBytes(descr, shape, data);
}
