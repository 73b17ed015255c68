/**
 * `.npy` datasets (docs/your-data.md): a features array of shape (N, ...) of any rank and a
 * labels array of N integers or strings. Given `X.npy`, the labels are `X.labels.npy` or else
 * `labels.npy` beside it. Given a directory: `features.npy` and `labels.npy` in it, or else its one
 * `X.npy` with `X.labels.npy` (a directory holding any `.npy` file is an npy dataset, never an
 * image folder: read.ts). (N, H, W) features are images of one channel: samples (H, W, 1).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseNpyArray, type NpyArray } from './npy.js';
import { DataFileError } from './problem.js';
import { readInputFile } from './input-file.js';
import type { RawDataset, ReadFile } from './raw-dataset.js';

/** The features and labels files of an npy dataset path (file or directory). */
export function npyFiles(path: string, isDirectory: boolean): { features: string; labels: string } {
  if (isDirectory) {
    const features = join(path, 'features.npy');
    const labels = join(path, 'labels.npy');
    if (existsSync(features) || existsSync(labels)) {
      for (const f of [features, labels])
        if (!existsSync(f)) throw new DataFileError(f, 'missing (an npy dataset directory holds features.npy and labels.npy)');
      return { features, labels };
    }
    const npy = readdirSync(path).filter((n) => n.endsWith('.npy'));
    const pairs = npy.filter((n) => !n.endsWith('.labels.npy') && npy.includes(`${basename(n, '.npy')}.labels.npy`));
    if (pairs.length === 1) return { features: join(path, pairs[0]!), labels: join(path, `${basename(pairs[0]!, '.npy')}.labels.npy`) };
    throw new DataFileError(
      path,
      `a directory with .npy files (${npy.slice(0, 6).join(', ')}${npy.length > 6 ? ', ...' : ''}) is an npy dataset: it must hold ` +
        `features.npy and labels.npy, or one X.npy with its X.labels.npy${pairs.length > 1 ? ` (it holds ${pairs.length} such pairs; give the file, e.g. ${join(path, pairs[0]!)})` : ''}`,
    );
  }
  const own = join(dirname(path), `${basename(path, '.npy')}.labels.npy`);
  const shared = join(dirname(path), 'labels.npy');
  const labels = existsSync(own) ? own : shared;
  if (!existsSync(labels)) throw new DataFileError(path, `no labels: expected ${own} or ${shared} beside it`);
  return { features: path, labels };
}

function readNpy(file: string, read: ReadFile[], options: { exactIntegers?: boolean } = {}): NpyArray {
  const { bytes, sha256 } = readInputFile(file);
  read.push({ path: file, sha256 });
  return parseNpyArray(bytes, file, options);
}

export function readNpyDataset(path: string, isDirectory: boolean): RawDataset {
  const files = npyFiles(path, isDirectory);
  const read: ReadFile[] = [];
  const x = readNpy(files.features, read);
  // Labels keep their exact value: int64 labels beyond 2^53 must not merge (labels.ts).
  const y = readNpy(files.labels, read, { exactIntegers: true });
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
    // (N, H, W): grey images, one channel, as a network taking (H, W, 1) expects them.
    shape: x.shape.length === 3 ? [...x.shape.slice(1), 1] : x.shape.slice(1),
    labels,
    files: read,
    describeRow: (row) => ({ file: files.features, where: `row ${row}` }),
  };
}
