/**
 * `.npy` datasets (docs/your-data.md): a features array of shape (N, ...) of any rank and a
 * labels array of N integers or strings. Given a directory, they are `features.npy` and
 * `labels.npy` in it; given `X.npy`, the labels are `X.labels.npy` or else `labels.npy` beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseNpyArray, type NpyArray } from './npy.js';
import { DataFileError } from './problem.js';
import type { RawDataset } from './raw-dataset.js';

/** The features and labels files of an npy dataset path (file or directory). */
export function npyFiles(path: string, isDirectory: boolean): { features: string; labels: string } {
  if (isDirectory) {
    const features = join(path, 'features.npy');
    const labels = join(path, 'labels.npy');
    for (const f of [features, labels])
      if (!existsSync(f)) throw new DataFileError(f, 'missing (an npy dataset directory holds features.npy and labels.npy)');
    return { features, labels };
  }
  const own = join(dirname(path), `${basename(path, '.npy')}.labels.npy`);
  const shared = join(dirname(path), 'labels.npy');
  const labels = existsSync(own) ? own : shared;
  if (!existsSync(labels)) throw new DataFileError(path, `no labels: expected ${own} or ${shared} beside it`);
  return { features: path, labels };
}

function readNpy(file: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DataFileError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseNpyArray(bytes, file);
}

export function readNpyDataset(path: string, isDirectory: boolean): RawDataset {
  const files = npyFiles(path, isDirectory);
  const x = readNpy(files.features);
  const y = readNpy(files.labels);
  if (x.kind !== 'number') throw new DataFileError(files.features, 'features must be numbers, not strings');
  if (x.shape.length < 2)
    throw new DataFileError(
      files.features,
      `features have shape (${x.shape.join(', ')}); expected (samples, ...) with at least one feature axis`,
    );
  const rows = x.shape[0];
  const ySamples = y.shape.length === 2 && y.shape[1] === 1 ? y.shape[0] : y.shape.length === 1 ? y.shape[0] : -1;
  if (ySamples < 0)
    throw new DataFileError(files.labels, `labels have shape (${y.shape.join(', ')}); expected one label per sample, shape (${rows},)`);
  if (ySamples !== rows)
    throw new DataFileError(
      files.labels,
      `${ySamples} labels for ${rows} samples: features ${files.features} have shape (${x.shape.join(', ')})`,
    );
  if (y.kind === 'number' && !y.integer) {
    const bad = y.values.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0) throw new DataFileError(files.labels, `row ${bad}: label ${y.values[bad]} is not an integer`);
  }
  const labels = y.kind === 'number' ? Array.from(y.values) : [...y.values];
  return {
    file: files.features,
    features: Float32Array.from(x.values),
    rows,
    shape: x.shape.slice(1),
    labels,
    describeRow: (row) => ({ file: files.features, where: `row ${row}` }),
  };
}
