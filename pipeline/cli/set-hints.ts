/**
 * `--set` written the way people first try it, caught before commander sees it: without `=`
 * (`--set train.epochs 5`) or with a space the shell split (`--set task.target_sizes=[20, 100]`).
 * Commander alone would say "too many arguments", which tells nobody what to write instead.
 */
import { UsageError } from '../errors.js';

/** Brackets or braces opened and not closed in `text` (quoted text ignored). */
function unbalanced(text: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
  }
  return depth > 0 || quote !== null;
}

/** Throws a UsageError saying how to write a malformed `--set` in `argv` (the user's arguments). */
export function checkSetArguments(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--set') continue;
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) return; // commander says the value is missing
    const next = argv[i + 2];
    const isWord = next !== undefined && !next.startsWith('-');
    if (!value.includes('=')) {
      if (isWord)
        throw new UsageError(
          `--set ${value} ${next}: write key and value as one argument joined by "=": --set ${value}=${next}` +
            (next.includes(' ') || next.includes('[') ? ` (quote it when the value has spaces: --set '${value}=${next}')` : ''),
        );
      throw new UsageError(`--set ${value}: expected key.path=value, e.g. --set train.epochs=5`);
    }
    if (isWord && unbalanced(value)) {
      // The shell split the value at a space: join the pieces back to show the quoted form.
      const parts = [value];
      for (let j = i + 2; j < argv.length && !argv[j]!.startsWith('--') && unbalanced(parts.join(' ')); j++) parts.push(argv[j]!);
      const joined = parts.join(' ');
      throw new UsageError(
        `--set ${joined}: the shell split this value at its space(s); quote the whole assignment: --set '${joined}' (or leave out the spaces: --set ${joined.replace(/\s+/g, '')})`,
      );
    }
  }
}
