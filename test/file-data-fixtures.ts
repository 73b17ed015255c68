/**
 * Test helper (no tests here): the user's own data files the tests write — a CSV of Gaussian blobs
 * and folders of small grey images told apart by brightness and a stripe — and a tiny study
 * config on such a CSV (docs/your-data.md), whose source and target are class subsets of it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../stages/lib/random.js';

/** Four Gaussian blobs in 6 features, labelled a..d, `perClass` rows each, interleaved. */
export function writeBlobsCsv(file: string, perClass: number): void {
  const rng = new Rng(7, 'blobs');
  const lines = ['label,' + Array.from({ length: 6 }, (_, j) => `x${j}`).join(',')];
  for (let i = 0; i < perClass; i++)
    ['a', 'b', 'c', 'd'].forEach((label, c) => {
      const row = Array.from({ length: 6 }, (_, j) => ((j % 4 === c ? 2 : 0) + rng.normal()).toFixed(4));
      lines.push(`${label},${row.join(',')}`);
    });
  writeFileSync(file, lines.join('\n') + '\n');
}

/** A class of grey images: its folder name, mean brightness (0..255) and stripe column (0..7). */
export interface GreyClass {
  readonly name: string;
  readonly level: number;
  readonly stripe: number;
}

/**
 * `perClass` 8x8 grey images per class under `dir/<name>/`, every third a JPEG, the others PNG;
 * `first` offsets the images' noise (a test folder differs from its training folder).
 */
export async function writeGreyImages(dir: string, classes: readonly GreyClass[], perClass: number, first = 0): Promise<void> {
  for (const { name, level, stripe } of classes) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = first; i < first + perClass; i++) {
      const raw = Buffer.alloc(64);
      for (let k = 0; k < 64; k++) raw[k] = Math.max(0, Math.min(255, level + ((k * 37 + i * 11) % 50) - 25 + (k % 8 === stripe ? 50 : 0)));
      const img = sharp(raw, { raw: { width: 8, height: 8, channels: 1 } }).toColourspace('b-w');
      await (i % 3 === 0 ? img.jpeg({ quality: 95 }).toFile(join(dir, name, `${i}.jpg`)) : img.png().toFile(join(dir, name, `${i}.png`)));
    }
  }
}

/** A tiny study on `dataset` (the blobs CSV): source classes 0 and 1, target classes 2 and 3. */
export function studyConfig(dataset: string): string {
  return [
    'seed: 0',
    'task:',
    '  kind: image',
    `  source: {dataset: "files:${dataset}", classes: [0, 1]}`,
    `  target: {dataset: "files:${dataset}", classes: [2, 3]}`,
    '  source_size: 120',
    '  target_pool: 60',
    '  target_sizes: [20, 60]',
    '  target_reference_size: 60',
    '  test_size: 40',
    '  validation_size: 40',
    'model: {kind: mlp, hidden: [8, 8]}',
    'train: {batch_size: 16, epochs: 2, min_steps: 10, early_stopping: {patience: 2, max_epochs: 4, monitor: val_accuracy, check_steps: 10}}',
    'transfer: {modes: [defrost], depths: all}',
    'seeds: [0]',
    'similarity: {probe_size: 30, k: 3}',
    'prediction: {enabled: false}',
  ].join('\n');
}
