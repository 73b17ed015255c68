/**
 * Faithful export (issue 17, point 3): `export --format npy` keeps each column's dtype and shape,
 * writes every column of a table (a structured array, text as fixed-width unicode), refuses a
 * column npy cannot hold by name, and `compare` reads any (N, ...) array. Checked the way a user
 * would: numpy loads what defrost writes (python3 with numpy, as the similarity reference test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, FixedSizeList, Float32, Int32, List, Table, Utf8, makeData, makeVector, vectorFromArray } from 'apache-arrow';
import { UsageError } from '../pipeline/errors.js';
import { tableToNpy } from '../pipeline/npy.js';
import { parseNpy } from '../stages/lib/formats/matrix-io.js';

/** What numpy makes of a .npy file: dtype, shape and the data as a list. */
function numpyView(bytes: Buffer): { dtype: string; shape: number[]; values: unknown } {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-npy-'));
  try {
    const file = join(dir, 'x.npy');
    writeFileSync(file, bytes);
    const script =
      'import json, sys, numpy as np\n' +
      'x = np.load(sys.argv[1])\n' +
      'def plain(v):\n' +
      '    if isinstance(v, np.ndarray): v = v.tolist()\n' +
      '    if isinstance(v, (list, tuple)): return [plain(e) for e in v]\n' +
      '    if isinstance(v, float) and v != v: return None\n' +
      '    return v\n' +
      'print(json.dumps({"dtype": str(x.dtype), "shape": list(x.shape), "values": plain(x.tolist())}))\n';
    return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as {
      dtype: string;
      shape: number[];
      values: unknown;
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A dataset-like table: 3 rows of 2x2x1 float32 features, Int32 labels, `shape` metadata. */
function datasetTable(): Table {
  const features = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const type = new FixedSizeList(4, new Field('value', new Float32(), false));
  const child = makeData({ type: new Float32(), length: 12, data: features });
  const vector = makeVector(makeData({ type, length: 3, nullCount: 0, child }));
  const table = new Table({ features: vector, label: vectorFromArray([2, 0, 1], new Int32()) });
  table.schema.metadata.set('shape', '[2,2,1]');
  return table;
}

test('one Int32 column is int32 (N,); one vector column keeps its dtype and row shape', () => {
  const table = datasetTable();
  const label = numpyView(tableToNpy(table.select(['label'])));
  assert.deepEqual(label, { dtype: 'int32', shape: [3], values: [2, 0, 1] });
  const features = numpyView(tableToNpy(table.select(['features'])));
  assert.equal(features.dtype, 'float32');
  assert.deepEqual(features.shape, [3, 2, 2, 1]);
  assert.deepEqual(features.values, [
    [
      [[0], [1]],
      [[2], [3]],
    ],
    [
      [[4], [5]],
      [[6], [7]],
    ],
    [
      [[8], [9]],
      [[10], [11]],
    ],
  ]);
});

test('a whole table is a structured array: nothing dropped, text kept, nulls said', () => {
  const both = numpyView(tableToNpy(datasetTable()));
  assert.equal(both.dtype, "[('features', '<f4', (2, 2, 1)), ('label', '<i4')]");
  assert.deepEqual(both.shape, [3]);
  const results = new Table({
    correlation: vectorFromArray([1, 1, 0.8]),
    mode: vectorFromArray(['defrost', 'scratch', 'reinit'], new Utf8()),
    depth: vectorFromArray([2, null, 0], new Int32()),
  });
  const notes: string[] = [];
  const view = numpyView(tableToNpy(results, (n) => notes.push(n)));
  assert.equal(view.dtype, "[('correlation', '<f8'), ('mode', '<U7'), ('depth', '<f8')]");
  assert.deepEqual(view.values, [
    [1, 'defrost', 2],
    [1, 'scratch', null],
    [0.8, 'reinit', 0],
  ]);
  assert.deepEqual(notes, ['column depth: 1 null value(s), which <i4 cannot hold: written as float64 with NaN for null']);
});

test('a column npy cannot hold is an error naming it, never dropped', () => {
  const ragged = new Table({
    id: vectorFromArray([1, 2], new Int32()),
    tags: vectorFromArray([[1.5], [2.5, 3.5]], new List(new Field('item', new Float32(), true))),
  });
  assert.throws(
    () => tableToNpy(ragged),
    (error: unknown) => error instanceof UsageError && /column "tags" \(List<Float32>\) cannot be written to npy/.test(error.message),
  );
  assert.ok(tableToNpy(ragged.select(['id'])).length > 0, '--column of the other columns still works');
});

test('compare reads any (N, ...) array, flattening trailing dimensions, and integer dtypes', () => {
  const images = parseNpy(tableToNpy(datasetTable().select(['features'])));
  assert.deepEqual([images.rows, images.cols], [3, 4]);
  assert.deepEqual(Array.from(images.data.subarray(4, 8)), [4, 5, 6, 7]);
  const labels = parseNpy(tableToNpy(datasetTable().select(['label'])));
  assert.deepEqual([labels.rows, labels.cols, Array.from(labels.data)], [3, 1, [2, 0, 1]]);
});
