/**
 * The store's own entries below its root and the one checked way to reach them. Every path
 * inside a store is built by `storePath`, and every one of the engine's dot-folders (`.plans`,
 * `.run-records`, `.reports`... — the list below, present and future) by `internalPath`: a
 * symbolic link, FIFO or file planted where the store keeps a directory is refused with exit 2
 * before a byte is read or written through it (docs/reliability.md, "Paths"). A new dot-folder
 * is added to `INTERNAL_DIRS` and reached through `internalPath`; a test fails on any other way.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StoreLayoutError, UsageError } from './errors.js';
import { kindOf } from './fsutil.js';

/** The store mark (store-mark.ts): the one dot entry that is a file. */
export const MARK_FILE = '.defrost-store';

/** The engine's own dot-folders (layout in docs/engine.md). */
export const INTERNAL_DIRS = ['.plans', '.locks', '.logs', '.tmp', '.runs', '.results', '.quarantine', '.reports', '.run-records'] as const;
export type InternalDir = (typeof INTERNAL_DIRS)[number];

/** True if `path` is `root` or below it, lexically. */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function planted(root: string, path: string, stat: Stats, expected: string): StoreLayoutError {
  const how = stat.isSymbolicLink()
    ? 'defrost never follows links inside a store'
    : `defrost keeps ${expected} there and never reads or writes through anything else`;
  return new StoreLayoutError(
    `${path} is ${kindOf(stat)} planted in the store ${root}; ${how}. Move it away (it is not defrost's) and run the command again ` +
      `(see docs/reliability.md)`,
  );
}

/**
 * `<root>/<parts...>`, checked: lexically inside the store, no existing component below the root
 * a symbolic link, every existing component above the last a directory. (The root itself may be a
 * symlink: a store kept on another disk.) What does not exist yet is fine: it is created by the
 * engine, as a plain directory or file.
 */
export function storePath(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const path = resolve(base, ...parts);
  if (!isWithin(base, path)) throw new UsageError(`path ${path} is outside the store ${base}`);
  const rel = relative(base, path);
  if (rel === '') return path;
  const names = rel.split(sep);
  let probe = base;
  for (const [i, name] of names.entries()) {
    probe = join(probe, name);
    const stat = lstatOrNull(probe);
    if (stat === null) break; // does not exist: nothing below it does either
    if (stat.isSymbolicLink()) throw planted(base, probe, stat, 'a directory or file');
    if (i < names.length - 1 && !stat.isDirectory()) throw planted(base, probe, stat, 'a directory');
  }
  return path;
}

/**
 * A path in one of the store's dot-folders: `storePath`, and the dot-folder itself a plain
 * directory when it exists (a FIFO or file named `.run-records` is refused, not written into).
 */
export function internalPath(root: string, name: InternalDir, ...rest: string[]): string {
  if (!(INTERNAL_DIRS as readonly string[]).includes(name)) throw new Error(`${name} is not one of the store's folders`);
  const path = storePath(root, name, ...rest);
  const dir = join(resolve(root), name);
  const stat = lstatOrNull(dir);
  if (stat !== null && !stat.isDirectory()) throw planted(resolve(root), dir, stat, 'a directory');
  return path;
}

/**
 * Before a command writes in a store: no dot entry of its root — whatever its name, so folders a
 * later defrost adds are covered — is a symbolic link or a special file, and each of the engine's
 * folders and the mark has its kind (`.DS_Store` and `.gitkeep` files are left alone).
 */
export function checkDotEntries(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith('.'));
  } catch {
    return; // no store yet
  }
  for (const name of names) {
    const path = join(root, name);
    const stat = lstatOrNull(path);
    if (stat === null) continue;
    if (stat.isSymbolicLink() || !(stat.isFile() || stat.isDirectory()))
      throw planted(root, path, stat, 'only plain files and directories');
    if ((INTERNAL_DIRS as readonly string[]).includes(name) && !stat.isDirectory()) throw planted(root, path, stat, 'a directory');
    if (name === MARK_FILE && !stat.isFile()) throw planted(root, path, stat, 'its mark, a plain file,');
  }
}
