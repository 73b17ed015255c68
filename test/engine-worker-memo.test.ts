/**
 * The worker memo (pipeline/worker-memo.ts): values filed by slot and content digest, made once,
 * never served for another digest or another slot; trimmed between instances to its limit, least
 * recently used first, disposing what it drops; a failed make is not kept; limit 0 keeps nothing.
 * And the digests it is keyed by (`outputDigest`): a file's sha256, a directory's files.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outputDigest } from '../pipeline/outputs.js';
import { WorkerMemo, type MemoSlot } from '../pipeline/worker-memo.js';

interface Value {
  readonly name: string;
  readonly size: number;
}
const disposed: string[] = [];
const VALUES: MemoSlot<Value> = { name: 'value', bytes: (v) => v.size, dispose: (v) => disposed.push(v.name) };
const OTHER: MemoSlot<Value> = { name: 'value', bytes: (v) => v.size };

test('made once per slot and digest; another digest or another slot of the same name is made again', async () => {
  const memo = new WorkerMemo(1000);
  let made = 0;
  const make = (name: string) => () => ({ name: `${name}${++made}`, size: 10 });
  const a = await memo.get(VALUES, 'sha256:a', make('a'));
  assert.equal(await memo.get(VALUES, 'sha256:a', make('a')), a);
  assert.notEqual(await memo.get(VALUES, 'sha256:b', make('b')), a);
  assert.notEqual(await memo.get(OTHER, 'sha256:a', make('a')), a);
  assert.equal(made, 3);
  assert.deepEqual(memo.stats(), { entries: 2, bytes: 20, hits: 1, misses: 3 });
});

test('trim drops the least recently used values down to the limit and disposes them; never during an instance', async () => {
  disposed.length = 0;
  const memo = new WorkerMemo(25);
  await memo.get(VALUES, 'a', () => ({ name: 'a', size: 10 }));
  await memo.get(VALUES, 'b', () => ({ name: 'b', size: 10 }));
  await memo.get(VALUES, 'c', () => ({ name: 'c', size: 10 }));
  await memo.get(VALUES, 'a', () => ({ name: 'a again', size: 10 }));
  assert.equal(memo.stats().bytes, 30, 'over the limit until trimmed: what an instance got stays valid');
  memo.trim();
  await Promise.resolve();
  assert.deepEqual(disposed, ['b']);
  assert.deepEqual(memo.stats().entries, 2);
  assert.equal((await memo.get(VALUES, 'a', () => ({ name: 'a again', size: 10 }))).name, 'a');
  memo.clear();
  await Promise.resolve();
  assert.deepEqual(disposed.sort(), ['a', 'b', 'c']);
});

test('a failed make is not kept; limit 0 keeps nothing', async () => {
  const memo = new WorkerMemo(100);
  await assert.rejects(
    memo.get(VALUES, 'x', () => {
      throw new Error('unreadable');
    }),
    /unreadable/,
  );
  assert.equal((await memo.get(VALUES, 'x', () => ({ name: 'x', size: 1 }))).name, 'x');
  const none = new WorkerMemo(0);
  let made = 0;
  await none.get(VALUES, 'x', () => ({ name: `x${++made}`, size: 1 }));
  await none.get(VALUES, 'x', () => ({ name: `x${++made}`, size: 1 }));
  assert.equal(made, 2);
  assert.equal(none.stats().entries, 0);
});

test('outputDigest: a file is its recorded sha256; a directory digests its files, whatever their order, and changes with any of them', () => {
  const stage = {
    name: 'train-source',
    outputs: {
      metrics: { kind: 'table' as const, file: 'metrics.arrow', optional: false },
      model: { kind: 'dir' as const, file: 'model', optional: false },
    },
  };
  const files = [
    { path: 'metrics.arrow', sha256: '1'.repeat(64) },
    { path: 'model/weights.bin', sha256: '2'.repeat(64) },
    { path: 'model/model.json', sha256: '3'.repeat(64) },
  ];
  assert.equal(outputDigest(files, stage, 'metrics'), `sha256:${'1'.repeat(64)}`);
  const dir = outputDigest(files, stage, 'model');
  assert.match(dir, /^sha256:[0-9a-f]{64}$/);
  assert.equal(outputDigest([...files].reverse(), stage, 'model'), dir);
  assert.notEqual(outputDigest([files[0], files[1], { ...files[2], sha256: '4'.repeat(64) }], stage, 'model'), dir);
  assert.notEqual(outputDigest(files, stage, 'metrics'), dir);
  assert.throws(() => outputDigest(files.slice(0, 1), stage, 'model'), /no files under model\//);
});
