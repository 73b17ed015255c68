/**
 * Dataset benchmarks (issue 4), one measured run each, printed as one JSON line:
 * - `generate_fashion_s`: the `generate-data` work for a Fashion-MNIST source task of 35,000 images
 *   (classes 0-4: 30,000 training + 5,000 test, all that those classes hold) — must be < 20 s;
 * - `load_70k_s`: `readDataset` of a 70,000-image table (all of Fashion-MNIST) into a
 *   training-ready Float32Array — must be well under 1 s per 10,000 rows (`load_per_10k_s`);
 * - `tensor_70k_s`: that array into a [70000, 28, 28, 1] TensorFlow.js tensor (when tfjs loads).
 *
 * Run: `npx tsc -p . && node dist/bench/dataset-load.js` (writes into a temporary directory).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset, writeDataset } from '../stages/lib/tables/dataset-table.js';
import { generateData } from '../stages/data/generate-job.js';

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 10) / 100;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-bench-data-'));
  const result: Record<string, number | string> = {};
  try {
    const common = { kind: 'image' as const, label_noise: 0, input_noise: 0 };
    mkdirSync(join(dir, 'fashion'));
    let t = performance.now();
    generateData(join(dir, 'fashion'), {
      role: 'source',
      seed: 0,
      task: {
        ...common,
        source: { dataset: 'fashion-mnist', classes: [0, 1, 2, 3, 4] },
        source_size: 29000,
        test_size: 5000,
        validation_size: 1000,
      },
    });
    result.generate_fashion_s = seconds(t);
    result.generate_fashion_images = 35000;

    // A 70,000-image table: every Fashion-MNIST image (train and test splits of all classes).
    mkdirSync(join(dir, 'all'));
    const all = Array.from({ length: 10 }, (_, c) => c);
    generateData(join(dir, 'all'), {
      role: 'source',
      seed: 0,
      task: { ...common, source: { dataset: 'fashion-mnist', classes: all }, source_size: 59000, test_size: 10000, validation_size: 1000 },
    });
    const train = readDataset(join(dir, 'all', 'train.arrow'));
    const test = readDataset(join(dir, 'all', 'test.arrow'));
    const features = new Float32Array(70000 * 784);
    features.set(train.features);
    features.set(test.features, train.features.length);
    const labels = new Int32Array(70000);
    labels.set(train.labels);
    labels.set(test.labels, train.rows);
    const file = join(dir, 'fashion-70k.arrow');
    writeDataset(file, {
      features,
      labels,
      rows: 70000,
      shape: [28, 28, 1],
      classes: train.classes,
      provenance: { bench: 'dataset-load' },
    });
    result.table_70k_mb = Math.round(statSync(file).size / 1e6);

    t = performance.now();
    const loaded = readDataset(file);
    result.load_70k_s = seconds(t);
    result.load_per_10k_s = Math.round((result.load_70k_s / 7) * 1000) / 1000;
    if (loaded.rows !== 70000) throw new Error(`read ${loaded.rows} rows`);

    try {
      const tf = await import('@tensorflow/tfjs');
      t = performance.now();
      const x = tf.tensor4d(loaded.features, [loaded.rows, ...loaded.shape] as [number, number, number, number]);
      const y = tf.tensor1d(loaded.labels, 'int32');
      result.tensor_70k_s = seconds(t);
      x.dispose();
      y.dispose();
    } catch (error) {
      result.tensor_note = `tfjs not loaded: ${(error as Error).message}`;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}

await main();
