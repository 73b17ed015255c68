/**
 * A YAML syntax error said the way a person fixes it: the line that is wrong, with its text.
 *
 * The YAML parser reports where it *noticed* the problem, which is often not where the problem
 * is: an unclosed `[` is noticed on the next line, an over-indented line is noticed on the line
 * above it. Two common cases are traced back to their line; otherwise the parser's line is shown,
 * with its neighbours.
 */

interface YamlErrorLike {
  readonly message: string;
  readonly code?: string;
  readonly linePos?: readonly { line: number; col: number }[];
}

/** Bracket depth change of one line, ignoring quoted text and comments. */
function bracketDelta(line: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (const ch of line) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') break;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
  }
  return depth;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** The 1-based line that is really wrong, and why, or null to keep the parser's line. */
function culprit(lines: readonly string[], reported: number): { line: number; why: string } | null {
  // An unclosed [ or {: the last line before the reported one that opened a collection still open there.
  let depth = 0;
  let opener = -1;
  for (let i = 0; i < Math.min(reported - 1, lines.length); i++) {
    const before = depth;
    depth += bracketDelta(lines[i]!);
    if (before <= 0 && depth > 0) opener = i;
    if (depth <= 0) opener = -1;
  }
  if (opener >= 0 && opener + 1 !== reported) return { line: opener + 1, why: 'a [ or { opened here is never closed' };
  // An over-indented line: the parser complains about the line above, whose key has a value already.
  const here = lines[reported - 1];
  const next = lines[reported];
  if (
    here !== undefined &&
    next !== undefined &&
    next.trim() !== '' &&
    indentOf(next) > indentOf(here) &&
    /^\s*[^#\s][^:]*:\s*\S/.test(here)
  )
    return { line: reported + 1, why: `indented more than line ${reported}, whose key already has a value` };
  return null;
}

/** `config F is not valid YAML: line N: why` + the numbered lines around it. */
export function describeYamlError(file: string, text: string, error: YamlErrorLike): string {
  const first = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const pos = error.linePos?.[0];
  if (pos === undefined) return `config ${file} is not valid YAML: ${first}`;
  const lines = text.split(/\r?\n/);
  const found = culprit(lines, pos.line);
  const line = found?.line ?? pos.line;
  const why = found ? `${found.why} (the parser says: ${first})` : `${first} (column ${pos.col})`;
  const shown: string[] = [];
  const width = String(Math.min(lines.length, line + 1)).length;
  for (let n = Math.max(1, line - 1); n <= Math.min(lines.length, line + 1); n++)
    shown.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1]}`);
  return `config ${file} is not valid YAML: line ${line}: ${why}\n${shown.join('\n')}`;
}
