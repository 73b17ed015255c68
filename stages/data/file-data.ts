/**
 * A class subset of a `files:` dataset (docs/your-data.md) for a study's `generate-data`: the
 * files are read and checked by stages/lib/formats/ (any sample shape; images decoded at their own
 * size), the requested classes (indices into the sorted labels) are picked, and each class is
 * split into training and test samples by a fixed rule independent of the seed: the 1st, 8th,
 * 15th, ... sample of a class (one in seven, in file order) is held out for testing, like the
 * built-in datasets' one-in-seven test split. A `{train, test}` pair brings its own test split.
 */
import type { Dataset } from '../lib/tables/dataset-table.js';
import { readFileDataset, readPlannedFileDataset, type FileDatasetSpec } from '../lib/formats/read.js';
import type { ImageOptions } from '../lib/formats/read-images.js';
import { DatasetUnavailable } from './image-catalog.js';
import type { ClassSamples, ClassSubsetImages } from './image-data.js';

/** Every seventh sample of a class (from its first) is a test sample. */
export const FILE_TEST_EVERY = 7;

function classSplit(data: Dataset, label: number, dim: number): { train: ClassSamples; test: ClassSamples } {
  const rows: number[] = [];
  for (let i = 0; i < data.rows; i++) if (data.labels[i] === label) rows.push(i);
  const testRows = rows.filter((_, k) => k % FILE_TEST_EVERY === 0);
  const trainRows = rows.filter((_, k) => k % FILE_TEST_EVERY !== 0);
  const gather = (picked: number[]): ClassSamples => {
    const images = new Float32Array(picked.length * dim);
    picked.forEach((row, k) => images.set(data.features.subarray(row * dim, (row + 1) * dim), k * dim));
    return { images, count: picked.length };
  };
  return { train: gather(trainRows), test: gather(testRows) };
}

/** The samples of class `label` of `data`, all in one split. */
function wholeClass(data: Dataset, label: number, dim: number): ClassSamples {
  const rows: number[] = [];
  for (let i = 0; i < data.rows; i++) if (data.labels[i] === label) rows.push(i);
  const images = new Float32Array(rows.length * dim);
  rows.forEach((row, k) => images.set(data.features.subarray(row * dim, (row + 1) * dim), k * dim));
  return { images, count: rows.length };
}

/**
 * Reads a file dataset and returns the samples of `classes` (in the order listed), per split:
 * one path is split one in seven; a `{train, test}` pair is its own split (the same classes in
 * both files, checked when read). Image folders are decoded with `images`.
 */
export async function loadFileClassSubset(
  spec: FileDatasetSpec,
  classes: readonly number[],
  images: ImageOptions = { size: null, channels: null },
  planned: string | null = null,
): Promise<ClassSubsetImages> {
  // The bytes read must be those the plan keyed (`data_sha256`): data edited since are refused.
  const { train: data, test: testData } =
    planned === null ? await readFileDataset(spec, images) : await readPlannedFileDataset(spec, images, planned);
  const name = 'path' in spec ? spec.path : spec.train;
  const dim = data.shape.reduce((a, b) => a * b, 1);
  const train: ClassSamples[] = [];
  const test: ClassSamples[] = [];
  for (const c of classes) {
    if (c >= data.classes.length)
      throw new DatasetUnavailable(
        `class ${c} is not in ${name}: its ${data.classes.length} classes (sorted labels) are 0..${data.classes.length - 1} = ${data.classes.join(', ')}`,
      );
    if (testData !== null) {
      train.push(wholeClass(data, c, dim));
      test.push(wholeClass(testData, c, dim));
      continue;
    }
    const split = classSplit(data, c, dim);
    if (split.train.count === 0)
      throw new DatasetUnavailable(
        `class ${c} (${data.classes[c]}) of ${name} has ${split.test.count} sample(s): too few to hold out one in ${FILE_TEST_EVERY} for testing and train on the rest`,
      );
    train.push(split.train);
    test.push(split.test);
  }
  return { shape: [...data.shape], train, test, classNames: classes.map((c) => data.classes[c]) };
}
