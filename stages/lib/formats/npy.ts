/**
 * The one `.npy` reader (and the stages' use of the one writer, pipeline/npy.ts). Reads NumPy
 * `.npy` files of any shape (docs/your-data.md): numbers (float, signed and unsigned
 * integers, booleans; little-endian or single-byte) or fixed-width strings (`<U`, `|S`), in C
 * order. Object arrays (what NumPy makes of ragged lists) are refused with that reason, since
 * their bytes are Python pickles, not data.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { npyBytes } from '../../../pipeline/npy.js';
import { DataFileError } from './problem.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A parsed array: `shape`, and its values in C order as numbers or as strings. */
export type NpyArray =
  | { readonly shape: number[]; readonly kind: 'number'; readonly values: Float64Array; readonly integer: boolean }
  | { readonly shape: number[]; readonly kind: 'string'; readonly values: string[] };

interface Header {
  readonly descr: string;
  readonly shape: number[];
  readonly dataStart: number;
}

function parseHeader(bytes: Buffer, file: string): Header {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC))
    throw new DataFileError(file, 'not a .npy file (no \\x93NUMPY magic string)');
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) throw new DataFileError(file, `.npy format version ${major} is not supported (1, 2 or 3)`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new DataFileError(file, 'truncated .npy header');
  const length = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = 8 + lengthBytes;
  if (start + length > bytes.length) throw new DataFileError(file, 'truncated .npy header');
  const text = bytes.toString(major === 3 ? 'utf8' : 'latin1', start, start + length);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    if (/'descr'\s*:\s*\|?O/.test(text) || /'descr'\s*:\s*'\|O'/.test(text))
      throw new DataFileError(file, 'an object array (ragged rows?): every row must have the same shape');
    throw new DataFileError(file, `malformed .npy header: ${text.trim().slice(0, 120)}`);
  }
  if (fortran === 'True') throw new DataFileError(file, 'Fortran (column-major) order; save it in C order (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw new DataFileError(file, `bad shape (${shapeText})`);
  return { descr, shape, dataStart: start + length };
}

/**
 * Parses `.npy` bytes; `file` names the file in messages. With `exactIntegers`, 64-bit integers
 * come as decimal strings (a double holds them exactly only up to 2^53: 2^53 and 2^53 + 1 would
 * be one value).
 */
export function parseNpyArray(bytes: Buffer, file: string, options: { exactIntegers?: boolean } = {}): NpyArray {
  const { descr, shape, dataStart } = parseHeader(bytes, file);
  const count = shape.reduce((a, b) => a * b, 1);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  if (!m || m[2] === 'O')
    throw new DataFileError(
      file,
      descr.includes('O') ? 'an object array (ragged rows?): every row must have the same shape' : `unsupported dtype "${descr}"`,
    );
  const [, order, code, sizeText] = m;
  const size = Number(sizeText);
  if (order === '>' && size > 1)
    throw new DataFileError(file, `big-endian dtype "${descr}"; save it little-endian (arr.astype('<${code}${size}'))`);
  // Text, or numbers read by `read`: an unsupported dtype is named as such before its item size is trusted.
  const read = code === 'U' || code === 'S' ? null : numberReader(bytes, code, size, file, descr);
  const itemBytes = code === 'U' ? 4 * size : size;
  const need = count * itemBytes;
  if (bytes.length - dataStart < need)
    throw new DataFileError(
      file,
      `truncated data: shape (${shape.join(', ')}) of ${descr} needs ${need} bytes, the file has ${bytes.length - dataStart}`,
    );
  const at = (i: number): number => dataStart + i * itemBytes;
  if (read === null) {
    const values: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let k = 0; k < size; k++) {
        const c = code === 'U' ? bytes.readUInt32LE(at(i) + 4 * k) : bytes[at(i) + k];
        if (c === 0) break;
        s += String.fromCodePoint(c);
      }
      values[i] = s;
    }
    return { shape, kind: 'string', values };
  }
  if (options.exactIntegers && (code === 'i' || code === 'u') && size === 8) {
    const values: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) values[i] = (code === 'i' ? bytes.readBigInt64LE(at(i)) : bytes.readBigUInt64LE(at(i))).toString();
    return { shape, kind: 'string', values };
  }
  return { shape, kind: 'number', values: numberValues(bytes, dataStart, count, code, size, read), integer: code !== 'f' };
}

/** The values as float64: through a typed-array view for aligned floats (matrices of millions of values), else one by one. */
function numberValues(
  bytes: Buffer,
  dataStart: number,
  count: number,
  code: string,
  size: number,
  read: (offset: number) => number,
): Float64Array {
  const offset = bytes.byteOffset + dataStart;
  if (code === 'f' && size === 8 && offset % 8 === 0 && LITTLE_ENDIAN_HOST)
    return new Float64Array(bytes.buffer.slice(offset, offset + 8 * count));
  if (code === 'f' && size === 4 && offset % 4 === 0 && LITTLE_ENDIAN_HOST)
    return Float64Array.from(new Float32Array(bytes.buffer, offset, count));
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = read(dataStart + i * size);
  return values;
}

function numberReader(bytes: Buffer, code: string, size: number, file: string, descr: string): (offset: number) => number {
  if (code === 'f' && size === 4) return (o) => bytes.readFloatLE(o);
  if (code === 'f' && size === 8) return (o) => bytes.readDoubleLE(o);
  if (code === 'b' && size === 1) return (o) => (bytes[o] === 0 ? 0 : 1);
  if (code === 'i' && size === 1) return (o) => bytes.readInt8(o);
  if (code === 'i' && size === 2) return (o) => bytes.readInt16LE(o);
  if (code === 'i' && size === 4) return (o) => bytes.readInt32LE(o);
  if (code === 'i' && size === 8) return (o) => Number(bytes.readBigInt64LE(o));
  if (code === 'u' && size === 1) return (o) => bytes[o];
  if (code === 'u' && size === 2) return (o) => bytes.readUInt16LE(o);
  if (code === 'u' && size === 4) return (o) => bytes.readUInt32LE(o);
  if (code === 'u' && size === 8) return (o) => Number(bytes.readBigUInt64LE(o));
  throw new DataFileError(file, `unsupported dtype "${descr}"; allowed: float32/64, (u)int8..64, bool, unicode or byte strings`);
}

/** `.npy` bytes of an array in C order (pipeline/npy.ts writes them): what tests, benchmarks and the worked example hand to the readers. */
export function encodeNpyArray(shape: readonly number[], values: Float64Array | Float32Array | Int32Array): Buffer {
  const descr = values instanceof Float64Array ? '<f8' : values instanceof Float32Array ? '<f4' : '<i4';
  return npyBytes(`'${descr}'`, shape, values);
}
