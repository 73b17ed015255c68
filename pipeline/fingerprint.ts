/**
 * The code fingerprint of a stage: sha256 over the sorted (path, bytes) of the source files its
 * `code` globs match, relative to the project's code root. Editing a matched file re-keys the
 * stage (and, through input keys, everything downstream); editing any other file does not.
 *
 * A glob that matches nothing is a bug in the stage definition (a typo would silently drop the
 * file from the fingerprint and cached results would survive code changes), so it is an error.
 * Results are memoised per process: the scheduler fingerprints each stage once per run.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import type { AnyStage } from './stage.js';

export interface CodeFingerprint {
  /** sha256 hex of the matched files' paths and bytes. */
  readonly fingerprint: string;
  /** Matched paths, relative to the code root, sorted. */
  readonly files: readonly string[];
}

/** A stage definition that cannot be fingerprinted: a bug in the project, not in user input. */
export class FingerprintError extends Error {}

const memo = new Map<string, CodeFingerprint>();

export function fingerprintStage(codeRoot: string, stage: AnyStage): CodeFingerprint {
  const memoKey = `${codeRoot}\u0000${stage.code.join('\u0000')}`;
  const known = memo.get(memoKey);
  if (known) return known;
  if (stage.code.length === 0) throw new FingerprintError(`stage ${stage.name} declares no code globs`);
  const files = new Set<string>();
  for (const pattern of stage.code) {
    const matches = fg.sync(pattern, { cwd: codeRoot, onlyFiles: true, dot: false, followSymbolicLinks: true });
    if (matches.length === 0) {
      throw new FingerprintError(
        `stage ${stage.name}: code glob "${pattern}" matches no file under ${codeRoot} (fix the stage's \`code\` list)`,
      );
    }
    for (const m of matches) files.add(m);
  }
  const sorted = [...files].sort();
  const hash = createHash('sha256');
  for (const file of sorted) {
    const bytes = readFileSync(join(codeRoot, file));
    hash.update(file).update('\u0000').update(String(bytes.length)).update('\u0000').update(bytes);
  }
  const result: CodeFingerprint = { fingerprint: hash.digest('hex'), files: sorted };
  memo.set(memoKey, result);
  return result;
}

/** Forgets memoised fingerprints (tests edit code between runs in one process). */
export function clearFingerprintCache(): void {
  memo.clear();
}
