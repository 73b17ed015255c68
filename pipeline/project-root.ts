/**
 * Where the project is, found as git finds its repository: the nearest ancestor of the current
 * directory (itself included) that holds the store (`artifacts/`) or `experiments/`. The default
 * store lives there, so `defrost status quick.yaml` run from `experiments/` sees the same store as
 * `defrost status experiments/quick.yaml` run from the root (docs/engine.md).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** The default store directory's name under the project root. */
export const STORE_DIR_NAME = 'artifacts';
/** The directory of experiment configs under the project root. */
export const EXPERIMENTS_DIR_NAME = 'experiments';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The project root above `from` (default: the current directory), or null when there is none. */
export function findProjectRoot(from: string = process.cwd()): string | null {
  let dir = resolve(from);
  for (;;) {
    if (isDirectory(join(dir, STORE_DIR_NAME)) || isDirectory(join(dir, EXPERIMENTS_DIR_NAME))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The project root, or the current directory when no ancestor looks like a project. */
export function projectRootOrCwd(from: string = process.cwd()): string {
  return findProjectRoot(from) ?? resolve(from);
}

/**
 * A config path as the user typed it: relative to the current directory when that file exists
 * (as any command-line tool would), else relative to the project root, so
 * `defrost run experiments/quick.yaml` also works from a subdirectory.
 */
export function resolveConfigPath(file: string, from: string = process.cwd()): string {
  if (isAbsolute(file) || existsSync(resolve(from, file))) return resolve(from, file);
  const root = findProjectRoot(from);
  if (root !== null && existsSync(join(root, file))) return join(root, file);
  return resolve(from, file);
}
