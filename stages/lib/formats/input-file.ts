/**
 * Every file defrost reads from the user — datasets (CSV, npy, Arrow, images), networks
 * (model.json and weights), `compare` matrices — is read through here (docs/reliability.md,
 * "Your files"): opened once, without blocking, and checked with fstat *before* a byte is read
 * to be a regular file of bounded size. A FIFO would otherwise block the command forever, deaf
 * to Ctrl-C; `/dev/zero` (or a link to it) would be read until memory ran out; a 3 GB CSV would
 * be read for a minute before failing on the longest string the JavaScript engine can hold. A
 * user's own symbolic link to a file is followed (what it leads to is checked); inside a folder
 * that is one unit (an image folder, a network's folder) a link may not lead out of it
 * (`checkInsideFolder`). Every refusal is a DataFileError (exit 2) naming the file, what it is,
 * and for a size the limit and how to raise it.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { kindOf } from '../../../pipeline/fsutil.js';
import { DataFileError } from './problem.js';

/** Environment variable raising the size limit of one input file, in MB. */
export const INPUT_LIMIT_ENV = 'DEFROST_MAX_INPUT_MB';
const DEFAULT_INPUT_LIMIT_MB = 1024;
const MB = 1024 * 1024;
/**
 * A text file (CSV, JSON) is read as one string, and V8 strings hold at most 2^29 - 24 UTF-16
 * units; no limit can raise that, so bigger data must come in a binary format.
 */
export const TEXT_LIMIT_BYTES = 2 ** 29 - 24;

/**
 * A limit the user may raise through the environment variable `name` (a whole number > 0), else
 * `fallback`: the input-size, image-pixel and network-size limits all read theirs here.
 */
export function envLimit(name: string, fallback: number): number {
  const given = process.env[name];
  if (given === undefined || given.trim() === '') return fallback;
  const n = Number(given);
  if (!Number.isSafeInteger(n) || n <= 0) throw new DataFileError(name, `got ${JSON.stringify(given)}; allowed: a whole number > 0`);
  return n;
}

/** The size limit of one input file, in bytes (`DEFROST_MAX_INPUT_MB`, default 1024). */
export function inputLimitBytes(): number {
  return envLimit(INPUT_LIMIT_ENV, DEFAULT_INPUT_LIMIT_MB) * MB;
}

const megabytes = (bytes: number): string => `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;

/** What is at `path`, following a symbolic link: a file or a directory; anything else is refused. */
export function inputPathKind(path: string): 'file' | 'directory' {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    throw openFailure(path, error);
  }
  if (stat.isDirectory()) return 'directory';
  if (stat.isFile()) return 'file';
  throw notRegular(path, stat);
}

function notRegular(path: string, stat: Stats): DataFileError {
  return new DataFileError(
    path,
    `is ${kindOf(stat)}, not a regular file; defrost reads data only from regular files (a FIFO would block, a device would never end)`,
  );
}

function openFailure(path: string, error: unknown): DataFileError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    let dangling = false;
    try {
      dangling = lstatSync(path).isSymbolicLink();
    } catch {
      // no entry at all
    }
    return new DataFileError(path, dangling ? 'a symbolic link to nothing (dangling)' : 'no such file or directory');
  }
  if (code === 'ELOOP') return new DataFileError(path, 'a loop of symbolic links');
  if (code === 'EACCES') return new DataFileError(path, 'permission denied');
  return new DataFileError(path, `cannot read (${code ?? (error as Error).message})`);
}

/** Opens `path` for reading without blocking and checks it: a regular file within the limits. */
function openChecked(path: string, text: boolean): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new DataFileError(path, 'is a directory, where a file was expected');
    if (!stat.isFile()) throw notRegular(path, stat);
    const limit = inputLimitBytes();
    if (stat.size > limit)
      throw new DataFileError(
        path,
        `is ${megabytes(stat.size)}, more than the ${megabytes(limit)} defrost reads from one input file; ` +
          `raise the limit with ${INPUT_LIMIT_ENV}=<megabytes> if the machine has the memory`,
      );
    if (text && stat.size > TEXT_LIMIT_BYTES)
      throw new DataFileError(
        path,
        `is ${megabytes(stat.size)}, more than the ${megabytes(TEXT_LIMIT_BYTES)} a text file can be read as (the JavaScript ` +
          `engine's longest string; no setting raises it); save the data as .npy or .arrow instead`,
      );
    return { fd, size: stat.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** The bytes of an input file, and their sha256 (hex), read once. */
export function readInputFile(path: string, options: { text?: boolean } = {}): { bytes: Buffer; sha256: string } {
  const { fd, size } = openChecked(path, options.text ?? false);
  try {
    const bytes = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) break; // shrank meanwhile: what was read is what is used (and hashed)
      done += n;
    }
    const read = bytes.subarray(0, done);
    return { bytes: read, sha256: createHash('sha256').update(read).digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** An input text file (CSV, JSON) as UTF-8, and the sha256 of its bytes. */
export function readInputText(path: string): { text: string; sha256: string } {
  const { bytes, sha256 } = readInputFile(path, { text: true });
  return { text: bytes.toString('utf8'), sha256 };
}

/** sha256 (hex) of an input file, streamed in 1 MiB chunks: what a plan keys without reading it whole. */
export function hashInputFile(path: string): string {
  const { fd } = openChecked(path, false);
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(MB);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** The first `bytes` bytes of an input file (fewer when it is shorter): an image header. */
export function readInputHead(path: string, bytes: number): Buffer {
  const { fd } = openChecked(path, false);
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Inside a folder that is one unit (an image folder, a network's folder), `path` must stay in it:
 * a symbolic link leading out of the folder, to nothing, or in a loop is refused.
 */
export function checkInsideFolder(folder: string, path: string): void {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw openFailure(path, error);
  }
  const rel = relative(realpathSync(folder), real);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new DataFileError(path, `leads out of ${folder} (to ${real}); the files of a dataset or network folder must lie inside it`);
}
