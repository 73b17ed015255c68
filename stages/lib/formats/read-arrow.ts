/**
 * `.arrow` datasets: the table layout defrost itself writes (stages/lib/tables/dataset-table.ts), so a
 * `generate-data` output or a table exported by another tool in that layout can be used as is.
 * Labels are indices into the `classes` metadata, whose order is kept.
 */
import { DataFileError } from './problem.js';
import type { RawDataset } from './raw-dataset.js';

export async function readArrowDataset(file: string): Promise<RawDataset> {
  const { readDataset } = await import('../tables/dataset-table.js');
  let data;
  try {
    data = readDataset(file);
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
    describeRow: (row) => ({ file, where: `row ${row}` }),
  };
}
