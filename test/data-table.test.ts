/** The dataset Arrow layout: round trip, prefixes, stable bytes, readable by a generic reader. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readDataset, writeDataset, type DatasetToWrite } from '../stages/lib/tables/dataset-table.js';
import { scratchDir } from './stage-rig.js';

function sample(rows: number, shape: number[]): DatasetToWrite {
  const dim = shape.reduce((a, b) => a * b, 1);
  const features = new Float32Array(rows * dim);
  for (let i = 0; i < features.length; i++) features[i] = Math.sin(i) * 0.5 + i * 1e-3;
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) labels[i] = (i * 7) % 3;
  return { features, labels, rows, shape, classes: ['a', 'b', 'c'], provenance: { generator: 'test', n: rows } };
}

test('writeDataset / readDataset round-trip features, labels, shape, classes', () => {
  const dir = scratchDir('table');
  try {
    const data = sample(50, [4, 3, 1]);
    const file = join(dir, 'train.arrow');
    writeDataset(file, data);
    const back = readDataset(file);
    assert.equal(back.rows, 50);
    assert.deepEqual(back.shape, [4, 3, 1]);
    assert.deepEqual(back.classes, ['a', 'b', 'c']);
    assert.deepEqual(Array.from(back.features), Array.from(data.features));
    assert.deepEqual(Array.from(back.labels), Array.from(data.labels));

    const prefix = readDataset(file, 7);
    assert.equal(prefix.rows, 7);
    assert.equal(prefix.features.length, 7 * 12);
    assert.deepEqual(Array.from(prefix.features), Array.from(data.features.subarray(0, 84)));
    assert.deepEqual(Array.from(prefix.labels), Array.from(data.labels.subarray(0, 7)));

    // A generic Arrow reader sees the documented schema and metadata.
    const table = tableFromIPC(readFileSync(file));
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      ['features', 'label'],
    );
    assert.equal(String(table.schema.fields[0].type), 'FixedSizeList[12]<Float32>');
    assert.equal(String(table.schema.fields[1].type), 'Int32');
    assert.deepEqual(JSON.parse(table.schema.metadata.get('provenance') as string), { generator: 'test', n: 50 });

    // Same data -> identical bytes.
    const again = join(dir, 'again.arrow');
    writeDataset(again, sample(50, [4, 3, 1]));
    assert.ok(readFileSync(file).equals(readFileSync(again)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeDataset rejects features that do not match rows x shape', () => {
  const data = sample(5, [4]);
  assert.throws(() => writeDataset('/nonexistent/x.arrow', { ...data, shape: [5] }), /expected rows x dim/);
});
