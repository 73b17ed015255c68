/**
 * The Slurm executor: runs each ready instance as a Slurm job (`sbatch --wrap "defrost exec
 * STAGE KEY --store S"`) instead of in a local worker. The scheduler stays on the submitting
 * machine and keeps deciding what runs when; the store must be on a filesystem every node sees.
 *
 * Why it is built this way:
 * - The unit is the same `exec STAGE KEY` the local executor and `defrost make` run, so a key
 *   computed on the cluster is byte-identical to one computed locally (same backend, threads).
 * - Success is "the manifest exists" after the job ended, never the job's exit code alone: a job
 *   can be killed after publishing, and publishing is atomic (manifest last).
 * - One `squeue` per poll for every tracked job, so a sweep of hundreds of jobs costs the
 *   controller one query per tick, not hundreds.
 * - `--group N` packs up to N ready instances of one stage into one job that runs their `exec`s
 *   in turn, so thousands of tiny instances do not flood the queue.
 * - `shutdown('interrupt')` cancels every job this run submitted and waits (bounded) until Slurm
 *   no longer lists them as pending or running, so Ctrl-C leaves no defrost job behind.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { ExecRequest, ExecResult, Executor, ExecutorEvents } from '../executor.js';
import { publishedManifest } from '../manifest.js';
import {
  cancelJobs,
  DEFAULT_TOOLS,
  isTerminalState,
  jobExitCode,
  queryJobs,
  shellQuote,
  splitArgs,
  submitJob,
  type JobStatus,
  type SlurmTools,
} from './slurm-commands.js';
import { installSlurmLockCheck } from './slurm-lock.js';
import type { ExecutorOptions } from './registry.js';

/** Slurm resources of one job (per instance; a group multiplies `time` by its size). */
export interface SlurmResources {
  readonly cpus: number;
  /** Memory as sbatch takes it: "4G", "512M". */
  readonly mem: string;
  /** Time limit as sbatch takes it: "30", "01:00:00", "1-00:00:00". */
  readonly time: string;
}

export const DEFAULT_RESOURCES: SlurmResources = { cpus: 1, mem: '4G', time: '01:00:00' };

export interface SlurmExecutorOptions {
  /** Absolute store directory (on the shared filesystem). */
  readonly store: string;
  /** Absolute path of `bin/defrost.js`, run with `node` inside the job. */
  readonly cliPath: string;
  /** The node binary the job runs; default this process's (same version on every node). */
  readonly nodePath?: string;
  /** Resources of a stage's jobs (from the config's `resources` block). */
  resources(stage: string): SlurmResources;
  /** Extra sbatch arguments (`--slurm-args`), e.g. `--partition=short --account=lab`. */
  readonly slurmArgs?: readonly string[];
  /** Instances of one stage packed into one job (`--group N`); default 1. */
  readonly group?: number;
  /** Instances in flight at once (submitted or queued); default 512: Slurm does the real scheduling. */
  readonly slots?: number;
  /** Poll interval of `squeue`; default 1000 ms. */
  readonly pollMs?: number;
  /** How long a group waits for more ready instances of its stage before it is submitted. */
  readonly groupWaitMs?: number;
  /** Working directory of the jobs; default this process's. */
  readonly cwd?: string;
  readonly tools?: SlurmTools;
  /** Extra environment for the jobs (DEFROST_BACKEND, DEFROST_PROJECT_MODULE...), over this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the executor says things the user should know (a refused sbatch, a lost job). */
  readonly note?: (line: string) => void;
}

/** One `run()` call waiting for its job. */
interface Member {
  readonly req: ExecRequest;
  readonly events: ExecutorEvents;
  readonly settle: (result: ExecResult) => void;
  settled: boolean;
  /** With `force`: the `created` stamp of the manifest being replaced, so it is not taken for the new one. */
  readonly replaces?: string;
  /** Per-instance Slurm log, known once the job id is. */
  logPath?: string;
}

interface Job {
  readonly id: string;
  readonly stage: string;
  readonly members: readonly Member[];
  readonly submittedAt: number;
  startedAt?: number;
  state: string;
  /** Consecutive polls in which squeue no longer listed the job. */
  missing: number;
  done: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `defrost:<stage>:<key prefix>`: what users see in `squeue` and what tests look for. */
export function jobNameFor(stage: string, keys: readonly string[]): string {
  const base = `defrost:${stage}:${keys[0].slice(0, 8)}`;
  return keys.length > 1 ? `${base}+${keys.length - 1}` : base;
}

/** Multiplies a Slurm time limit ("[D-]HH:MM:SS", "MM:SS", "MM") by n, as "D-HH:MM:SS". */
export function scaleTime(time: string, n: number): string {
  let days = 0;
  let rest = time;
  const dash = time.indexOf('-');
  if (dash >= 0) {
    days = Number(time.slice(0, dash));
    rest = time.slice(dash + 1);
  }
  const parts = rest.split(':').map(Number);
  let seconds: number;
  if (dash >= 0) {
    // With days: "D-HH", "D-HH:MM", "D-HH:MM:SS".
    const [h = 0, m = 0, s = 0] = parts;
    seconds = ((days * 24 + h) * 60 + m) * 60 + s;
  } else if (parts.length === 3) seconds = (parts[0] * 60 + parts[1]) * 60 + parts[2];
  else if (parts.length === 2) seconds = parts[0] * 60 + parts[1];
  else seconds = parts[0] * 60;
  const total = seconds * n;
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (x: number): string => String(x).padStart(2, '0');
  return `${d}-${pad(h)}:${pad(m)}:${pad(s)}`;
}

/**
 * Why an instance failed, from its job's log: exec's `FAILED <id> <key>: <reason>` line for that
 * key, else the log's last line (a crash before exec could say anything), for the summary.
 */
function failureCause(path: string | undefined, key: string): string | undefined {
  if (!path) return undefined;
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
  } catch {
    return undefined;
  }
  const marker = ` ${key}: `;
  const failed = lines.find((l) => l.startsWith('FAILED') && l.includes(marker));
  const line = failed ? failed.slice(failed.indexOf(marker) + marker.length) : lines.at(-1);
  return line && line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Whether `defrost exec` reported the instance as cached (published by someone else) in its log. */
function execSaidCached(logPath: string | undefined, key: string): boolean {
  if (!logPath) return false;
  try {
    return readFileSync(logPath, 'utf8')
      .split('\n')
      .some((line) => line.startsWith('cached ') && line.trimEnd().endsWith(` ${key}`));
  } catch {
    return false;
  }
}

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly slots: number;

  private readonly opts: SlurmExecutorOptions;
  private readonly tools: SlurmTools;
  private readonly group: number;
  private readonly pollMs: number;
  private readonly jobs = new Map<string, Job>();
  /** Ready instances of each stage waiting to fill a group. */
  private readonly buffers = new Map<string, { members: Member[]; timer?: NodeJS.Timeout }>();
  /** Submissions go one at a time: sbatch is cheap, but a burst of hundreds is not. */
  private submitting: Promise<void> = Promise.resolve();
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  private runtimeReported = false;
  private readonly noted = new Set<string>();
  /** Every job id this executor submitted, for `interrupt`. */
  readonly submitted: string[] = [];

  constructor(options: SlurmExecutorOptions) {
    this.opts = options;
    this.tools = options.tools ?? DEFAULT_TOOLS;
    this.group = Math.max(1, Math.floor(options.group ?? 1));
    this.pollMs = options.pollMs ?? 1000;
    this.slots = Math.max(this.group, options.slots ?? 512);
    // The scheduler may meet locks taken by execs in jobs that Slurm has since killed.
    installSlurmLockCheck();
  }

  run(req: ExecRequest, events: ExecutorEvents): Promise<ExecResult> {
    return new Promise<ExecResult>((resolvePromise) => {
      const published = publishedManifest(join(resolve(req.store), req.stage, req.key), req.key);
      const member: Member = {
        req,
        events,
        settled: false,
        replaces: req.force ? published?.created : undefined,
        settle: (result) => {
          if (member.settled) return;
          member.settled = true;
          resolvePromise(result);
        },
      };
      if (this.stopped) return member.settle({ status: 'failed', reason: 'interrupted before submission' });
      // Published meanwhile (another run, or an earlier job of ours): nothing to submit.
      if (published && !req.force) return member.settle({ status: 'cached', seconds: 0 });
      if (this.group === 1) return this.enqueueSubmit(req.stage, [member]);
      this.addToGroup(member);
    });
  }

  private addToGroup(member: Member): void {
    const stage = member.req.stage;
    let buffer = this.buffers.get(stage);
    if (!buffer) {
      buffer = { members: [] };
      this.buffers.set(stage, buffer);
    }
    buffer.members.push(member);
    if (buffer.members.length >= this.group) {
      this.flushGroup(stage);
      return;
    }
    // The scheduler hands out ready instances in bursts; wait briefly for the rest of the burst.
    if (buffer.timer) clearTimeout(buffer.timer);
    buffer.timer = setTimeout(() => this.flushGroup(stage), this.opts.groupWaitMs ?? 300);
  }

  private flushGroup(stage: string): void {
    const buffer = this.buffers.get(stage);
    if (!buffer) return;
    if (buffer.timer) clearTimeout(buffer.timer);
    this.buffers.delete(stage);
    for (let i = 0; i < buffer.members.length; i += this.group) this.enqueueSubmit(stage, buffer.members.slice(i, i + this.group));
  }

  private enqueueSubmit(stage: string, members: Member[]): void {
    this.submitting = this.submitting
      .then(() => this.submit(stage, members))
      .catch((error: unknown) => {
        // E.g. the log directory cannot be created: fail these instances, keep the chain alive.
        const reason = `cannot submit to Slurm: ${(error as Error).message}`;
        for (const m of members) m.settle({ status: 'failed', reason });
      });
  }

  /** Says a thing once per run: a refused sbatch would otherwise repeat for every instance. */
  private noteOnce(line: string): void {
    if (this.noted.has(line)) return;
    this.noted.add(line);
    this.opts.note?.(line);
  }

  /**
   * The shell script of a job: one `exec STAGE KEY...` process for all its members, so a group
   * loads the project and initialises the compute runtime once, not once per instance.
   */
  private script(members: readonly Member[], threads: number): string {
    const first = members[0].req;
    const words = [
      this.opts.nodePath ?? process.execPath,
      resolve(this.opts.cliPath),
      'exec',
      first.stage,
      ...members.map((m) => m.req.key),
      '--store',
      resolve(first.store),
      ...(first.force ? ['--force'] : []),
    ];
    // The job was allocated `threads` cpus; exec sizes its compute pool from DEFROST_THREADS.
    return `export DEFROST_THREADS=${threads}; exec ${words.map(shellQuote).join(' ')}`;
  }

  /** `<store>/.logs/<stage>/<key>.slurm-%j.log`, next to the engine's own log of the instance. */
  private slurmLogPattern(req: ExecRequest): string {
    return join(resolve(req.store), '.logs', req.stage, `${req.key}.slurm-%j.log`);
  }

  private async submit(stage: string, members: Member[]): Promise<void> {
    if (this.stopped) {
      for (const m of members) m.settle({ status: 'failed', reason: 'interrupted before submission' });
      return;
    }
    const res = this.opts.resources(stage) ?? DEFAULT_RESOURCES;
    const first = members[0].req;
    const logDir = join(resolve(first.store), '.logs', stage);
    mkdirSync(logDir, { recursive: true });
    const output = members.length === 1 ? this.slurmLogPattern(first) : join(logDir, `group-${first.key}.slurm-%j.log`);
    const jobName = jobNameFor(
      stage,
      members.map((m) => m.req.key),
    );
    let id: string;
    try {
      id = await submitJob(this.tools, {
        jobName,
        cpus: res.cpus,
        mem: res.mem,
        time: members.length === 1 ? res.time : scaleTime(res.time, members.length),
        output,
        chdir: this.opts.cwd ?? process.cwd(),
        extraArgs: this.opts.slurmArgs ?? [],
        script: this.script(members, res.cpus),
        env: { ...process.env, ...this.opts.env },
      });
    } catch (error) {
      const reason = (error as Error).message;
      this.noteOnce(reason);
      for (const m of members) m.settle({ status: 'failed', reason });
      return;
    }
    this.submitted.push(id);
    // Which job ran which instances: Slurm forgets finished jobs (and sacct needs a database).
    const record = { job: id, name: jobName, stage, keys: members.map((m) => m.req.key), submitted: new Date().toISOString() };
    try {
      appendFileSync(join(resolve(first.store), '.logs', 'slurm-jobs.jsonl'), `${JSON.stringify(record)}\n`);
    } catch {
      // A record for people; never a reason to fail the run.
    }
    for (const m of members) {
      m.logPath = output.replace('%j', id);
      m.events.progress(m.req, { message: `slurm job ${id} submitted` });
    }
    // Interrupted while sbatch ran: the job exists now, so cancel it too.
    if (this.stopped) {
      await cancelJobs(this.tools, [id]);
      for (const m of members) m.settle({ status: 'failed', reason: `interrupted (Slurm job ${id} cancelled)`, logPath: m.logPath });
      return;
    }
    this.jobs.set(id, { id, stage, members, submittedAt: Date.now(), state: 'PENDING', missing: 0, done: false });
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll();
    }, this.pollMs);
  }

  private activeJobs(): Job[] {
    return [...this.jobs.values()].filter((j) => !j.done);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const active = this.activeJobs();
      if (active.length === 0) return;
      let statuses: Map<string, JobStatus>;
      try {
        statuses = await queryJobs(
          this.tools,
          active.map((j) => j.id),
        );
      } catch (error) {
        // The controller may be briefly unreachable; keep polling, say so once in a while.
        this.noteOnce(`${(error as Error).message}; retrying`);
        return;
      }
      if (this.stopped) return;
      for (const job of active) {
        const status = statuses.get(job.id);
        if (!status) {
          // Gone from the queue (purged after MinJobAge, or lost): decide by the store, after
          // one more poll so that a momentary gap in squeue's answer is not taken for an end.
          if (++job.missing >= 2)
            await this.finish(job, { id: job.id, state: 'UNKNOWN', reason: 'left the queue', exitCode: '', nodes: '' });
          continue;
        }
        job.missing = 0;
        if (status.state !== job.state) {
          job.state = status.state;
          if (status.state === 'RUNNING' && job.startedAt === undefined) job.startedAt = Date.now();
          if (!isTerminalState(status.state)) {
            const where = status.state === 'RUNNING' && status.nodes ? ` on ${status.nodes}` : '';
            const why = status.state === 'PENDING' && status.reason && status.reason !== 'None' ? ` (${status.reason})` : '';
            for (const m of job.members)
              m.events.progress(m.req, { message: `slurm job ${job.id} ${status.state.toLowerCase()}${where}${why}` });
          }
        }
        if (isTerminalState(status.state)) await this.finish(job, status);
      }
    } finally {
      this.polling = false;
      if (this.activeJobs().length > 0) this.schedulePoll();
    }
  }

  /** Settles every member of an ended job: published means executed, anything else failed. */
  private async finish(job: Job, status: JobStatus): Promise<void> {
    job.done = true;
    let unpublished = job.members.filter((m) => !this.publish(m));
    // On a shared filesystem the manifest may reach this host a moment after the job ended.
    if (unpublished.length > 0 && (status.state === 'COMPLETED' || status.state === 'UNKNOWN')) {
      for (let i = 0; i < 10 && unpublished.length > 0; i++) {
        await sleep(300);
        unpublished = unpublished.filter((m) => !this.publish(m));
      }
    }
    if (unpublished.length === 0) return;
    const exit = status.state === 'UNKNOWN' ? '' : await jobExitCode(this.tools, job.id);
    const reasonWord = status.reason && status.reason !== 'None' ? status.reason : '';
    const details = [reasonWord, exit && exit !== '0:0' ? `exit ${exit}` : ''].filter(Boolean).join(', ');
    const head =
      status.state === 'UNKNOWN'
        ? `Slurm job ${job.id} left the queue without publishing`
        : `Slurm job ${job.id} ${status.state}${details ? ` (${details})` : ''}`;
    for (const m of unpublished) {
      const logPath = m.logPath && existsSync(m.logPath) ? m.logPath : undefined;
      const cause =
        status.state === 'COMPLETED' || status.state === 'FAILED' || status.state === 'UNKNOWN'
          ? failureCause(logPath, m.req.key)
          : undefined;
      m.settle({ status: 'failed', reason: cause ? `${head}: ${cause}` : head, logPath: logPath ?? m.logPath });
    }
  }

  /** Settles a member as executed if its manifest is published; false if it is not (yet). */
  private publish(m: Member): boolean {
    if (m.settled) return true;
    const manifest = publishedManifest(join(resolve(m.req.store), m.req.stage, m.req.key), m.req.key);
    if (!manifest || (m.replaces !== undefined && manifest.created === m.replaces)) return false;
    if (!this.runtimeReported) {
      this.runtimeReported = true;
      m.events.runtime?.({ backend: manifest.backend, notes: [] });
    }
    // `exec` says `cached <id> <key>` when another run published the instance while it waited.
    if (execSaidCached(m.logPath, m.req.key)) m.settle({ status: 'cached', seconds: 0 });
    else m.settle({ status: 'executed', seconds: manifest.duration_s });
    return true;
  }

  async shutdown(mode: 'done' | 'interrupt'): Promise<void> {
    if (mode === 'done' && this.activeJobs().length === 0 && this.buffers.size === 0) {
      this.stop();
      return;
    }
    this.stopped = true;
    this.stop();
    // Instances still waiting to fill a group were never submitted.
    for (const [, buffer] of this.buffers) {
      if (buffer.timer) clearTimeout(buffer.timer);
      for (const m of buffer.members) m.settle({ status: 'failed', reason: 'interrupted before submission' });
    }
    this.buffers.clear();
    // Let an sbatch in flight return its id (submit() cancels it itself when stopped).
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([this.submitting, new Promise<void>((r) => (giveUp = setTimeout(r, 15_000)))]);
    clearTimeout(giveUp);
    const active = this.activeJobs();
    const ids = active.map((j) => j.id);
    const problem = await cancelJobs(this.tools, ids);
    if (problem) this.opts.note?.(`scancel: ${problem}`);
    // Wait (bounded) until Slurm no longer lists them as pending or running.
    const deadline = Date.now() + 20_000;
    let left = ids;
    while (left.length > 0 && Date.now() < deadline) {
      try {
        const statuses = await queryJobs(this.tools, left);
        left = left.filter((id) => {
          const s = statuses.get(id);
          return s !== undefined && !isTerminalState(s.state);
        });
      } catch {
        break;
      }
      if (left.length > 0) await sleep(300);
    }
    if (left.length > 0) this.opts.note?.(`Slurm jobs still listed after scancel: ${left.join(', ')}`);
    for (const job of active) {
      job.done = true;
      for (const m of job.members) {
        // An instance that published before the cancel reached it is a result, not a failure.
        if (this.publish(m)) continue;
        m.settle({ status: 'failed', reason: `interrupted (Slurm job ${job.id} cancelled)`, logPath: m.logPath });
      }
    }
  }

  private stop(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }
}

/** What `defrost run --executor slurm` adds to the engine's executor options. */
export interface SlurmRunOptions {
  /** `--slurm-args "..."`: extra sbatch arguments, split like a shell would. */
  readonly slurmArgs?: string;
  /** `--group N`: instances of one stage per job. */
  readonly group?: number;
  /** The validated config; its `resources.<stage>` blocks size each stage's jobs. */
  readonly config?: unknown;
  /** Instances submitted at once; default 512 (the cluster queues the rest). */
  readonly maxJobs?: number;
}

/** `resources.<stage>` of a config, with the defaults for whatever it leaves out. */
export function resourcesFrom(config: unknown, stage: string): SlurmResources {
  const all = (config as { resources?: Record<string, Partial<SlurmResources> | undefined> } | undefined)?.resources;
  const mine = all && typeof all === 'object' ? all[stage] : undefined;
  return {
    cpus: typeof mine?.cpus === 'number' ? mine.cpus : DEFAULT_RESOURCES.cpus,
    mem: typeof mine?.mem === 'string' ? mine.mem : DEFAULT_RESOURCES.mem,
    time: typeof mine?.time === 'string' ? mine.time : DEFAULT_RESOURCES.time,
  };
}

/** The `defrost` entry point jobs run: this build's own `bin/defrost.js` (dist/pipeline/executors/ -> bin/). */
export const CLI_PATH = fileURLToPath(new URL('../../../bin/defrost.js', import.meta.url));

/** `DEFROST_SLURM_POLL_MS` (200..60000), else the default of one squeue per second. */
function pollIntervalFromEnv(): number | undefined {
  const raw = process.env.DEFROST_SLURM_POLL_MS;
  if (raw === undefined || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 200 || ms > 60_000)
    throw new UsageError(`DEFROST_SLURM_POLL_MS: got ${JSON.stringify(raw)}; allowed: milliseconds from 200 to 60000`);
  return ms;
}

/** Entry point of `--executor slurm` (see `registry.ts`). */
export async function createExecutor(options: ExecutorOptions & SlurmRunOptions): Promise<Executor> {
  try {
    execFileSync(DEFAULT_TOOLS.sbatch, ['--version'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new UsageError('--executor slurm: sbatch is not available here (run on a Slurm submit host, or use --executor local)');
  }
  let slurmArgs: string[] = [];
  try {
    slurmArgs = splitArgs(options.slurmArgs ?? '');
  } catch (error) {
    throw new UsageError(`--slurm-args: got ${JSON.stringify(options.slurmArgs)}; ${(error as Error).message}`);
  }
  const group = options.group ?? 1;
  if (!Number.isInteger(group) || group < 1) throw new UsageError(`--group: got ${String(options.group)}; allowed: a whole number >= 1`);
  return new SlurmExecutor({
    store: options.store,
    cliPath: CLI_PATH,
    resources: (stage) => resourcesFrom(options.config, stage),
    slurmArgs,
    group,
    slots: options.maxJobs,
    // A site (or a test on a one-node cluster) may poll faster or slower than once a second.
    pollMs: pollIntervalFromEnv(),
    env: { ...options.env, DEFROST_PROJECT_MODULE: options.projectModule },
    note: (line) => process.stderr.write(`slurm: ${line}\n`),
  });
}
