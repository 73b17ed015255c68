/**
 * A class subset of a `files:` dataset (docs/your-data.md) for a study's `generate-data`: the
 * files are read and checked by stages/files/ (any sample shape; images decoded at their own
 * size), the requested classes (indices into the sorted labels) are picked, and each class is
 * split into training and test samples by a fixed rule independent of the seed: the 1st, 8th,
 * 15th, ... sample of a class (one in seven, in file order) is held out for testing, like the
 * built-in datasets' one-in-seven test split.
 */
import { resolve } from 'node:path';
import type { Dataset } from '../dataset-table.js';
import { readFileDataset } from '../files/read.js';
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

/** Reads `path` and returns the samples of `classes` (in the order listed), per split. */
export async function loadFileClassSubset(path: string, classes: readonly number[]): Promise<ClassSubsetImages> {
  const { train: data } = await readFileDataset({ path: resolve(path) }, { size: null, channels: null });
  const dim = data.shape.reduce((a, b) => a * b, 1);
  const train: ClassSamples[] = [];
  const test: ClassSamples[] = [];
  for (const c of classes) {
    if (c >= data.classes.length)
      throw new DatasetUnavailable(
        `class ${c} is not in ${path}: its ${data.classes.length} classes (sorted labels) are 0..${data.classes.length - 1} = ${data.classes.join(', ')}`,
      );
    const split = classSplit(data, c, dim);
    if (split.train.count === 0)
      throw new DatasetUnavailable(
        `class ${c} (${data.classes[c]}) of ${path} has ${split.test.count} sample(s): too few to hold out one in ${FILE_TEST_EVERY} for testing and train on the rest`,
      );
    train.push(split.train);
    test.push(split.test);
  }
  return { shape: [...data.shape], train, test, classNames: classes.map((c) => data.classes[c]) };
}
