/**
 * `.csv` datasets (docs/your-data.md): a header line, then one sample per line. The label column
 * follows the rule of label-column.ts (`--label-column`, else a column called label, labels,
 * target, y or class); every other column is a numeric feature.
 * Fields may be quoted; NaN/Inf parse so that they are refused with their line and column.
 */
import { readFileSync } from 'node:fs';
import { labelColumnOf } from './label-column.js';
import { DataFileError } from './problem.js';
import type { RawDataset } from './raw-dataset.js';

function splitFields(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

/** A CSV field as a number: NaN and Inf spelt out are numbers (rejected later, by name); null if not a number. */
export function parseCsvNumber(field: string): number | null {
  if (field.length === 0) return null;
  if (/^[+-]?nan$/i.test(field)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/i.test(field)) return field.startsWith('-') ? -Infinity : Infinity;
  const v = Number(field);
  return Number.isNaN(v) ? null : v;
}

export function readCsvDataset(file: string, labelColumnName?: string): RawDataset {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DataFileError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const lines = text.split(/\r?\n/);
  const headerLine = lines.findIndex((l) => l.trim().length > 0);
  if (headerLine < 0) throw new DataFileError(file, 'empty file (expected a header line, then one sample per line)');
  const header = splitFields(lines[headerLine]);
  const labelColumn = labelColumnOf(file, header, labelColumnName);
  const width = header.length - 1;
  if (width < 1) throw new DataFileError(file, `line ${headerLine + 1}: the header has no feature column besides the label`);
  const values: number[] = [];
  const labels: (string | number)[] = [];
  const lineOfRow: number[] = [];
  for (let ln = headerLine + 1; ln < lines.length; ln++) {
    if (lines[ln].trim().length === 0) continue;
    const fields = splitFields(lines[ln]);
    if (fields.length !== header.length)
      throw new DataFileError(file, `line ${ln + 1}: ${fields.length} fields, but the header has ${header.length} (ragged rows)`);
    fields.forEach((field, c) => {
      if (c === labelColumn) return;
      const v = parseCsvNumber(field);
      if (v === null) throw new DataFileError(file, `line ${ln + 1}, column "${header[c]}": "${field}" is not a number`);
      values.push(v);
    });
    const label = fields[labelColumn];
    if (label.length === 0) throw new DataFileError(file, `line ${ln + 1}: empty label`);
    labels.push(label);
    lineOfRow.push(ln + 1);
  }
  return {
    file,
    features: Float32Array.from(values),
    rows: labels.length,
    shape: [width],
    labels,
    describeRow: (row) => ({ file, where: `line ${lineOfRow[row]}` }),
  };
}
