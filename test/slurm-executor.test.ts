/**
 * The Slurm executor against a real single-node Slurm cluster (brought up by
 * scripts/slurm/up.sh when Slurm is not already running, stopped afterwards). The jobs run a
 * stand-in for `defrost exec STAGE KEY --store S` that publishes a valid manifest (and writes exec's result record), sleeps or fails
 * as its plan record says, so these tests exercise exactly the executor: sbatch, job names,
 * groups, squeue tracking, failure reasons, scancel, interrupt and lock staleness.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecRequest, ExecResult, ExecutorEvents } from '../pipeline/executor.js';
import { SlurmExecutor } from '../pipeline/executors/slurm.js';
import { jobNameFor, scaleTime } from '../pipeline/executors/slurm-grouping.js';
import { splitArgs } from '../pipeline/executors/slurm-commands.js';
import { slurmJobLivenessCheck } from '../pipeline/executors/slurm-lock.js';
import { ensureCluster, jobStates, queuedJobNames, stopCluster, type ClusterHandle } from './slurm-cluster.js';
import { scratchDir } from './stage-rig.js';

const FAKE_EXEC = `
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const args = process.argv.slice(2);
const at = args.indexOf('--store');
const [command, stage, ...keys] = args.slice(0, at);
const store = args[at + 1];
if (command !== 'exec' || at < 0) { console.error('usage: exec STAGE KEY... --store S'); process.exit(2); }
let code = 0;
// The structured result every exec writes (pipeline/exec-record.ts); the executor reads it.
const record = (key, status, extra) => {
  mkdirSync(join(store, '.results', stage), { recursive: true });
  const now = new Date().toISOString();
  writeFileSync(join(store, '.results', stage, key + '.json'), JSON.stringify({
    stage, key, status, seconds: 0.25, started: now, finished: now, host: 'node', pid: process.pid, job: process.env.SLURM_JOB_ID, ...extra,
  }));
};
for (const key of keys) {
  const plan = JSON.parse(readFileSync(join(store, '.plans', stage, key + '.json'), 'utf8'));
  const id = stage + '[' + key + ']';
  console.error('start ' + id + ' threads=' + process.env.DEFROST_THREADS + ' job=' + process.env.SLURM_JOB_ID);
  await new Promise((r) => setTimeout(r, (plan.sleep_s ?? 0) * 1000));
  if (plan.fail) { record(key, 'failed', { reason: 'toy failure: ' + plan.fail }); code = 1; continue; }
  const dir = join(store, stage, key);
  const tmp = dir + '.tmp';
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({
    format: 1, key, stage, id, coords: {}, params: {}, inputs: {},
    code: { fingerprint: 'fake', files: [] }, files: [], summary: {}, created: new Date().toISOString(),
    duration_s: 0.25, backend: 'fake-backend', threads: Number(process.env.DEFROST_THREADS), versions: {}, log: '',
  }));
  renameSync(tmp, dir);
  // As the real exec records when another run published the instance while it waited for the lock.
  record(key, plan.other_run ? 'cached' : 'executed');
}
process.exit(code);
`;

let cluster: ClusterHandle;
let work: string;
let cli: string;
let storeCounter = 0;

before(() => {
  cluster = ensureCluster();
  work = scratchDir('slurm-exec');
  cli = join(work, 'fake-defrost.mjs');
  writeFileSync(cli, FAKE_EXEC);
});

after(() => {
  rmSync(work, { recursive: true, force: true });
  stopCluster(cluster);
});

/** A fresh store with one plan record per instance: `{sleep_s, fail}`. */
function makeStore(plans: Record<string, { sleep_s?: number; fail?: string; other_run?: boolean }>, stage = 'toy'): string {
  const store = join(work, `store-${storeCounter++}`);
  mkdirSync(join(store, '.plans', stage), { recursive: true });
  for (const [key, plan] of Object.entries(plans)) writeFileSync(join(store, '.plans', stage, `${key}.json`), JSON.stringify(plan));
  return store;
}

function executor(extra: { group?: number; slurmArgs?: string[] } = {}): SlurmExecutor {
  return new SlurmExecutor({
    store: work,
    cliPath: cli,
    resources: () => ({ cpus: 1, mem: '256M', time: '5' }),
    pollMs: 250,
    groupWaitMs: 200,
    ...extra,
  });
}

const quietEvents: ExecutorEvents = { progress: () => {} };
const req = (store: string, key: string, stage = 'toy'): ExecRequest => ({ stage, key, store, threads: 1 });
const key = (n: number): string => n.toString(16).padStart(16, '0');

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('sbatch arguments: time scaling for groups, job names, --slurm-args splitting', () => {
  assert.equal(scaleTime('01:00:00', 3), '0-03:00:00');
  assert.equal(scaleTime('30', 2), '0-01:00:00');
  assert.equal(scaleTime('1-12:00:00', 2), '3-00:00:00');
  assert.equal(jobNameFor('transfer', ['0123456789abcdef']), 'defrost:transfer:01234567');
  assert.equal(jobNameFor('transfer', ['0123456789abcdef', 'fedcba9876543210']), 'defrost:transfer:01234567+1');
  assert.deepEqual(splitArgs(`--partition=short  --comment='a b' --account="lab x"`), [
    '--partition=short',
    '--comment=a b',
    '--account=lab x',
  ]);
});

test('each instance runs as a named sbatch job; success is its published manifest', async () => {
  const keys = [key(1), key(2), key(3), key(4)];
  const store = makeStore({ [key(1)]: {}, [key(2)]: {}, [key(3)]: {}, [key(4)]: { other_run: true } });
  const exec = executor();
  const backends: string[] = [];
  const results = await Promise.all(
    keys.map((k) => exec.run(req(store, k), { progress: () => {}, runtime: (info) => backends.push(info.backend) })),
  );
  await exec.shutdown('done');
  for (const r of results.slice(0, 3)) assert.deepEqual(r, { status: 'executed', seconds: 0.25 });
  assert.deepEqual(results[3], { status: 'cached', seconds: 0 }, 'published by another run meanwhile: cached');
  assert.equal(exec.submitted.length, 4);
  assert.deepEqual(queuedJobNames({ all: true, ids: exec.submitted }).sort(), keys.map((k) => `defrost:toy:${k.slice(0, 8)}`).sort());
  assert.deepEqual(backends, ['fake-backend']);
  // The job's output is kept next to the instance's log, and the job ran with the stage's cpus as threads.
  const log = readFileSync(join(store, '.logs', 'toy', `${keys[0]}.slurm-${exec.submitted[0]}.log`), 'utf8');
  assert.match(log, new RegExp(`start toy\\[${keys[0]}\\] threads=1 job=${exec.submitted[0]}`));
  // Slurm forgets finished jobs; the executor keeps its own record of which job ran what.
  const record = readFileSync(join(store, '.logs', 'slurm-jobs.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(record.map((r) => r.keys[0]).sort(), [...keys].sort());
  // Already published: reported cached without a new job.
  assert.deepEqual(await exec.run(req(store, keys[0]), quietEvents), { status: 'cached', seconds: 0 });
  assert.equal(exec.submitted.length, 4);
});

test('a failing job fails only its instance, with the Slurm state, the cause and the log path', async () => {
  const store = makeStore({ [key(1)]: { fail: 'bad weights' }, [key(2)]: {} });
  const exec = executor();
  const [bad, good] = await Promise.all([exec.run(req(store, key(1)), quietEvents), exec.run(req(store, key(2)), quietEvents)]);
  await exec.shutdown('done');
  assert.equal(good.status, 'executed');
  assert.equal(bad.status, 'failed');
  const failed = bad as Extract<ExecResult, { status: 'failed' }>;
  assert.match(failed.reason, /^Slurm job \d+ FAILED \(NonZeroExitCode, exit 1:0\): toy failure: bad weights$/);
  assert.ok(failed.logPath && existsSync(failed.logPath), `log ${failed.logPath} exists`);
});

test('--group packs ready instances of one stage into one job run by one exec process', async () => {
  const keys = [key(11), key(12), key(13)];
  const store = makeStore({ [keys[0]]: {}, [keys[1]]: { fail: 'only me' }, [keys[2]]: {} });
  const exec = executor({ group: 3 });
  const results = await Promise.all(keys.map((k) => exec.run(req(store, k), quietEvents)));
  await exec.shutdown('done');
  assert.equal(exec.submitted.length, 1);
  assert.deepEqual(queuedJobNames({ all: true, ids: exec.submitted }), [`defrost:toy:${keys[0].slice(0, 8)}+2`]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['executed', 'failed', 'executed'],
  );
  assert.match((results[1] as { reason: string }).reason, /only me/);
  const log = readFileSync(join(store, '.logs', 'toy', `group-${keys[0]}.slurm-${exec.submitted[0]}.log`), 'utf8');
  for (const k of keys) assert.match(log, new RegExp(`start toy\\[${k}\\]`));
  assert.equal(
    (results[1] as { logPath?: string }).logPath,
    join(store, '.logs', 'toy', `group-${keys[0]}.slurm-${exec.submitted[0]}.log`),
  );
});

test('a job cancelled with scancel fails its instance with the reason; others continue', async () => {
  const store = makeStore({ [key(21)]: { sleep_s: 60 }, [key(22)]: { sleep_s: 1 } });
  const exec = executor();
  const slow = exec.run(req(store, key(21)), quietEvents);
  const quick = exec.run(req(store, key(22)), quietEvents);
  await until('both jobs submitted', () => exec.submitted.length === 2);
  const slowJob = exec.submitted[0];
  await until('the slow job to run', () => jobStates([slowJob]).get(slowJob) === 'RUNNING');
  execFileSync('scancel', [slowJob]);
  const [slowResult, quickResult] = await Promise.all([slow, quick]);
  await exec.shutdown('done');
  assert.equal(quickResult.status, 'executed');
  assert.equal(slowResult.status, 'failed');
  assert.match((slowResult as { reason: string }).reason, new RegExp(`^Slurm job ${slowJob} CANCELLED`));
  assert.equal(existsSync(join(store, 'toy', key(21))), false);
});

test("shutdown('interrupt') scancels every job this run submitted; none stays queued", async () => {
  const store = makeStore({ [key(31)]: { sleep_s: 60 }, [key(32)]: { sleep_s: 60 }, [key(33)]: { sleep_s: 60 } });
  const exec = executor();
  const runs = [31, 32, 33].map((n) => exec.run(req(store, key(n)), quietEvents));
  await until('all jobs submitted', () => exec.submitted.length === 3);
  await until('a job to run', () => [...jobStates(exec.submitted).values()].includes('RUNNING'));
  await exec.shutdown('interrupt');
  const results = await Promise.all(runs);
  for (const r of results) {
    assert.equal(r.status, 'failed');
    assert.match((r as { reason: string }).reason, /^interrupted \(Slurm job \d+ cancelled\)$/);
  }
  assert.deepEqual(queuedJobNames({ ids: exec.submitted }), []);
  for (const state of jobStates(exec.submitted).values()) assert.equal(state, 'CANCELLED');
});

test("sbatch refusing a job (--slurm-args naming no partition) fails its instance with sbatch's message", async () => {
  const store = makeStore({ [key(41)]: {} });
  const notes: string[] = [];
  const exec = new SlurmExecutor({
    store,
    cliPath: cli,
    resources: () => ({ cpus: 1, mem: '256M', time: '5' }),
    slurmArgs: ['--partition=no-such-partition'],
    note: (line) => notes.push(line),
  });
  const result = await exec.run(req(store, key(41)), quietEvents);
  await exec.shutdown('done');
  assert.equal(result.status, 'failed');
  assert.match((result as { reason: string }).reason, /^sbatch refused the job: .*[Ii]nvalid partition/);
  assert.equal(exec.submitted.length, 0);
  assert.equal(notes.length, 1);
});

test('a lock is stale once its Slurm job has left the queue, alive while the job runs', async () => {
  const check = slurmJobLivenessCheck();
  const owner = { host: 'some-other-node', pid: 12345, started: new Date().toISOString(), run: 'r' };
  const running = execFileSync(
    'sbatch',
    ['--parsable', '--job-name=defrost:lock-test', '--mem=64M', '--output=/dev/null', '--wrap=sleep 60'],
    {
      encoding: 'utf8',
    },
  ).trim();
  const done = execFileSync('sbatch', ['--parsable', '--job-name=defrost:lock-test', '--mem=64M', '--output=/dev/null', '--wrap=true'], {
    encoding: 'utf8',
  }).trim();
  try {
    await until('the short job to finish', () => jobStates([done]).get(done) === 'COMPLETED');
    assert.equal(check({ ...owner, job: done }), false, 'finished job: stale');
    assert.equal(check({ ...owner, job: running }), true, 'queued/running job: alive');
    assert.equal(check({ ...owner, job: '999999' }), false, 'unknown job: stale');
    assert.equal(check(owner), true, 'no job recorded: cannot tell, respected');
  } finally {
    execFileSync('scancel', [running]);
  }
});
