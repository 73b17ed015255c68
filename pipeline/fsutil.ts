/**
 * Small durable-filesystem helpers. Publishing must survive a crash at any instant: data is
 * fsynced before the rename that makes it visible, and the directory is fsynced after it.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
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

/** A name no other process on any host can pick at the same time. */
export function uniqueSuffix(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Writes `path` atomically: temp file in the same directory, fsync, rename, fsync the directory. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${uniqueSuffix()}`;
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      syncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    // A failed write (e.g. ENOSPC) must not leave a half-written temp file behind.
    rmSync(tmp, { force: true });
    throw error;
  }
  fsyncPath(dirname(path));
}

/** Every regular file under `dir`, as sorted `/`-separated relative paths. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() || (entry.isSymbolicLink() && statSync(full).isFile())) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}
