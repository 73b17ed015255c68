/**
 * Small durable-filesystem helpers. Publishing must survive a crash at any instant: data is
 * fsynced before the rename that makes it visible, and the directory is fsynced after it.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
  mkdirSync,
  lstatSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * `DEFROST_UNSAFE_NO_FSYNC=1` skips every fsync: publishing stays atomic against process crashes
 * (rename, manifest last) but not against power loss. Only for throwaway stores on slow disks —
 * the engine's tests use it to keep the suite fast; never for results you keep.
 */
function fsyncDisabled(): boolean {
  return process.env.DEFROST_UNSAFE_NO_FSYNC === '1';
}

/** fsync of an open file descriptor, unless disabled (see above). */
export function syncFd(fd: number): void {
  if (!fsyncDisabled()) fsyncSync(fd);
}

export function fsyncPath(path: string): void {
  if (fsyncDisabled()) return;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; durability is then the filesystem's business.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Thrown by `readRegularFile` for a path that is not a plain file (symlink, FIFO, device, directory). */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
}

/** What a path is, in words, from its (l)stat mode. */
export function kindOf(stat: {
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
  isFile(): boolean;
}): string {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFile()) return 'a regular file';
  return 'not a regular file';
}

/**
 * Reads a file that must be a plain regular file: opened without following a final symlink
 * (O_NOFOLLOW) and without blocking (O_NONBLOCK: opening a FIFO for reading would otherwise wait
 * for a writer forever, deaf to signals), then checked with fstat before a byte is read. A FIFO,
 * a device (`/dev/zero` would be read until memory runs out), a socket or a directory throws
 * `NotRegularFileError` naming what it is; so does a file above `maxBytes`. Other errors
 * (ENOENT...) are thrown as they come.
 */
export function readRegularFile(path: string, maxBytes = 256 * 1024 * 1024): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new NotRegularFileError(`${path} is a symbolic link`);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new NotRegularFileError(`${path} is ${kindOf(stat)}, not a regular file`);
    if (stat.size > maxBytes) throw new NotRegularFileError(`${path} is ${stat.size} bytes, more than the ${maxBytes} allowed here`);
    const buffer = Buffer.allocUnsafe(stat.size);
    let done = 0;
    while (done < stat.size) {
      const n = readSync(fd, buffer, done, stat.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** `readRegularFile` as UTF-8 text. */
export function readRegularText(path: string, maxBytes?: number): string {
  return readRegularFile(path, maxBytes).toString('utf8');
}

/** A name no other process on any host can pick at the same time. */
export function uniqueSuffix(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes a new file `path` and fsyncs it (not its directory): for a file inside a directory that
 * is itself fsynced and renamed into place afterwards (a staging dir being published).
 */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  // O_EXCL|O_NOFOLLOW: never write through something planted under the name.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    syncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Directories this process makes durable itself, later and all at once: an instance's staging
 * directory, whose publish (exec.ts) fsyncs every file in it and then the directory, before the
 * rename that makes them visible (docs/engine.md, "What a crash can cost"). A file written into
 * one by `writeFileAtomic` (a stage's output tables) skips its own fsyncs, which would only
 * repeat those: 2 fewer per table (docs/performance.md, "Per-instance overhead").
 */
const syncedOnPublish = new Set<string>();

/** From now until `endSyncOnPublish`, files written atomically under `dir` are fsynced by its publish, not one by one. */
export function syncOnPublish(dir: string): void {
  syncedOnPublish.add(dir);
}

export function endSyncOnPublish(dir: string): void {
  syncedOnPublish.delete(dir);
}

function isSyncedOnPublish(path: string): boolean {
  for (const dir of syncedOnPublish) if (path.startsWith(`${dir}/`)) return true;
  return false;
}

/**
 * Writes `path` atomically: temp file in the same directory, fsync, rename, fsync the directory
 * (the fsyncs left to the publish inside a staging directory, `syncOnPublish`).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const durable = !isSyncedOnPublish(path);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${uniqueSuffix()}`;
  // O_EXCL|O_NOFOLLOW: never write through something planted under the temp name.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      if (durable) syncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    // A failed write (e.g. ENOSPC) must not leave a half-written temp file behind.
    rmSync(tmp, { force: true });
    throw error;
  }
  if (durable) fsyncPath(dirname(path));
}

/**
 * Why a path the user gave for a file defrost writes (`export --out`) must not be written, or
 * null: checked with lstat, a symbolic link (which could lead into the store, or anywhere) or
 * anything but a regular file is refused, never written through.
 */
export function outputFileRefusal(path: string): string | null {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return null; // a new file
  }
  if (stat.isSymbolicLink()) return `${path} is a symbolic link; defrost never writes through one (remove the link or choose another path)`;
  if (!stat.isFile()) return `${path} is ${kindOf(stat)}, not a regular file; choose another path`;
  return null;
}

/**
 * Writes a file whose path the user gave: refused as `outputFileRefusal` says (returned, for the
 * caller to raise as a usage error), else written to a temp file in the same directory and renamed
 * over the name — so even a hard link to a published file only loses its name here, never its bytes.
 */
export function writeOutputFile(path: string, data: string | Uint8Array): string | null {
  const refused = outputFileRefusal(path);
  if (refused === null) writeFileAtomic(path, data);
  return refused;
}
