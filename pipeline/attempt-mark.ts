/**
 * What proves that a directory in the store is defrost's own, so that it may be deleted.
 *
 * defrost deletes only what it provably wrote (docs/reliability.md, "What defrost deletes"): a
 * directory found where an instance or a staging directory would be is evidence of nothing by
 * its name alone (`projects/0123456789abcdef/` may hold a thesis). Every attempt at an instance
 * therefore starts by writing `.defrost-attempt` (`{"tool":"defrost","stage":...,"key":...}`) into
 * its fresh staging directory; the file travels with the directory when it is renamed into place
 * and stays there (its bytes depend only on stage and key, and it is not an output: manifests do
 * not list it). A directory is defrost's if it carries that file naming its stage and key, or a
 * manifest sealed by a publish (integrity digest matching) naming them.
 */
import { constants, openSync, closeSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularText } from './fsutil.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';

export const ATTEMPT_MARK = '.defrost-attempt';

function markText(stage: string, key: string): string {
  return `${JSON.stringify({ tool: 'defrost', stage, key })}\n`;
}

/** Writes the mark into a fresh staging directory (never through anything planted under its name). */
export function writeAttemptMark(dir: string, stage: string, key: string): void {
  const fd = openSync(join(dir, ATTEMPT_MARK), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, markText(stage, key));
  } finally {
    closeSync(fd);
  }
}

/** True if `dir` provably is defrost's attempt at (or publication of) `stage`/`key`. */
export function isDefrostAttempt(dir: string, stage: string, key: string): boolean {
  try {
    if (readRegularText(join(dir, ATTEMPT_MARK), 4096) === markText(stage, key)) return true;
  } catch {
    // no mark (or not a regular file): look for a sealed manifest
  }
  return hasSealedManifest(dir, stage, key);
}

/** True if `dir` holds a manifest sealed by a defrost publish (integrity digest matching), naming `stage`/`key`. */
export function hasSealedManifest(dir: string, stage: string, key: string): boolean {
  const read = readManifest(dir);
  return read.ok && read.manifest.integrity !== undefined && read.manifest.stage === stage && read.manifest.key === key;
}

/**
 * Deletes a directory of defrost's with its evidence last: everything else first, then the
 * manifest, then the mark, then the directory. A kill half-way leaves a directory that still
 * proves itself defrost's, so the next clean-up finishes the job instead of quarantining it.
 * (rmSync removes symbolic links themselves, never what they point to.)
 */
export function removeDefrostDir(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const evidence = [MANIFEST_FILE, ATTEMPT_MARK];
  for (const name of names) if (!evidence.includes(name)) rmSync(join(dir, name), { recursive: true, force: true });
  for (const name of evidence) rmSync(join(dir, name), { force: true });
  rmSync(dir, { recursive: true, force: true });
}
