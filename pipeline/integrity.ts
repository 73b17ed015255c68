/**
 * Checking a published instance against its manifest, and moving a damaged one aside.
 *
 * A published instance is the research record, so damage (a truncated or bit-flipped file, a
 * missing file, an edited manifest, a file swapped for a symlink) must be noticed wherever it
 * matters: by `verify`, and by `run` before a downstream instance reads it. Damaged instances are
 * never deleted — they are moved to `<store>/.quarantine/` for a human to look at — and the key is
 * recomputed (stage outputs are deterministic, so the recomputed bytes equal the originals).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueSuffix } from './fsutil.js';
import { isSafeRelativePath, type Manifest } from './manifest.js';
import { isWithin } from './store-dirs.js';
import type { Store } from './store.js';

/** One problem with one file of an instance. */
export interface FileDamage {
  /** Path relative to the instance directory (`manifest.json` for manifest problems). */
  readonly file: string;
  readonly problem: string;
}

/** The one read buffer of `sha256File` (synchronous, so never shared by two reads at once). */
let hashBuffer: Buffer | null = null;

/** sha256 (hex) of a file, streamed in 1 MiB chunks so large tables do not need their size in memory. */
function sha256File(fd: number): string {
  const hash = createHash('sha256');
  const buffer = (hashBuffer ??= Buffer.allocUnsafe(1 << 20));
  for (;;) {
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest('hex');
}

/**
 * Files this process hashed and found as their manifest says: path -> the sha256 and the device,
 * inode, size, mtime and ctime the file had (docs/performance.md, "Per-instance overhead"). `exec`
 * checks every input of every instance in full, and a worker's transfers read the same tables
 * over and over. Every write to a file moves its ctime, which no user can set, so a file with the
 * same inode, size and times has the same bytes and is not hashed again. A file changed less than
 * `RACY_NS` before it was hashed is not remembered: a write in the same tick of the file system's
 * clock could leave its times unchanged (git's "racy clean" rule).
 */
const hashedFiles = new Map<string, { readonly sha256: string; readonly stat: string }>();
const HASHED_FILES_LIMIT = 1 << 14;
const RACY_NS = 2_000_000_000n;

function statSignature(fd: number): { signature: string; ctimeNs: bigint } {
  const st = fstatSync(fd, { bigint: true });
  return { signature: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, ctimeNs: st.ctimeNs };
}

/** Whether the open file `fd` at `path` has the bytes whose sha256 is `sha256`, hashing it unless `remember` knows it unchanged. */
function hasSha256(fd: number, path: string, sha256: string, remember: boolean): boolean {
  if (!remember) return sha256File(fd) === sha256;
  const before = statSignature(fd);
  const known = hashedFiles.get(path);
  if (known !== undefined && known.sha256 === sha256 && known.stat === before.signature) return true;
  const startedNs = BigInt(Date.now()) * 1_000_000n;
  if (sha256File(fd) !== sha256) return false;
  if (startedNs - before.ctimeNs > RACY_NS && statSignature(fd).signature === before.signature) {
    if (hashedFiles.size >= HASHED_FILES_LIMIT) hashedFiles.clear();
    hashedFiles.set(path, { sha256, stat: before.signature });
  }
  return true;
}

/**
 * Every listed file must be a regular file (not a symlink) with the recorded size and sha256.
 * `deep: false` checks only presence, type and size (fast enough for every cached input).
 * `remember`: a file this process already hashed, unchanged since (see `hashedFiles`), is not
 * hashed again.
 */
export function checkInstanceFiles(dir: string, manifest: Manifest, options: { deep?: boolean; remember?: boolean } = {}): FileDamage[] {
  const deep = options.deep ?? true;
  const remember = options.remember ?? false;
  const damage: FileDamage[] = [];
  if (manifest.integrity === undefined)
    damage.push({ file: 'manifest.json', problem: 'no integrity digest (not written by a defrost publish)' });
  for (const f of manifest.files) {
    if (!isSafeRelativePath(f.path)) {
      damage.push({ file: f.path, problem: 'path leaves the instance directory' });
      continue;
    }
    const path = join(dir, f.path);
    let problem: string | null = null;
    try {
      const link = lstatSync(path);
      if (link.isSymbolicLink()) problem = 'is a symbolic link, not a published file';
      else if (!isWithin(realpathSync(dir), realpathSync(path))) problem = 'leads outside the instance directory (symbolic link)';
      else if (!link.isFile()) problem = 'is not a regular file';
      else {
        const fd = openSync(path, 'r');
        try {
          const size = fstatSync(fd).size;
          if (size !== f.bytes) problem = `size ${size}, manifest says ${f.bytes}`;
          else if (deep && !hasSha256(fd, path, f.sha256, remember)) problem = 'sha256 differs from the manifest';
        } finally {
          closeSync(fd);
        }
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : `unreadable (${(error as Error).message})`;
    }
    if (problem) damage.push({ file: f.path, problem });
  }
  return damage;
}

/** One line naming the damage, for summaries and logs. */
export function describeDamage(damage: readonly FileDamage[]): string {
  return damage.map((d) => `${d.file}: ${d.problem}`).join('; ');
}

/**
 * Moves a damaged instance directory to `<store>/.quarantine/<stage>-<key>-<unique>/` (same
 * filesystem, so a rename) with a `QUARANTINED.txt` saying why. Returns the new location. Call it
 * only while holding the key's lock or when no live process can be publishing the key.
 */
export function quarantine(store: Pick<Store, 'quarantineDir'>, stage: string, key: string, dir: string, reason: string): string {
  // Validated by the store: `.quarantine` itself may not be a symlink leading out of it.
  const root = store.quarantineDir;
  mkdirSync(root, { recursive: true });
  const target = join(root, `${stage}-${key}-${uniqueSuffix()}`);
  // rename moves a symlink or a special file itself, never what it points to.
  renameSync(dir, target);
  if (!lstatSync(target).isDirectory()) return target;
  try {
    writeFileSync(join(target, 'QUARANTINED.txt'), `${stage} ${key} moved here from ${dir}\nreason: ${reason}\n`, { flag: 'wx' });
  } catch {
    // The note is a courtesy; the move is what matters (and may have happened on a full disk).
    // 'wx' (O_EXCL) never writes through a file or symlink planted under that name.
  }
  return target;
}
