/**
 * Datasets from files (docs/your-data.md): each format is read into the dataset layout with its
 * labels mapped to 0..C-1 in sorted order, and each kind of bad input is refused with a
 * DataFileError (exit 2) naming the file, the row or image, and the problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeDataset } from '../stages/lib/tables/dataset-table.js';
import { readImageHeader } from '../stages/lib/formats/image-header.js';
import { npyBytes } from '../pipeline/npy.js';
import { encodeNpyArray } from '../stages/lib/formats/npy.js';
import { DataFileError } from '../stages/lib/formats/problem.js';
import { fingerprintFileDataset, readFileDataset, type FileDatasetSpec } from '../stages/lib/formats/read.js';
import type { ImageOptions } from '../stages/lib/formats/read-images.js';

const KEEP: ImageOptions = { size: null, channels: null };

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-files-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A `.npy` of fixed-width unicode strings (`<U{width}`), as NumPy writes `np.array(['a', ...])`. */
function unicodeNpy(values: string[]): Buffer {
  const width = Math.max(...values.map((v) => v.length));
  const codes = new Uint32Array(values.length * width);
  values.forEach((v, i) => [...v].forEach((ch, k) => (codes[i * width + k] = ch.codePointAt(0) ?? 0)));
  return npyBytes(`'<U${width}'`, [values.length], codes);
}

/** A 4x6 image whose pixels encode its class (bright or dark), written as PNG or JPEG. */
async function writeImage(file: string, bright: boolean, format: 'png' | 'jpeg', channels: 1 | 3 = 1): Promise<void> {
  const raw = Buffer.alloc(4 * 6 * channels, bright ? 230 : 20);
  const img = sharp(raw, { raw: { width: 6, height: 4, channels } }).toColourspace(channels === 1 ? 'b-w' : 'srgb');
  await (format === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

async function imageFolder(root: string, format: 'png' | 'jpeg', perClass = 3): Promise<void> {
  for (const [name, bright] of [
    ['dark', false],
    ['bright', true],
  ] as const) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) await writeImage(join(root, name, `${i}.${format === 'png' ? 'png' : 'jpg'}`), bright, format);
  }
}

async function rejects(spec: FileDatasetSpec, file: string, problem: RegExp, images: ImageOptions = KEEP): Promise<void> {
  await assert.rejects(readFileDataset(spec, images), (error: unknown) => {
    assert.ok(error instanceof DataFileError, `expected a DataFileError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.startsWith(file), `message names ${file}: ${error.message}`);
    assert.match(error.message, problem);
    return true;
  });
}

test('npy directory: features of any shape, integer labels mapped to 0..C-1 in numeric order', async () => {
  await withTempDir(async (dir) => {
    const features = Float32Array.from({ length: 6 * 2 * 2 * 1 }, (_, i) => i / 10);
    writeFileSync(join(dir, 'features.npy'), encodeNpyArray([6, 2, 2, 1], features));
    writeFileSync(join(dir, 'labels.npy'), encodeNpyArray([6], Int32Array.of(10, 2, 10, 7, 2, 7)));
    const { train, test: held } = await readFileDataset({ path: dir }, KEEP);
    assert.equal(held, null);
    assert.deepEqual(train.shape, [2, 2, 1]);
    assert.equal(train.rows, 6);
    assert.deepEqual(train.classes, ['2', '7', '10']);
    assert.deepEqual([...train.labels], [2, 0, 2, 1, 0, 1]);
    assert.ok(Math.abs(train.features[5] - 0.5) < 1e-6);
  });
});

test('npy file with string labels beside it (X.labels.npy): names sorted as text', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(
      join(dir, 'x.npy'),
      encodeNpyArray(
        [4, 3],
        Float32Array.from({ length: 12 }, (_, i) => i),
      ),
    );
    writeFileSync(join(dir, 'x.labels.npy'), unicodeNpy(['dog', 'cat', 'dog', 'ant']));
    const { train } = await readFileDataset({ path: join(dir, 'x.npy') }, KEEP);
    assert.deepEqual(train.classes, ['ant', 'cat', 'dog']);
    assert.deepEqual([...train.labels], [2, 1, 2, 0]);
    assert.deepEqual(train.shape, [3]);
  });
});

test('csv: the label column by name, numeric features, quoted fields', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'd.csv');
    writeFileSync(file, 'x1,label,x2\n0.5,"b",1\n1.5,a,2\n\n2.5,b,3\n');
    const { train } = await readFileDataset({ path: file }, KEEP);
    assert.deepEqual(train.classes, ['a', 'b']);
    assert.deepEqual([...train.labels], [1, 0, 1]);
    assert.deepEqual([...train.features], [0.5, 1, 1.5, 2, 2.5, 3]);
  });
});

test('arrow: defrost table layout, class order of its metadata kept', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 't.arrow');
    writeDataset(file, {
      features: Float32Array.from({ length: 8 }, (_, i) => i),
      labels: Int32Array.of(1, 0, 1, 0),
      rows: 4,
      shape: [2],
      classes: ['zebra', 'ant'],
      provenance: {},
    });
    const { train } = await readFileDataset({ path: file }, KEEP);
    assert.deepEqual(train.classes, ['zebra', 'ant']);
    assert.deepEqual([...train.labels], [1, 0, 1, 0]);
    assert.deepEqual(train.shape, [2]);
  });
});

test('PNG and JPEG folders: one class per sub-folder, resized and converted to the configured shape', async () => {
  await withTempDir(async (dir) => {
    for (const format of ['png', 'jpeg'] as const) {
      const root = join(dir, format);
      await imageFolder(root, format);
      const kept = await readFileDataset({ path: root }, KEEP);
      assert.deepEqual(kept.train.shape, [4, 6, 1]);
      assert.deepEqual(kept.train.classes, ['bright', 'dark']);
      assert.deepEqual([...kept.train.labels], [0, 0, 0, 1, 1, 1]);
      const resized = await readFileDataset({ path: root }, { size: [8, 8], channels: 3 });
      assert.deepEqual(resized.train.shape, [8, 8, 3]);
      const { features, labels } = resized.train;
      const meanOf = (row: number): number => features.subarray(row * 192, (row + 1) * 192).reduce((a, b) => a + b, 0) / 192;
      for (let r = 0; r < 6; r++) assert.ok(labels[r] === 0 ? meanOf(r) > 0.8 : meanOf(r) < 0.2, `${format} row ${r} mean ${meanOf(r)}`);
    }
  });
});

test('a train/test pair shares the training classes and image shape; the fingerprint follows the bytes', async () => {
  await withTempDir(async (dir) => {
    await imageFolder(join(dir, 'train'), 'png');
    await imageFolder(join(dir, 'test'), 'jpeg', 2);
    const spec = { train: join(dir, 'train'), test: join(dir, 'test') };
    const { train, test: held } = await readFileDataset(spec, { size: [5, 5], channels: 1 });
    assert.deepEqual(held?.shape, [5, 5, 1]);
    assert.deepEqual(held?.classes, train.classes);
    const before = await fingerprintFileDataset(spec);
    assert.equal(await fingerprintFileDataset(spec), before);
    await writeImage(join(dir, 'test', 'dark', '1.jpg'), true, 'jpeg');
    assert.notEqual(await fingerprintFileDataset(spec), before);
  });
});

test('bad input is refused naming the file, the row or image, and the problem', async () => {
  await withTempDir(async (dir) => {
    const csv = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const ragged = csv('ragged.csv', 'label,a,b\n0,1,2\n1,3\n');
    await rejects({ path: ragged }, ragged, /line 3: 2 fields, but the header has 3 \(ragged rows\)/);
    const nan = csv('nan.csv', 'label,a\n0,1\n1,NaN\n');
    await rejects({ path: nan }, nan, /line 3: value NaN .* not a finite number/);

    mkdirSync(join(dir, 'inf'));
    const inf = Float32Array.of(1, 2, 3, Infinity);
    writeFileSync(join(dir, 'inf', 'features.npy'), encodeNpyArray([2, 2], inf));
    writeFileSync(join(dir, 'inf', 'labels.npy'), encodeNpyArray([2], Int32Array.of(0, 1)));
    await rejects({ path: join(dir, 'inf') }, join(dir, 'inf', 'features.npy'), /row 1: value Infinity at feature 1/);

    mkdirSync(join(dir, 'mismatch'));
    writeFileSync(join(dir, 'mismatch', 'features.npy'), encodeNpyArray([3, 2], new Float32Array(6)));
    writeFileSync(join(dir, 'mismatch', 'labels.npy'), encodeNpyArray([2], Int32Array.of(0, 1)));
    await rejects({ path: join(dir, 'mismatch') }, join(dir, 'mismatch', 'labels.npy'), /2 labels for 3 samples/);

    await imageFolder(join(dir, 'broken'), 'png');
    writeFileSync(join(dir, 'broken', 'dark', '1.png'), 'not a png at all');
    await rejects({ path: join(dir, 'broken') }, join(dir, 'broken', 'dark', '1.png'), /cannot decode the image/);

    await imageFolder(join(dir, 'empty'), 'png');
    mkdirSync(join(dir, 'empty', 'nothing'));
    await rejects({ path: join(dir, 'empty') }, join(dir, 'empty', 'nothing'), /class "nothing" is empty/);

    await rejects({ path: join(dir, 'nowhere.csv') }, join(dir, 'nowhere.csv'), /no such file or directory/);

    await imageFolder(join(dir, 'sizes'), 'png');
    await sharp(Buffer.alloc(9 * 9, 5), { raw: { width: 9, height: 9, channels: 1 } })
      .png()
      .toFile(join(dir, 'sizes', 'dark', '9.png'));
    await rejects({ path: join(dir, 'sizes') }, join(dir, 'sizes', 'dark', '9.png'), /9x9 pixels, but .* is 4x6: give an image size/);
  });
});

test('image headers: size and channels of PNG and JPEG files without decoding, as sharp decodes them', async () => {
  await withTempDir(async (dir) => {
    const cases: [string, number, 'png' | 'jpeg'][] = [
      ['grey.png', 1, 'png'],
      ['rgb.png', 3, 'png'],
      ['rgba.png', 4, 'png'],
      ['grey.jpg', 1, 'jpeg'],
      ['rgb.jpg', 3, 'jpeg'],
    ];
    for (const [name, channels, format] of cases) {
      const raw = Buffer.alloc(5 * 7 * channels, 90);
      const file = join(dir, name);
      let img = sharp(raw, { raw: { width: 7, height: 5, channels: channels as 1 | 3 | 4 } });
      if (channels === 1) img = img.toColourspace('b-w');
      await (format === 'png' ? img.png() : img.jpeg()).toFile(file);
      const header = readImageHeader(file);
      assert.deepEqual(header, { height: 5, width: 7, channels: channels <= 2 ? 1 : 3 }, name);
      const meta = await sharp(file).metadata();
      assert.equal(header?.channels, (meta.channels ?? 0) <= 2 ? 1 : 3, `${name}: sharp decodes ${meta.channels} channels`);
    }
    writeFileSync(join(dir, 'not-an-image.png'), 'hello');
    assert.equal(readImageHeader(join(dir, 'not-an-image.png')), null);
  });
});
