/** Aligned plain-text tables for the human output of `runs`, `ls` and friends. */
import { foldAtCommas, TERMINAL_WIDTH, widestPiece } from '../terminal-width.js';

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  // A loop, not Math.max(...cells): a spread of 200,000 rows overflows the call stack.
  const widths = header.map((_, c) => all.reduce((w, r) => Math.max(w, (r[c] ?? '').length), 0));
  return all
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Which end of a cell survives when its column is narrowed: file paths keep their end. */
export type KeepEnd = 'start' | 'end';

/**
 * `formatTable` narrowed to `width` columns (default output fits TERMINAL_WIDTH: docs/engine.md)
 * by shortening the cells of the `shrink` columns, widest column first, each to no less than 8
 * characters; a shortened cell shows `...` where text was cut. Columns not named keep their width.
 */
export function fitTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  shrink: Readonly<Record<number, KeepEnd>>,
  width = TERMINAL_WIDTH,
): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => all.reduce((w, r) => Math.max(w, (r[c] ?? '').length), 0));
  const total = (): number => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const MIN = 8;
  while (total() > width) {
    let widest = -1;
    for (const c of Object.keys(shrink).map(Number))
      if (widths[c]! > Math.max(MIN, header[c]!.length) && (widest < 0 || widths[c]! > widths[widest]!)) widest = c;
    if (widest < 0) break;
    widths[widest]!--;
  }
  const cut = (text: string, c: number): string => {
    const w = widths[c]!;
    if (text.length <= w) return text;
    return shrink[c] === 'end' ? `...${text.slice(text.length - (w - 3))}` : `${text.slice(0, w - 3)}...`;
  };
  return formatTable(
    header,
    rows.map((r) => r.map((cell, c) => cut(cell, c))),
  );
}

/**
 * `formatTable` within `width` columns (default output fits TERMINAL_WIDTH: docs/engine.md) by
 * folding the cells of the `fold` columns onto more lines, widest column first, each to no less
 * than its header and its widest piece between commas and spaces: nothing is cut, so every
 * value can still be read and copied (a table that cannot fit so stays wider). A folded row's
 * further lines leave the other columns blank.
 */
export function foldTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  fold: readonly number[],
  width = TERMINAL_WIDTH,
): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => all.reduce((w, r) => Math.max(w, (r[c] ?? '').length), 0));
  const total = (): number => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const least = header.map((title, c) => rows.reduce((w, r) => Math.max(w, widestPiece(r[c] ?? '')), title.length));
  while (total() > width) {
    let widest = -1;
    for (const c of fold) if (widths[c]! > least[c]! && (widest < 0 || widths[c]! > widths[widest]!)) widest = c;
    if (widest < 0) break;
    widths[widest]!--;
  }
  const lines = rows.flatMap((row) => {
    const cells = row.map((cell, c) => (fold.includes(c) ? foldAtCommas(cell, widths[c]!) : [cell]));
    const height = Math.max(...cells.map((l) => l.length));
    return Array.from({ length: height }, (_, i) => cells.map((l) => l[i] ?? ''));
  });
  return formatTable(header, lines);
}
