/**
 * `.arrow` datasets, in either of two layouts (docs/your-data.md):
 * - the table layout defrost itself writes (stages/lib/tables/dataset-table.ts: a `features`
 *   FixedSizeList column, `label`, `shape` and `classes` metadata), so a `generate-data` output
 *   can be used as is; labels are indices into the `classes` metadata, whose order is kept;
 * - a flat table, as pandas writes one (`df.to_feather`): one numeric column per feature and a
 *   label column found by the rule of label-column.ts, like a CSV file.
 */
import { readInputFile } from './input-file.js';
import { labelColumnOf } from './label-column.js';
import { DataFileError } from './problem.js';
import type { RawDataset } from './raw-dataset.js';
import type { RawLabel } from './labels.js';

export async function readArrowDataset(file: string, labelColumnName?: string): Promise<RawDataset> {
  const { tableFromIPC, DataType } = await import('apache-arrow');
  const { bytes, sha256 } = readInputFile(file);
  let table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new DataFileError(file, `not an Arrow IPC file (${(error as Error).message.split('\n')[0]})`);
  }
  const fields = table.schema.fields;
  if (fields.some((f) => f.name === 'features' && DataType.isFixedSizeList(f.type))) {
    if (labelColumnName !== undefined && labelColumnName !== 'label')
      throw new DataFileError(
        file,
        `--label-column ${labelColumnName}: a table in defrost's layout (a features column) keeps its labels in "label"`,
      );
    return readDefrostLayout(file, bytes, sha256);
  }
  const names = fields.map((f) => f.name);
  const labelIndex = labelColumnOf(file, names, labelColumnName);
  const featureFields = fields.filter((_, i) => i !== labelIndex);
  if (featureFields.length === 0) throw new DataFileError(file, 'no feature column besides the label');
  for (const f of featureFields)
    if (!(DataType.isInt(f.type) || DataType.isFloat(f.type) || DataType.isBool(f.type)))
      throw new DataFileError(file, `column "${f.name}" (${String(f.type)}) is not numeric; every column but the label is a feature`);
  const rows = table.numRows;
  const width = featureFields.length;
  const features = new Float32Array(rows * width);
  featureFields.forEach((f, c) => {
    const column = table.getChild(f.name)!;
    for (let r = 0; r < rows; r++) {
      const v = column.get(r) as number | bigint | boolean | null;
      // A null is not a number: refused by the finite-value check with its row and column.
      features[r * width + c] = v === null ? Number.NaN : Number(v);
    }
  });
  const labelColumn = table.getChild(names[labelIndex]!)!;
  const labels: RawLabel[] = [];
  for (let r = 0; r < rows; r++) {
    const v = labelColumn.get(r) as unknown;
    if (v === null || v === undefined) throw new DataFileError(file, `row ${r}: empty label`);
    labels.push(typeof v === 'bigint' ? v.toString() : typeof v === 'number' ? v : String(v));
  }
  return {
    file,
    features,
    rows,
    shape: [width],
    labels,
    files: [{ path: file, sha256 }],
    describeRow: (row) => ({ file, where: `row ${row}` }),
  };
}

/** A table in defrost's layout, from the bytes already read (and hashed). */
async function readDefrostLayout(file: string, bytes: Buffer, sha256: string): Promise<RawDataset> {
  const { datasetFromBytes } = await import('../tables/dataset-table.js');
  let data;
  try {
    data = datasetFromBytes(bytes, file);
  } catch (error) {
    const message = (error as Error).message.replace(`${file} is not a defrost dataset table: `, '');
    throw new DataFileError(file, `not a defrost dataset table (features FixedSizeList<Float32>, label Int32): ${message}`);
  }
  const classes = data.classes;
  const bad = data.labels.findIndex((y) => y < 0 || y >= classes.length);
  if (bad >= 0) throw new DataFileError(file, `row ${bad}: label ${data.labels[bad]} is not a class index 0..${classes.length - 1}`);
  return {
    file,
    features: data.features,
    rows: data.rows,
    shape: data.shape,
    labels: Array.from(data.labels, (y) => classes[y]),
    classes,
    files: [{ path: file, sha256 }],
    describeRow: (row) => ({ file, where: `row ${row}` }),
  };
}
