/**
 * `defrost export --format npy` of a generated dataset, as a numpy user loads it: image features
 * keep their [28, 28, 1] row shape (from the table's `shape` metadata) and the bytes are exactly
 * the table's float32 features.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset } from '../stages/lib/tables/dataset-table.js';
import { defrost, ROOT, sandbox } from './engine-helpers.js';

// The real defrost project, not the engine's toy one.
const box = sandbox({ DEFROST_PROJECT_MODULE: undefined });
after(() => box.cleanup());

function npyHeader(bytes: Buffer): { header: string; dataOffset: number } {
  assert.equal(bytes.subarray(1, 6).toString('latin1'), 'NUMPY');
  const length = bytes.readUInt16LE(8);
  return { header: bytes.subarray(10, 10 + length).toString('latin1'), dataOffset: 10 + length };
}

test('export --format npy: Fashion-MNIST features as (rows, 28, 28, 1) float32, byte-exact', () => {
  const small = [
    '--set',
    'task.source_size=200',
    '--set',
    'task.target_pool=100',
    '--set',
    'task.target_sizes=[20,100]',
    '--set',
    'task.target_reference_size=100',
    '--set',
    'task.test_size=50',
    '--set',
    'similarity.probe_size=50',
  ];
  const mk = defrost(box, ['make', join(ROOT, 'experiments', 'fashion.yaml'), '--store', box.store, ...small]);
  assert.equal(mk.code, 0, mk.stderr);
  const key = /generate-data\/([0-9a-f]{16})\/manifest\.json:/.exec(mk.stdout)?.[1];
  assert.ok(key, 'the Makefile names a generate-data target');
  const exec = defrost(box, ['exec', 'generate-data', key, '--store', box.store]);
  assert.equal(exec.code, 0, exec.stderr);

  const out = join(box.dir, 'train.npy');
  const res = defrost(box, [
    'export',
    key.slice(0, 8),
    '--store',
    box.store,
    '--table',
    'train',
    '--column',
    'features',
    '--format',
    'npy',
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const bytes = readFileSync(out);
  const { header, dataOffset } = npyHeader(bytes);
  const dataset = readDataset(join(box.store, 'generate-data', key, 'train.arrow'));
  assert.match(header, new RegExp(`'descr': '<f4', 'fortran_order': False, 'shape': \\(${dataset.rows}, 28, 28, 1\\)`));
  assert.equal(dataOffset % 64, 0);
  const exported = bytes.subarray(dataOffset);
  const expected = Buffer.from(dataset.features.buffer, dataset.features.byteOffset, dataset.features.byteLength);
  assert.ok(exported.equals(expected), 'exported bytes equal the table features');

  // The Int32 label column stays int32 with shape (rows,), its bytes the labels themselves.
  const labels = join(box.dir, 'labels.npy');
  const lr = defrost(box, [
    'export',
    key.slice(0, 8),
    '--store',
    box.store,
    '--table',
    'train',
    '--column',
    'label',
    '--format',
    'npy',
    '--out',
    labels,
  ]);
  assert.equal(lr.code, 0, lr.stderr);
  const lb = readFileSync(labels);
  const lh = npyHeader(lb);
  assert.match(lh.header, new RegExp(`'descr': '<i4', 'fortran_order': False, 'shape': \\(${dataset.rows},\\)`));
  assert.deepEqual(
    Array.from(new Int32Array(lb.buffer.slice(lb.byteOffset + lh.dataOffset, lb.byteOffset + lb.length))),
    Array.from(dataset.labels),
  );
});
