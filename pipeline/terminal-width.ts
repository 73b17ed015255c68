/**
 * The width every default terminal line of `run`, `report`, `runs` and `recommend` keeps to
 * (docs/report.md#terminal-output-100-columns): 100 columns, so the answer reads in any terminal of 100
 * columns or more without wrapping, and tables wider than that go behind `--wide` or to the
 * report. Text longer than a line is folded at spaces here, with an indent for the lines after
 * the first so a wrapped item still reads as one.
 */

export const TERMINAL_WIDTH = 100;

/** Display columns of a line: code points, so `ρ` and `—` count one each. */
export function columnsOf(line: string): number {
  return [...line].length;
}

/**
 * The words of a text, where an interval in brackets stays one word with the number (and unit)
 * before it (`+4.1 points [+2.0, +6.2]`), so a line never ends inside a number and its interval.
 */
function words(text: string): string[] {
  return text.match(/(?:\(?[+-]?\d[\d.]*%?(?: points)? )?\[[^\]]*\]\S*|\S+/g) ?? [];
}

/**
 * Folds `text` at spaces into lines of at most `width` columns: the first starts with `first`,
 * the others with `rest` (usually spaces). A word longer than a line (a long path) gets a line
 * of its own and is never cut, so it can still be copied.
 */
export function wrapWords(text: string, first = '', rest = '', width = TERMINAL_WIDTH): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words(text)) {
    const candidate = empty ? `${line}${word}` : `${line} ${word}`;
    if (!empty && columnsOf(candidate) > width) {
      lines.push(line);
      line = `${rest}${word}`;
    } else line = candidate;
    empty = false;
  }
  lines.push(line);
  return lines;
}
