/**
 * Datasets from files (docs/your-data.md): `files:<path>` wherever a dataset is named, or an
 * explicit `{train: PATH, test: PATH}` pair. The format follows the path:
 *   a directory with features.npy + labels.npy, or `X.npy`  -> NumPy arrays (read-npy.ts)
 *   `X.arrow`                                                -> defrost's table layout (read-arrow.ts)
 *   `X.csv`                                                  -> a label column + numeric features (read-csv.ts)
 *   any other directory                                      -> an image folder (read-images.ts)
 * `readFileDataset` reads and checks everything (values finite, labels per sample, classes with
 * samples) and throws a `DataFileError` (exit 2) naming the file, the row or image and the
 * problem; commands call it before planning, so bad data never reaches the store.
 * `fingerprintFileDataset` hashes the bytes of every file read: it is what enters cache keys.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, relative, resolve } from 'node:path';
import type { Dataset } from '../tables/dataset-table.js';
import { sortedClassNames } from './labels.js';
import { DataFileError } from './problem.js';
import { StageFailure } from '../../../pipeline/errors.js';
import { hashInputFile, inputPathKind } from './input-file.js';
import { finishDataset, type RawDataset, type ReadFile } from './raw-dataset.js';
import { listImageFolder, readImageFolder, type ImageOptions } from './read-images.js';
import { npyFiles, readNpyDataset } from './read-npy.js';

export const FILES_PREFIX = 'files:';

/**
 * A dataset from files: one path (all labelled samples), or explicit train and test paths; for
 * CSV and flat Arrow tables, optionally the column holding the labels (label-column.ts).
 */
export type FileDatasetSpec = ({ readonly path: string } | { readonly train: string; readonly test: string }) & {
  readonly label_column?: string;
};

export type FileFormat = 'npy' | 'arrow' | 'csv' | 'images';

/** `files:<path>` -> the path; null for any other dataset name. */
export function filesPath(dataset: string): string | null {
  return dataset.startsWith(FILES_PREFIX) ? dataset.slice(FILES_PREFIX.length) : null;
}

/** A dataset as a study config names it: a name (`files:<path>`, `mnist`...) or a train/test pair of paths. */
export type NamedDataset = string | { readonly train: string; readonly test: string };

/**
 * The files of a dataset, paths resolved against the working directory: `files:<path>` is one
 * path, a `{train, test}` pair two; null for the built-in datasets.
 */
export function fileSpecOf(dataset: NamedDataset): FileDatasetSpec | null {
  if (typeof dataset !== 'string') return { train: resolve(dataset.train), test: resolve(dataset.test) };
  const path = filesPath(dataset);
  return path === null ? null : { path: resolve(path) };
}

/** How a dataset is named in messages, reports and random stream names. */
export function datasetLabel(dataset: NamedDataset): string {
  return typeof dataset === 'string' ? dataset : `files:{train: ${dataset.train}, test: ${dataset.test}}`;
}

function statOrFail(path: string): { directory: boolean } {
  // A FIFO, device or socket named as a dataset is refused here, before anything opens it.
  return { directory: inputPathKind(path) === 'directory' };
}

/** The format of a dataset path, from what is there. */
export function fileFormatOf(path: string): FileFormat {
  const { directory } = statOrFail(path);
  // Any .npy file at the top makes a directory an npy dataset (read-npy.ts says which files it
  // must hold); otherwise it is an image folder (one sub-folder per class).
  if (directory) return hasNpyFile(path) ? 'npy' : 'images';
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.arrow') return 'arrow';
  if (ext === '.csv') return 'csv';
  throw new DataFileError(
    path,
    `unsupported file type "${ext || '(none)'}"; allowed: .npy, .arrow, .csv, or a directory (npy pair or image folder)`,
  );
}

function hasNpyFile(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => name.toLowerCase().endsWith('.npy'));
  } catch {
    return false;
  }
}

/** `--label-column` names a column of a table: CSV and Arrow have columns, npy and image folders do not. */
export function checkLabelColumnFormat(path: string, format: FileFormat, labelColumn: string | undefined): void {
  if (labelColumn !== undefined && format !== 'csv' && format !== 'arrow')
    throw new DataFileError(
      path,
      `--label-column ${labelColumn}: only CSV and Arrow tables have named columns (${format === 'npy' ? 'npy labels are in their own file' : 'an image folder labels by sub-folder'})`,
    );
}

async function readRaw(path: string, images: ImageOptions, labelColumn?: string): Promise<RawDataset> {
  const format = fileFormatOf(path);
  checkLabelColumnFormat(path, format, labelColumn);
  switch (format) {
    case 'npy':
      return readNpyDataset(path, statOrFail(path).directory);
    case 'arrow':
      return (await import('./read-arrow.js')).readArrowDataset(path, labelColumn);
    case 'csv':
      return (await import('./read-csv.js')).readCsvDataset(path, labelColumn);
    case 'images':
      return readImageFolder(path, images);
  }
}

/**
 * The labelled data of a file dataset: `test` is null when only one path was given. `sha256` is
 * the dataset's fingerprint (`fingerprintFileDataset`) computed from the very bytes the data
 * were parsed from, so a caller holding the planned fingerprint knows whether these are the
 * data it planned with.
 */
export interface FileDataset {
  readonly train: Dataset;
  readonly test: Dataset | null;
  readonly sha256: string;
}

function splitPaths(spec: FileDatasetSpec): { train: string; test: string | null } {
  return 'path' in spec ? { train: spec.path, test: null } : { train: spec.train, test: spec.test };
}

/** Reads and checks a file dataset (both parts of a pair, with the training part's classes). */
export async function readFileDataset(spec: FileDatasetSpec, images: ImageOptions): Promise<FileDataset> {
  const paths = splitPaths(spec);
  const trainRaw = await readRaw(paths.train, images, spec.label_column);
  const train = finishDataset(trainRaw);
  if (paths.test === null) return { train, test: null, sha256: fingerprintOf(spec, [...trainRaw.files]) };
  // The test part is brought to the training part's image size and channels.
  const sameImages: ImageOptions =
    train.shape.length === 3 ? { size: [train.shape[0], train.shape[1]], channels: train.shape[2] === 1 ? 1 : 3 } : images;
  const testRaw = await readRaw(paths.test, sameImages, spec.label_column);
  if (testRaw.shape.join('x') !== train.shape.join('x'))
    throw new DataFileError(paths.test, `samples of shape [${testRaw.shape}] but the training data ${paths.train} has [${train.shape}]`);
  checkPairClasses({ train: paths.train, test: paths.test }, train.classes, testRaw.classes ?? sortedClassNames(testRaw.labels));
  const test = finishDataset(testRaw, train.classes);
  return { train, test, sha256: fingerprintOf(spec, [...trainRaw.files, ...testRaw.files]) };
}

/**
 * Reads a file dataset that a plan keyed by `planned` (its fingerprint then): data whose bytes
 * changed since are refused, naming what to do, instead of being computed under a key that
 * promises the old ones (docs/reliability.md, "Your files").
 */
export async function readPlannedFileDataset(spec: FileDatasetSpec, images: ImageOptions, planned: string): Promise<FileDataset> {
  const data = await readFileDataset(spec, images);
  if (data.sha256 !== planned)
    throw new StageFailure(
      `the data files of ${'path' in spec ? spec.path : `${spec.train} and ${spec.test}`} changed since this instance was planned ` +
        `(planned sha256 ${planned.slice(0, 12)}..., read ${data.sha256.slice(0, 12)}...); nothing was computed from them. ` +
        'Plan again with the data as they are now (`defrost run`, or `defrost make` for a Makefile)',
    );
  return data;
}

/**
 * A train/test pair holds the same classes: a class only one file has could never be learned, or
 * never be measured. A DataFileError naming both files and the classes that differ.
 */
export function checkPairClasses(
  pair: { readonly train: string; readonly test: string },
  trainClasses: readonly string[],
  testClasses: readonly string[],
): void {
  const onlyTrain = trainClasses.filter((c) => !testClasses.includes(c));
  const onlyTest = testClasses.filter((c) => !trainClasses.includes(c));
  if (onlyTrain.length === 0 && onlyTest.length === 0) return;
  const differ = [
    onlyTrain.length > 0 ? `only in the training data: ${onlyTrain.join(', ')}` : '',
    onlyTest.length > 0 ? `only in the test data: ${onlyTest.join(', ')}` : '',
  ].filter((s) => s.length > 0);
  throw new DataFileError(
    pair.test,
    `its classes (${testClasses.join(', ')}) differ from those of the training data ${pair.train} (${trainClasses.join(', ')}); ` +
      `${differ.join('; ')}. A train/test pair must hold the same classes`,
  );
}

/** Every file a dataset path is read from. */
export function filesOf(path: string): string[] {
  const format = fileFormatOf(path);
  if (format === 'images') return listImageFolder(path).flatMap((c) => c.files);
  if (format === 'npy') {
    const f = npyFiles(path, statOrFail(path).directory);
    return [f.features, f.labels];
  }
  return [path];
}

/**
 * sha256 over every file's path (relative to the dataset path) and the sha256 of its bytes, plus
 * the image decoder (the installed sharp package's version) for image folders: two datasets with
 * the same fingerprint decode to the same samples. At plan time every file is stream-hashed
 * (input-file.ts), never read whole; a reader's `files` give the same value from the bytes it
 * parsed (`readFileDataset`).
 */
export function fingerprintFileDataset(spec: FileDatasetSpec): string {
  return fingerprintOf(spec, []);
}

function imageDecoder(): string {
  try {
    const version = (createRequire(import.meta.url)('sharp/package.json') as { version?: string }).version;
    return `sharp ${version ?? 'unknown'} (package)`;
  } catch {
    return 'sharp not installed'; // image folders then fail when read, with their own message
  }
}

/** The fingerprint of `spec`, taking each file's sha256 from `read` (what a reader parsed) or else hashing it. */
function fingerprintOf(spec: FileDatasetSpec, read: readonly ReadFile[]): string {
  const known = new Map(read.map((f) => [f.path, f.sha256]));
  const hash = createHash('sha256');
  const paths = splitPaths(spec);
  for (const [part, path] of [
    ['train', paths.train],
    ['test', paths.test],
  ] as const) {
    if (path === null) continue;
    const root = statOrFail(path).directory ? path : resolve(path, '..');
    const format = fileFormatOf(path);
    hash.update(`${part}\u0000${format}\u0000`);
    if (format === 'images') hash.update(`${imageDecoder()}\u0000`);
    for (const file of filesOf(path)) {
      hash.update(`${relative(root, file)}\u0000`);
      hash.update(known.get(file) ?? hashInputFile(file));
      hash.update('\n');
    }
  }
  return hash.digest('hex');
}
