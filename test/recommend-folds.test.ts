/**
 * recommend's folds at small n (stages/lib/tasks/folds.ts, docs/protocol.md#recommend-at-small-n):
 * the fewest samples of a class in a fold's stopping split and held-out part, which decide the
 * warning, counted from the same splits the fold runs use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEW_PER_CLASS, foldRows, smallestFoldParts, stratifiedFolds, validationSplit } from '../stages/lib/tasks/folds.js';

const labelsOf = (perClass: number, classes: number): Int32Array =>
  Int32Array.from({ length: perClass * classes }, (_, i) => Math.floor(i / perClass));

test('65 images of 5 classes in 5 folds: two of a class stop a fold, two or three score it (a warning)', () => {
  const labels = labelsOf(13, 5);
  const parts = smallestFoldParts(labels, 5, 5, 0);
  assert.deepEqual(parts, { stopping: 2, selection: 2 });
  assert.ok(parts.stopping < FEW_PER_CLASS);
  // The same count by hand from the splits a fold run uses.
  const fold = stratifiedFolds(labels, 5, 5, 0);
  let fewest = Infinity;
  for (let k = 0; k < 5; k++) {
    const { validation } = validationSplit(labels, 5, foldRows(fold, k, false), k, 0);
    for (let c = 0; c < 5; c++) fewest = Math.min(fewest, [...validation].filter((r) => labels[r] === c).length);
  }
  assert.equal(fewest, parts.stopping);
});

test('300 images of 5 classes in 5 folds: every part holds at least 5 of each class (no warning)', () => {
  const parts = smallestFoldParts(labelsOf(60, 5), 5, 5, 0);
  assert.deepEqual(parts, { stopping: 10, selection: 12 });
  assert.ok(parts.stopping >= FEW_PER_CLASS && parts.selection >= FEW_PER_CLASS);
});
