/**
 * Which code produced a result: the git commit of the project's checkout (with `-dirty` when
 * tracked files were edited since), asked of git once per command. Recorded in run records and
 * printed by `--version`; a checkout without git (a tarball) simply has no commit.
 */
import { execFileSync } from 'node:child_process';

let cached: Map<string, string | null> | undefined;

function git(dir: string, args: readonly string[]): string | null {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

/** `abc123def456` or `abc123def456-dirty`; null when `dir` is not in a git checkout. */
export function gitCommit(dir: string): string | null {
  cached ??= new Map();
  if (cached.has(dir)) return cached.get(dir) ?? null;
  const head = git(dir, ['rev-parse', '--short=12', 'HEAD']);
  let result: string | null = head;
  if (head !== null) {
    const changes = git(dir, ['status', '--porcelain', '--untracked-files=no']);
    if (changes !== null && changes !== '') result = `${head}-dirty`;
  }
  cached.set(dir, result);
  return result;
}
