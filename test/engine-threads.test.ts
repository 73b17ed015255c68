/**
 * The thread budget of a local run's workers (docs/backends.md, docs/performance.md "Threads"):
 * cores / jobs by default, `DEFROST_THREADS` when set. The executor hands the budget to every
 * worker as its own DEFROST_THREADS, so the override must be read where the budget is chosen:
 * before this test existed it was overwritten on the way and `make bench`'s one-thread sweep ran
 * its worker with two.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadsPerJob } from '../pipeline/cli/context.js';
import { UsageError } from '../pipeline/errors.js';
import { TOY_CONFIG, defrost, lastJson, publishedKeys, toySandbox } from './engine-helpers.js';

function withThreadsEnv<T>(value: string | undefined, body: () => T): T {
  const saved = process.env.DEFROST_THREADS;
  if (value === undefined) delete process.env.DEFROST_THREADS;
  else process.env.DEFROST_THREADS = value;
  try {
    return body();
  } finally {
    if (saved === undefined) delete process.env.DEFROST_THREADS;
    else process.env.DEFROST_THREADS = saved;
  }
}

test('threadsPerJob splits the cores between jobs unless DEFROST_THREADS says otherwise', () => {
  const cores = availableParallelism();
  withThreadsEnv(undefined, () => {
    assert.equal(threadsPerJob(1), cores);
    assert.equal(threadsPerJob(cores * 2), 1);
  });
  withThreadsEnv('', () => assert.equal(threadsPerJob(1), cores));
  withThreadsEnv('3', () => {
    assert.equal(threadsPerJob(1), 3);
    assert.equal(threadsPerJob(8), 3);
  });
  for (const bad of ['0', '-1', '1.5', 'many'])
    withThreadsEnv(bad, () =>
      assert.throws(
        () => threadsPerJob(1),
        (error: unknown) => error instanceof UsageError && /DEFROST_THREADS: got .*; allowed: a positive integer/.test(error.message),
      ),
    );
});

test('a local run gives its workers the DEFROST_THREADS budget (recorded in every manifest)', () => {
  const box = toySandbox();
  try {
    const threads = String(availableParallelism() + 1); // differs from any cores / jobs split
    const run = defrost(box, ['run', TOY_CONFIG, '--jobs', '1', '--json'], { DEFROST_THREADS: threads });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(lastJson(run).failed, 0);
    const keys = publishedKeys(box.store);
    assert.ok(keys.length > 0);
    for (const key of keys) {
      const manifest = JSON.parse(readFileSync(join(box.store, key, 'manifest.json'), 'utf8')) as { threads: number };
      assert.equal(manifest.threads, Number(threads), key);
    }
    const bad = defrost(box, ['run', TOY_CONFIG, '--jobs', '1'], { DEFROST_THREADS: 'lots' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /DEFROST_THREADS: got "lots"; allowed: a positive integer/);
  } finally {
    box.cleanup();
  }
});
