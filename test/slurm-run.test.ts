/**
 * `defrost run experiments/quick.yaml --executor slurm` end to end, on a real single-node Slurm
 * cluster (brought up by scripts/slurm/up.sh when Slurm is not already running, stopped after):
 *
 * 1. A run in which one job is cancelled with `scancel` while it runs: exactly that job's
 *    instances fail, with Slurm's state in the reason, their descendants are skipped, everything
 *    else is executed; the next run completes the sweep, breaking a lock whose job is gone. Every instance went through sbatch
 *    (the executor's job record and the job names Slurm lists), and instances recomputed locally
 *    from the same inputs have the same keys and output bytes.
 * 2. SIGINT of the scheduler cancels its jobs: no defrost job stays in `squeue`, nothing partial.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCluster, jobStates, queuedJobNames, repoRoot, stopCluster, type ClusterHandle } from './slurm-cluster.js';
import { scratchDir } from './stage-rig.js';

const CLI = join(repoRoot, 'bin', 'defrost.js');
const CONFIG = join(repoRoot, 'experiments', 'quick.yaml');

let cluster: ClusterHandle;
let work: string;

before(() => {
  cluster = ensureCluster();
  work = scratchDir('slurm-run');
});

/** Runs still going when a test ends (it failed or timed out): interrupted so they cancel their jobs. */
const live = new Set<ChildProcess>();

after(async () => {
  for (const child of live) child.kill('SIGINT');
  await Promise.all([...live].map((child) => new Promise((r) => child.once('close', r))));
  rmSync(work, { recursive: true, force: true });
  stopCluster(cluster);
});

interface RunSummary {
  stages: number;
  executed: number;
  cached: number;
  failed: number;
  skipped: number;
  executed_by_stage: Record<string, number>;
  failures: { id: string; stage: string; key: string; reason: string; log: string | null }[];
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startRun(store: string, extra: string[] = []): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [CLI, 'run', CONFIG, '--executor', 'slurm', '--store', store, '--json', ...extra], {
    cwd: repoRoot,
    // A one-node test cluster answers squeue in milliseconds: poll twice a second.
    env: { ...process.env, DEFROST_SLURM_POLL_MS: '500' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  live.add(child);
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

function summaryOf(run: Finished): RunSummary {
  const last = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as RunSummary;
  } catch {
    throw new Error(`no JSON summary (exit ${run.code}); stderr:\n${run.stderr.slice(-3000)}`);
  }
}

interface JobRecord {
  job: string;
  name: string;
  stage: string;
  keys: string[];
}

function jobRecords(store: string): JobRecord[] {
  const path = join(store, '.logs', 'slurm-jobs.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JobRecord);
}

/** The plan as the store records it: `key -> {stage, input keys}`. */
function planOf(store: string): Map<string, { stage: string; inputs: string[] }> {
  const plan = new Map<string, { stage: string; inputs: string[] }>();
  for (const stage of readdirSync(join(store, '.plans'))) {
    for (const file of readdirSync(join(store, '.plans', stage))) {
      const record = JSON.parse(readFileSync(join(store, '.plans', stage, file), 'utf8')) as {
        key: string;
        inputs: Record<string, { key: string }>;
      };
      plan.set(record.key, { stage, inputs: Object.values(record.inputs).map((i) => i.key) });
    }
  }
  return plan;
}

function descendants(plan: Map<string, { inputs: string[] }>, roots: readonly string[]): Set<string> {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [key, { inputs }] of plan)
      if (!out.has(key) && inputs.some((i) => roots.includes(i) || out.has(i))) {
        out.add(key);
        grew = true;
      }
  }
  return out;
}

function manifestOf(store: string, stage: string, key: string): { files: unknown[]; backend: string; threads: number } {
  return JSON.parse(readFileSync(join(store, stage, key, 'manifest.json'), 'utf8'));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(
  'quick.yaml through sbatch: a scancelled job fails only its instances and descendants; the next run completes; same bytes as local',
  { timeout: 300_000 },
  async () => {
    const store = join(work, 'sweep');
    const first = startRun(store, ['--group', '16']);
    // Cancel the first train-scratch job as soon as it runs.
    let cancelled: JobRecord | undefined;
    const deadline = Date.now() + 120_000;
    while (!cancelled && Date.now() < deadline) {
      const job = jobRecords(store).find((r) => r.stage === 'train-scratch');
      if (job && jobStates([job.job]).get(job.job) === 'RUNNING') {
        execFileSync('scancel', [job.job]);
        cancelled = job;
      } else await sleep(100);
    }
    assert.ok(cancelled, 'a train-scratch job was submitted and ran');
    const run1 = await first.done;
    const s1 = summaryOf(run1);
    assert.equal(run1.code, 1, 'a failed instance makes the run exit 1');
    assert.equal(s1.stages, 147);
    // Only the cancelled job's instances failed, each with Slurm's state and its log. (A group job
    // runs its instances in turn: those it published before the cancel reached it are results.)
    const failedKeys = s1.failures.map((f) => f.key);
    assert.ok(failedKeys.length > 0, 'the cancelled job failed something');
    for (const f of s1.failures) assert.ok(cancelled.keys.includes(f.key), `${f.id} failed but was not in the cancelled job: ${f.reason}`);
    for (const key of cancelled.keys.filter((k) => !failedKeys.includes(k)))
      assert.ok(
        existsSync(join(store, 'train-scratch', key, 'manifest.json')),
        `${key} of the cancelled job neither failed nor was published`,
      );
    for (const f of s1.failures) {
      assert.match(f.reason, new RegExp(`^Slurm job ${cancelled.job} CANCELLED`));
      assert.ok(f.log && f.log.includes(`slurm-${cancelled.job}.log`), `log path of ${f.id}: ${f.log}`);
    }
    const plan = planOf(store);
    assert.equal(plan.size, 147);
    const downstream = descendants(plan, failedKeys);
    assert.equal(s1.skipped, downstream.size, 'exactly the descendants are skipped');
    assert.equal(s1.executed, 147 - failedKeys.length - downstream.size, 'everything independent executed');
    assert.match(run1.stderr, /CANCELLED/, 'the reason is shown to the user');

    // A lock left on one of them by an exec on another node, inside the (now cancelled) job: the
    // host's processes cannot be checked from here, but the job has left the queue, so it is stale.
    const lockDir = join(store, '.locks');
    mkdirSync(lockDir, { recursive: true });
    const ghost = { host: 'node-that-died', pid: 4242, started: new Date().toISOString(), run: 'exec-ghost', job: cancelled.job };
    writeFileSync(join(lockDir, `${failedKeys[0]}.lock`), JSON.stringify(ghost));

    // The next run completes what is missing, again through Slurm.
    const run2 = await startRun(store, ['--group', '16']).done;
    const s2 = summaryOf(run2);
    assert.equal(run2.code, 0, run2.stderr.slice(-2000));
    assert.equal(s2.failed, 0, JSON.stringify(s2.failures));
    assert.equal(s2.executed, failedKeys.length + downstream.size);
    assert.equal(s2.cached, 147 - s2.executed);
    const status = JSON.parse(
      execFileSync(process.execPath, [CLI, 'status', CONFIG, '--store', store, '--json'], { cwd: repoRoot, encoding: 'utf8' }),
    ) as { total: number; cached: number; instances: { stage: string; key: string }[] };
    assert.deepEqual([status.total, status.cached], [147, 147], 'the sweep is complete');

    // Every instance was executed by an sbatch job; Slurm lists those jobs under defrost names.
    const records = jobRecords(store);
    const viaSlurm = new Set(records.flatMap((r) => r.keys));
    for (const { stage, key } of status.instances) assert.ok(viaSlurm.has(key), `${stage} ${key} ran in a Slurm job`);
    const names = queuedJobNames({ all: true, ids: records.map((r) => r.job) }).sort();
    assert.deepEqual(names, records.map((r) => r.name).sort(), 'Slurm lists every job of the record under its defrost name');
    for (const r of records) assert.match(r.name, new RegExp(`^defrost:${r.stage}:${r.keys[0].slice(0, 8)}(\\+${r.keys.length - 1})?$`));

    // Same bytes as a local computation: recompute one instance of each stage (but aggregate,
    // whose report carries timings) from the same inputs, outside Slurm, and compare the manifests.
    const local = join(work, 'local-copy');
    cpSync(store, local, { recursive: true });
    for (const stage of ['generate-data', 'train-source', 'train-scratch', 'transfer', 'similarity']) {
      const key = [...plan].find(([, p]) => p.stage === stage)?.[0] as string;
      execFileSync(process.execPath, [CLI, 'exec', stage, key, '--force', '--store', local], {
        cwd: repoRoot,
        env: { ...process.env, DEFROST_THREADS: '1', SLURM_JOB_ID: '' },
        stdio: 'pipe',
      });
      const there = manifestOf(store, stage, key);
      const here = manifestOf(local, stage, key);
      assert.notEqual(
        readFileSync(join(local, stage, key, 'manifest.json'), 'utf8'),
        readFileSync(join(store, stage, key, 'manifest.json'), 'utf8'),
        'recomputed',
      );
      assert.deepEqual(here.files, there.files, `${stage} ${key}: same output files and bytes`);
      assert.equal(here.backend, there.backend);
      assert.equal(here.threads, there.threads);
    }
  },
);

test(
  'SIGINT of the scheduler cancels every job it submitted: no defrost job left in squeue, nothing partial',
  { timeout: 120_000 },
  async () => {
    const store = join(work, 'interrupted');
    const run = startRun(store);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ids = jobRecords(store).map((r) => r.job);
      if (ids.length > 0 && [...jobStates(ids).values()].includes('RUNNING')) break;
      if (Date.now() > deadline) throw new Error('no job started running');
      await sleep(100);
    }
    run.child.kill('SIGINT');
    const finished = await run.done;
    assert.equal(finished.code, 130, finished.stderr.slice(-2000));
    const ids = jobRecords(store).map((r) => r.job);
    assert.ok(ids.length > 0);
    assert.deepEqual(
      queuedJobNames().filter((n) => n.startsWith('defrost:')),
      [],
      'no defrost job pending or running',
    );
    for (const state of jobStates(ids).values()) assert.ok(['CANCELLED', 'COMPLETED'].includes(state), state);
    // Nothing partial: every instance directory is a published one.
    for (const stage of readdirSync(store).filter((s) => !s.startsWith('.'))) {
      for (const key of readdirSync(join(store, stage)))
        assert.ok(existsSync(join(store, stage, key, 'manifest.json')), `${stage}/${key} is complete`);
    }
  },
);
