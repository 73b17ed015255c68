/**
 * Issue 8, interrupts: SIGINT and SIGTERM stop a run within 5 s — even with a worker stuck in
 * signal-deaf compute — terminate every worker, release every lock, publish nothing partial and
 * print what finished; the next `run` resumes and computes only the rest.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { defrost, defrostAsync, lastJson, publishedKeys, type Sandbox } from './engine-helpers.js';
import {
  childPids,
  entries,
  isAlive,
  manifestlessDirs,
  reliabilitySandbox,
  sleep,
  SMALL_SWEEP,
  SMALL_SWEEP_SIZE,
  SWEEP_CONFIG,
} from './reliability-helpers.js';

const boxes: Sandbox[] = [];
after(() => boxes.forEach((b) => b.cleanup()));

/** Waits until `pred()` holds, polling; fails after `ms`. */
async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function interruptAndResume(signal: 'SIGINT' | 'SIGTERM', env: NodeJS.ProcessEnv, waitFor: RegExp): Promise<void> {
  const box = reliabilitySandbox({ DEFROST_TOY_SLEEP_MS: '300', ...env });
  boxes.push(box);
  const { child, done } = defrostAsync(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2']);
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  await until(() => waitFor.test(stdout) && childPids(child.pid as number).length > 0, 60_000, `${waitFor} in the run's output`);
  const workers = childPids(child.pid as number);
  const sent = Date.now();
  child.kill(signal);
  const result = await done;
  const stopSeconds = (Date.now() - sent) / 1000;

  assert.equal(result.code, signal === 'SIGINT' ? 130 : 143, result.stderr);
  assert.ok(stopSeconds < 5, `the run took ${stopSeconds.toFixed(1)} s to stop`);
  for (const pid of workers) assert.equal(isAlive(pid), false, `worker ${pid} survived the interrupt`);
  assert.deepEqual(
    entries(box.store, '.locks').filter((n) => n.endsWith('.lock')),
    [],
    'locks left behind',
  );
  assert.deepEqual(manifestlessDirs(box.store), [], 'a partial instance was published');
  const interrupted = new RegExp(`interrupted: ${SMALL_SWEEP_SIZE} instances, executed (\\d+)`);
  assert.match(result.stdout, interrupted);
  const executedBefore = Number(interrupted.exec(result.stdout)?.[1]);
  const publishedBefore = publishedKeys(box.store).length;
  assert.equal(executedBefore, publishedBefore, 'the summary must count exactly what was published');
  assert.ok(publishedBefore > 0 && publishedBefore < SMALL_SWEEP_SIZE, `published ${publishedBefore}`);
  assert.equal(defrost(box, ['verify']).code, 0);

  const resumed = defrost(box, ['run', SWEEP_CONFIG, ...SMALL_SWEEP, '--jobs', '2', '--json'], {
    DEFROST_FAULT: '',
    DEFROST_TOY_SLEEP_MS: '2',
  });
  assert.equal(resumed.code, 0, resumed.stderr);
  const s = lastJson(resumed);
  assert.equal(s.cached, publishedBefore);
  assert.equal(s.executed, SMALL_SWEEP_SIZE - publishedBefore);
  assert.deepEqual(entries(box.store, '.tmp'), [], 'staging directories of killed workers were not cleaned');
  assert.equal(defrost(box, ['verify']).code, 0);
}

test('SIGINT stops the run, kills the workers, releases the locks; the next run resumes', async () => {
  await interruptAndResume('SIGINT', {}, /done {3}square/);
});

test('SIGTERM stops a run whose worker is stuck in signal-deaf compute within 5 s', async () => {
  const stuck = 'square{"value":2}';
  await interruptAndResume('SIGTERM', { DEFROST_FAULT: `hang@${stuck}` }, /start {2}square\[value=2\]/);
});
