/**
 * CSV records as RFC 4180 (and Python's csv module, Excel, pandas) write them: fields separated by
 * commas, a field in double quotes may hold commas, line breaks and doubled quotes (`"x,y"`,
 * `"say ""hi"""`), records end at CR LF or LF. Whitespace around an unquoted field is trimmed. One
 * reader for both CSV consumers: datasets (read-csv.ts) and `compare` matrices (matrix-io.ts).
 */

/** One record: its fields and the (1-based) line it starts on; blank lines are no records. */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/** A quote left open at the end of the text: the line it opened on. */
export class UnclosedQuote extends Error {
  constructor(readonly line: number) {
    super(`line ${line}: a quoted field is not closed (a " without its closing ")`);
  }
}

/** Every record of `text`, in order (throws UnclosedQuote). */
export function csvRecords(text: string): CsvRecord[] {
  // Without a quote anywhere, a record is a line: split fast.
  if (!text.includes('"')) {
    const out: CsvRecord[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim().length === 0) continue;
      out.push({ fields: lines[i].split(',').map((f) => f.trim()), line: i + 1 });
    }
    return out;
  }
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false; // inside quotes
  let wasQuoted = false; // the current field was quoted (its spaces are kept)
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  const endField = (): void => {
    fields.push(wasQuoted ? field : field.trim());
    field = '';
    wasQuoted = false;
  };
  const endRecord = (): void => {
    endField();
    out.push({ fields, line: recordLine });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim().length === 0) {
      quoted = true;
      wasQuoted = true;
      field = '';
      quoteLine = line;
    } else if (c === ',') endField();
    else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      if (fields.length > 0 || wasQuoted || field.trim().length > 0) endRecord();
      else field = '';
      line++;
      recordLine = line;
    } else field += c;
  }
  if (quoted) throw new UnclosedQuote(quoteLine);
  if (fields.length > 0 || wasQuoted || field.trim().length > 0) endRecord();
  return out;
}
