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

/** The pieces `foldAtCommas` keeps whole: up to and including a comma (and its space) or a space. */
function foldPieces(text: string): string[] {
  return text.match(/[^, ]*(?:, ?| |$)/g)?.filter((p) => p !== '') ?? [text];
}

/** The width `foldAtCommas` needs to cut nothing: the widest piece between its break points. */
export function widestPiece(text: string): number {
  return foldPieces(text).reduce((w, p) => Math.max(w, p.trimEnd().length), 0);
}

/**
 * Text without spaces to fold at (JSON: `["cka","rbf_cka",...]`) in lines of at most `width`
 * characters, broken after a comma or at a space; a piece with no such place is cut, so no line
 * is ever wider than `width`. Joined back without separators, the lines give the text again
 * (but for the spaces at the breaks).
 */
export function foldAtCommas(text: string, width: number): string[] {
  const pieces = foldPieces(text);
  const lines: string[] = [];
  let line = '';
  for (let piece of pieces) {
    if (line !== '' && (line + piece).trimEnd().length > width) {
      lines.push(line.trimEnd());
      line = '';
    }
    while (piece.trimEnd().length > width) {
      lines.push(piece.slice(0, width));
      piece = piece.slice(width);
    }
    line += piece;
  }
  lines.push(line.trimEnd());
  return lines;
}
