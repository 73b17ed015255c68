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
 * - How an instance ended is read from the record `defrost exec` writes (`exec-record.ts`):
 *   executed, cached (published by another run meanwhile) or failed with its reason; never
 *   scraped from logs. Grouping is `slurm-grouping.ts`, configuration `slurm-config.ts`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readExecRecord } from '../exec-record.js';
import type { ExecRequest, ExecResult, Executor, ExecutorEvents } from '../executor.js';
import { publishedManifest } from '../manifest.js';
import type { StageResources } from '../project.js';
import { Store } from '../store.js';
import {
  cancelJobs,
  DEFAULT_TOOLS,
  isTerminalState,
  jobExitCode,
  queryJobs,
  shellQuote,
  submitJob,
  type JobStatus,
  type SlurmTools,
} from './slurm-commands.js';
import { jobNameFor, scaleTime, StageGroups } from './slurm-grouping.js';
import { installSlurmLockCheck } from './slurm-lock.js';

export interface SlurmExecutorOptions {
  /** Absolute store directory (on the shared filesystem). */
  readonly store: string;
  /** Absolute path of `bin/defrost.js`, run with `node` inside the job. */
  readonly cliPath: string;
  /** The node binary the job runs; default this process's (same version on every node). */
  readonly nodePath?: string;
  /** Resources of one instance of a stage (the project's, defaults filled; a group multiplies `time`). */
  resources(stage: string): StageResources;
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
  /** The Slurm job running it, once submitted. */
  jobId?: string;
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

/** The last line of a job's Slurm log: what a job that died before `exec` could say leaves. */
function lastLogLine(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    const line = readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .at(-1);
    return line && line.length > 200 ? `${line.slice(0, 197)}...` : line;
  } catch {
    return undefined;
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
  private readonly groups: StageGroups<Member>;
  /** The store of each request (every path in it goes through the store module). */
  private readonly stores = new Map<string, Store>();
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
    this.groups = new StageGroups(this.group, options.groupWaitMs ?? 300, (stage, members) => this.enqueueSubmit(stage, members));
    // The scheduler may meet locks taken by execs in jobs that Slurm has since killed.
    installSlurmLockCheck();
  }

  private storeOf(req: ExecRequest): Store {
    const root = resolve(req.store);
    let store = this.stores.get(root);
    if (!store) {
      store = new Store(root);
      this.stores.set(root, store);
    }
    return store;
  }

  run(req: ExecRequest, events: ExecutorEvents): Promise<ExecResult> {
    return new Promise<ExecResult>((resolvePromise) => {
      const published = publishedManifest(this.storeOf(req).instanceDir(req.stage, req.key), req.key);
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
      this.groups.add(req.stage, member);
    });
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
    return this.storeOf(req)
      .logPath(req.stage, req.key)
      .replace(/\.log$/, '.slurm-%j.log');
  }

  private async submit(stage: string, members: Member[]): Promise<void> {
    if (this.stopped) {
      for (const m of members) m.settle({ status: 'failed', reason: 'interrupted before submission' });
      return;
    }
    const res = this.opts.resources(stage);
    const first = members[0].req;
    const single = this.slurmLogPattern(first);
    mkdirSync(dirname(single), { recursive: true });
    const output = members.length === 1 ? single : single.replace(/[^/]+$/, `group-${first.key}.slurm-%j.log`);
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
      appendFileSync(this.storeOf(first).slurmJobsPath, `${JSON.stringify(record)}\n`);
    } catch {
      // A record for people; never a reason to fail the run.
    }
    for (const m of members) {
      m.logPath = output.replace('%j', id);
      m.jobId = id;
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
      // exec's own word on the instance (its record), else the last line a crashed job left.
      const record = this.recordOf(m);
      const cause =
        record?.status === 'failed'
          ? record.reason
          : status.state === 'COMPLETED' || status.state === 'FAILED' || status.state === 'UNKNOWN'
            ? lastLogLine(logPath)
            : undefined;
      m.settle({ status: 'failed', reason: cause ? `${head}: ${cause}` : head, logPath: logPath ?? m.logPath });
    }
  }

  /** Settles a member as executed if its manifest is published; false if it is not (yet). */
  private publish(m: Member): boolean {
    if (m.settled) return true;
    const manifest = publishedManifest(this.storeOf(m.req).instanceDir(m.req.stage, m.req.key), m.req.key);
    if (!manifest || (m.replaces !== undefined && manifest.created === m.replaces)) return false;
    if (!this.runtimeReported) {
      this.runtimeReported = true;
      m.events.runtime?.({ backend: manifest.backend, notes: [] });
    }
    // exec records `cached` when another run published the instance while it waited.
    const record = this.recordOf(m);
    if (record?.status === 'cached') m.settle({ status: 'cached', seconds: 0 });
    else m.settle({ status: 'executed', seconds: record?.status === 'executed' ? record.seconds : manifest.duration_s });
    return true;
  }

  /** The record `defrost exec` wrote for a member in its own job (an older job's does not count). */
  private recordOf(m: Member): ReturnType<typeof readExecRecord> {
    const record = readExecRecord(this.storeOf(m.req), m.req.stage, m.req.key);
    return record !== null && m.jobId !== undefined && record.job === m.jobId ? record : null;
  }

  async shutdown(mode: 'done' | 'interrupt'): Promise<void> {
    if (mode === 'done' && this.activeJobs().length === 0 && this.groups.pending === 0) {
      this.stop();
      return;
    }
    this.stopped = true;
    this.stop();
    // Instances still waiting to fill a group were never submitted.
    for (const m of this.groups.drain()) m.settle({ status: 'failed', reason: 'interrupted before submission' });
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
