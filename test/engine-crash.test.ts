/**
 * Acceptance 3 of issue 2: `kill -9` of the run, and of a worker, in the middle of stages; then
 * `run` again completes, `verify` passes, and only the instances that had not been published
 * re-execute.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOY_CONFIG, defrost, defrostAsync, lastJson, publishedKeys, toySandbox, type Sandbox } from './engine-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let box: Sandbox | null = null;
afterEach(() => box?.cleanup());

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await sleep(50);
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Rerun: completes, executes exactly the unpublished instances, and the store verifies. */
function rerunCompletes(b: Sandbox, args: string[], total: number): void {
  const before = publishedKeys(b.store).length;
  assert.ok(before < total, 'the kill happened before the end');
  const r = defrost(b, ['run', TOY_CONFIG, '--json', '--jobs', '2', ...args], { DEFROST_TOY_SLEEP_MS: '1' });
  assert.equal(r.code, 0, r.stderr);
  const summary = lastJson(r);
  assert.equal(summary.executed, total - before, `only unfinished instances re-execute (${before} were published)`);
  assert.equal(summary.cached, before);
  assert.equal(publishedKeys(b.store).length, total);
  const v = defrost(b, ['verify', '--json']);
  assert.equal(v.code, 0, v.stdout);
  const report = lastJson<{ ok: number; unfinished: string[] }>(v);
  assert.equal(report.ok, total);
  assert.deepEqual(report.unfinished, []);
  assert.deepEqual(
    readdirSync(join(b.store, '.tmp')).filter((n) => !n.startsWith('replaced-')),
    [],
    'no staging dirs left',
  );
}

/** The toy project with 8 values: 8 make-numbers, 8 square and 1 sum, 17 instances to kill among. */
const SMALL = ['--set', 'numbers.values=[1,2,3,4,5,6,7,8]'];

test('kill -9 of the run mid-stage: workers go away, the rerun completes and executes only the rest', async () => {
  box = toySandbox({ DEFROST_TOY_SLEEP_MS: '120', DEFROST_UNSAFE_NO_FSYNC: '0' });
  const b = box;
  const { child, done } = defrostAsync(b, ['run', TOY_CONFIG, '--jobs', '2', ...SMALL]);
  await waitFor(() => publishedKeys(b.store).length >= 5);
  const workers = childPids(child.pid as number);
  assert.ok(workers.length >= 1, 'workers are running');
  child.kill('SIGKILL');
  await done;
  // Workers exit when their IPC channel closes, without publishing what they were computing.
  await waitFor(() => workers.every((p) => !alive(p)), 10_000);
  rerunCompletes(b, SMALL, 17);
});

test('kill -9 of a worker mid-stage fails only that branch; the rerun completes', async () => {
  box = toySandbox({ DEFROST_TOY_SLEEP_MS: '200', DEFROST_UNSAFE_NO_FSYNC: '0' });
  const b = box;
  const { child, done } = defrostAsync(b, ['run', TOY_CONFIG, '--json', '--jobs', '2', ...SMALL]);
  await waitFor(() => publishedKeys(b.store).length >= 4);
  const workers = childPids(child.pid as number);
  assert.ok(workers.length >= 1);
  process.kill(workers[0], 'SIGKILL');
  const r = await done;
  assert.equal(r.code, 1, r.stderr);
  const summary = lastJson(r);
  assert.equal(summary.failed, 1);
  assert.match(summary.failures[0].reason, /worker process \d+ died \(signal SIGKILL\)/);
  assert.ok(summary.failures[0].log?.endsWith('.log'));
  assert.equal(summary.executed + summary.failed + summary.skipped, 17);
  rerunCompletes(b, SMALL, 17);
});

test('SIGINT stops the run within 5 s: exit 130, summary printed, no locks or staging dirs left', async () => {
  box = toySandbox({ DEFROST_TOY_SLEEP_MS: '400' });
  const b = box;
  const { child, done } = defrostAsync(b, ['run', TOY_CONFIG, '--json', '--jobs', '2', ...SMALL]);
  await waitFor(() => publishedKeys(b.store).length >= 2);
  const workers = childPids(child.pid as number);
  const sent = Date.now();
  child.kill('SIGINT');
  const r = await done;
  assert.ok(Date.now() - sent < 5000, `stopped in ${Date.now() - sent} ms`);
  assert.equal(r.code, 130, r.stderr);
  const summary = lastJson(r);
  assert.ok(summary.executed >= 2 && summary.executed < 17);
  assert.match(r.stderr, /SIGINT: stopping/);
  assert.match(r.stderr, /interrupted: 17 instances, executed \d+/);
  await waitFor(() => workers.every((p) => !alive(p)), 5000);
  assert.deepEqual(
    readdirSync(join(b.store, '.locks')).filter((n) => n.endsWith('.lock')),
    [],
    'locks released',
  );
  assert.deepEqual(readdirSync(join(b.store, '.tmp')), [], 'staging dirs removed');
  assert.equal(publishedKeys(b.store).length, summary.executed, 'nothing partial was published');
});
