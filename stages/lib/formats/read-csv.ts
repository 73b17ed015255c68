/**
 * `.csv` datasets (docs/your-data.md): a header line, then one sample per line. The label column
 * follows the rule of label-column.ts (`--label-column`, else a column called label, labels,
 * target, y or class); every other column is a numeric feature. Fields may be quoted as RFC 4180
 * and Python's csv module write them (csv-records.ts); NaN/Inf parse so that they are refused
 * with their line and column. The file is read once, through input-file.ts (a regular file of
 * bounded size), and its sha256 comes with the data.
 */
import { csvRecords, UnclosedQuote } from './csv-records.js';
import { readInputText } from './input-file.js';
import { labelColumnOf } from './label-column.js';
import { DataFileError } from './problem.js';
import type { RawDataset } from './raw-dataset.js';

/** A CSV field as a number: NaN and Inf spelt out are numbers (rejected later, by name); null if not a number. */
export function parseCsvNumber(field: string): number | null {
  if (field.length === 0) return null;
  if (/^[+-]?nan$/i.test(field)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/i.test(field)) return field.startsWith('-') ? -Infinity : Infinity;
  const v = Number(field);
  return Number.isNaN(v) ? null : v;
}

export function readCsvDataset(file: string, labelColumnName?: string): RawDataset {
  const { text, sha256 } = readInputText(file);
  let records;
  try {
    records = csvRecords(text);
  } catch (error) {
    if (error instanceof UnclosedQuote) throw new DataFileError(file, error.message);
    throw error;
  }
  if (records.length === 0) throw new DataFileError(file, 'empty file (expected a header line, then one sample per line)');
  const [headerRecord, ...rowRecords] = records;
  const header = headerRecord.fields;
  const labelColumn = labelColumnOf(file, header, labelColumnName);
  const width = header.length - 1;
  if (width < 1) throw new DataFileError(file, `line ${headerRecord.line}: the header has no feature column besides the label`);
  const values: number[] = [];
  const labels: (string | number)[] = [];
  const lineOfRow: number[] = [];
  for (const { fields, line } of rowRecords) {
    if (fields.length !== header.length)
      throw new DataFileError(file, `line ${line}: ${fields.length} fields, but the header has ${header.length} (ragged rows)`);
    fields.forEach((field, c) => {
      if (c === labelColumn) return;
      const v = parseCsvNumber(field);
      if (v === null)
        throw new DataFileError(file, `line ${line}, column ${JSON.stringify(header[c])}: ${JSON.stringify(field)} is not a number`);
      values.push(v);
    });
    const label = fields[labelColumn];
    if (label.length === 0) throw new DataFileError(file, `line ${line}: empty label`);
    labels.push(label);
    lineOfRow.push(line);
  }
  return {
    file,
    features: Float32Array.from(values),
    rows: labels.length,
    shape: [width],
    labels,
    files: [{ path: file, sha256 }],
    describeRow: (row) => ({ file, where: `line ${lineOfRow[row]}` }),
  };
}
