/**
 * `validation: held_out` (stages/lib/tasks/held-out.ts, docs/protocol.md): the stopping and
 * selection samples are carved out of the n target samples, per class, disjoint.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heldOutParts } from '../stages/lib/tasks/held-out.js';

test('held_out: a fifth of each class stops, a fifth selects, the rest trains; parts are disjoint and cover n', () => {
  const labels = Int32Array.from({ length: 40 }, (_, i) => i % 4);
  const parts = heldOutParts(labels);
  assert.equal(parts.stopping.length, 8);
  assert.equal(parts.selection.length, 8);
  assert.equal(parts.train.length, 24);
  const all = [...parts.train, ...parts.stopping, ...parts.selection].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 40 }, (_, i) => i),
  );
  for (const part of [parts.stopping, parts.selection])
    assert.deepEqual([...new Set([...part].map((row) => labels[row]))].sort(), [0, 1, 2, 3], 'every class in every part');
});

test('held_out: small classes keep at least one sample in each held-out part; a class of two trains only', () => {
  const labels = Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2, 2, 2]);
  const parts = heldOutParts(labels);
  const classes = (rows: Int32Array): number[] => [...rows].map((r) => labels[r]).sort();
  assert.deepEqual(classes(parts.stopping), [0, 2]);
  assert.deepEqual(classes(parts.selection), [0, 2]);
  assert.deepEqual(classes(parts.train), [0, 1, 1, 2, 2, 2]);
});
