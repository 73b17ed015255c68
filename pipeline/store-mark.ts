/**
 * The store mark: `<store>/.defrost-store`, a small JSON file `{"format":1,...}` that says "this
 * directory is a defrost store, in this layout". defrost writes, moves and deletes files only in
 * a marked directory, so that pointing `--store` (or `DEFROST_STORE`) at a home directory or a
 * project folder by mistake can never cost a file (docs/reliability.md, "The store mark").
 *
 * A store is marked when defrost creates it: the directory does not exist yet or is empty. A
 * directory made by a defrost older than the mark is adopted only on positive evidence: its
 * layout is defrost's (every entry a stage directory of key-named instance directories, or one of
 * the engine's dot directories) *and* at least one instance carries a manifest that a defrost
 * publish sealed (its integrity digest matches). A layout alone proves nothing: `projects/<16 hex
 * digits>/thesis.tex` has it. The mark is written and a notice says so. Anything else is refused,
 * naming the directory and how to start a store.
 */
import { lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import { readRegularText, writeFileAtomic } from './fsutil.js';
import { hasSealedManifest } from './attempt-mark.js';
import { INTERNAL_DIRS, MARK_FILE } from './store-dirs.js';

/** Layout version of the store; a newer one is refused (its layout may differ). */
export const STORE_FORMAT = 1;

const STAGE_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const KEY = /^[0-9a-f]{16}$/;

export type MarkState =
  | { readonly kind: 'marked' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'legacy' }
  | { readonly kind: 'foreign'; readonly why: string };

const isDir = (path: string): boolean => {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
};

const isSymlink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

/** Reads and checks the mark; throws a UsageError when it exists but is not one this defrost reads. */
function readMark(root: string): boolean {
  const path = join(root, MARK_FILE);
  let text: string;
  try {
    text = readRegularText(path, 64 * 1024);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UsageError(`the store mark ${path} is unreadable (${(error as Error).message}); see docs/reliability.md`);
  }
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1)
    throw new UsageError(`the store mark ${path} is damaged (no format number); see docs/reliability.md`);
  if (format > STORE_FORMAT)
    throw new UsageError(
      `${root} is a store of format ${format}, made by a newer defrost (this one reads format ${STORE_FORMAT}); upgrade defrost`,
    );
  return true;
}

/**
 * Files that leave a directory empty for our purpose: git's placeholder (the repository ships
 * `artifacts/`, the default store, holding only `.gitkeep`, so a fresh clone's store must count
 * as empty), and the temp file of a mark whose write was killed (`writeFileAtomic`'s naming).
 */
const isPlaceholder = (name: string): boolean =>
  name === '.gitkeep' || (name.startsWith(`${MARK_FILE}.tmp-`) && /-\d+-[0-9a-f]{8}$/.test(name));

/** Why an entry of an unmarked directory is not part of an older defrost store's layout, or null. */
function legacyEntryProblem(root: string, name: string): string | null {
  const path = join(root, name);
  if (isPlaceholder(name)) return lstatSync(path).isFile() ? null : `${name} is not a plain file`;
  if ((INTERNAL_DIRS as readonly string[]).includes(name))
    return isDir(path) ? null : isSymlink(path) ? `${name} is a symbolic link (never followed)` : `${name} is not a plain directory`;
  if (!STAGE_NAME.test(name) || !isDir(path)) return `${name} is not a stage directory`;
  for (const entry of readdirSync(path, { withFileTypes: true }))
    if (!KEY.test(entry.name) || !entry.isDirectory()) return `${name}/${entry.name} is not an instance directory`;
  return null;
}

/** What `root` is: marked store, nothing yet, empty, an older unmarked store, or something else. */
export function markState(root: string): MarkState {
  let stat;
  try {
    // The root itself may be a symlink (a store on another disk): what it points to counts.
    stat = statSync(root);
  } catch {
    return { kind: 'absent' };
  }
  if (!stat.isDirectory()) return { kind: 'foreign', why: 'it is not a directory' };
  if (readMark(root)) return { kind: 'marked' };
  const entries = readdirSync(root);
  if (entries.every((name) => isPlaceholder(name) && lstatSync(join(root, name)).isFile())) return { kind: 'empty' };
  for (const name of entries) {
    const problem = legacyEntryProblem(root, name);
    if (problem !== null) return { kind: 'foreign', why: problem };
  }
  const evidence = entries.some(
    (stage) =>
      !stage.startsWith('.') && readdirSync(join(root, stage)).some((key) => hasSealedManifest(join(root, stage, key), stage, key)),
  );
  if (!evidence) return { kind: 'foreign', why: 'no instance in it carries a manifest sealed by defrost' };
  return { kind: 'legacy' };
}

/** Writes the mark (creating the directory if needed). */
export function writeMark(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileAtomic(
    join(root, MARK_FILE),
    `${JSON.stringify({ format: STORE_FORMAT, tool: 'defrost', created: new Date().toISOString() })}\n`,
  );
}

/** The refusal for a directory that is not a store, naming it and how to start one. */
export function notAStoreError(root: string, why: string): UsageError {
  return new UsageError(
    `${root} is not a defrost store (no ${MARK_FILE} mark, and ${why}); defrost writes and deletes only in its own stores.\n` +
      `  Start a store in a new or empty directory (--store DIR or DEFROST_STORE=DIR), or run \`defrost init --store ${root}\` ` +
      `if this really is a store made by an older defrost (see docs/reliability.md).`,
  );
}

/**
 * Makes sure `root` is a marked store before anything is written there: creates and marks a new
 * or empty directory, adopts an older defrost store (calling `notice` once), refuses the rest.
 */
export function ensureMarked(root: string, notice: (text: string) => void): void {
  const state = markState(root);
  switch (state.kind) {
    case 'marked':
      return;
    case 'absent':
    case 'empty':
      writeMark(root);
      return;
    case 'legacy':
      writeMark(root);
      notice(`${root}: store made by an older defrost (no ${MARK_FILE}); its layout and manifests were recognised and the mark written`);
      return;
    case 'foreign':
      throw notAStoreError(root, state.why);
  }
}
