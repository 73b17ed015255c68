/**
 * The local executor: a pool of up to `slots` long-lived worker processes (`worker.ts`), started
 * lazily with execa — a fully cached run starts none. Each worker runs one instance at a time and
 * several in turn. Every worker gets the same thread budget (DEFROST_THREADS, OPENBLAS_NUM_THREADS,
 * OMP_NUM_THREADS), so that results are byte-identical whichever worker computes them.
 *
 * A worker that dies mid-instance fails that instance only (its lock is stale and its staging
 * dir is cleaned by the next run); the next request starts a fresh worker.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync, unlinkSync } from 'node:fs';
import type { ResultPromise } from 'execa';
import type { ExecRequest, ExecResult, Executor, ExecutorEvents, WorkerInfo } from '../executor.js';
import type { ExecutorOptions } from './registry.js';
import { readOwner } from '../lock.js';
import { Store, thisHost } from '../store.js';
import type { FromWorker, ToWorker } from '../worker-protocol.js';

export interface LocalExecutorOptions {
  readonly slots: number;
  /** Threads per worker (already max(1, floor(cores / jobs))). */
  readonly threads: number;
  /** URL of the project module workers import. */
  readonly projectModule: string;
  /** Worker stdout/stderr outside instances (native library chatter) goes here. */
  readonly workerLog: string;
  /** Extra environment, e.g. DEFROST_BACKEND from --backend. */
  readonly env?: Readonly<Record<string, string>>;
}

interface Job {
  readonly id: number;
  readonly req: ExecRequest;
  readonly events: ExecutorEvents;
  readonly resolve: (result: ExecResult) => void;
}

interface Worker {
  readonly proc: ResultPromise;
  readonly pid: number;
  info: WorkerInfo | null;
  ready: boolean;
  job: Job | null;
  exited: boolean;
  /** The runtime event is sent once per worker, with its first job. */
  announced: boolean;
}

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'worker.js');

export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly slots: number;
  private readonly workers = new Set<Worker>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private stopping = false;
  private fatal: string | null = null;
  private execa: typeof import('execa') | undefined;

  constructor(private readonly options: LocalExecutorOptions) {
    this.slots = Math.max(1, options.slots);
  }

  run(req: ExecRequest, events: ExecutorEvents): Promise<ExecResult> {
    if (this.stopping) return Promise.resolve({ status: 'failed', reason: 'interrupted' });
    if (this.fatal) return Promise.resolve({ status: 'failed', reason: this.fatal });
    return new Promise<ExecResult>((resolve) => {
      this.queue.push({ id: this.nextId++, req, events, resolve });
      void this.dispatch();
    });
  }

  private async dispatch(): Promise<void> {
    // execa is loaded only when something must execute; after that, dispatching is synchronous,
    // so concurrent calls cannot start more than `slots` workers.
    this.execa ??= await import('execa');
    const idle = (): Worker | undefined => [...this.workers].find((w) => w.ready && !w.job && !w.exited);
    while (this.queue.length > 0 && !this.stopping) {
      const worker = idle();
      if (!worker) {
        if (this.workers.size >= this.slots) return; // all busy or starting; a finishing one re-dispatches
        const starting = [...this.workers].filter((w) => !w.ready).length;
        if (starting >= this.queue.length) return; // enough workers are starting for what is queued
        this.spawn(this.execa);
        continue;
      }
      const job = this.queue.shift() as Job;
      worker.job = job;
      if (!worker.announced && worker.info) {
        worker.announced = true;
        job.events.runtime?.(worker.info);
      }
      const message: ToWorker = { type: 'exec', id: job.id, req: job.req };
      worker.proc.send(message);
    }
  }

  private spawn({ execaNode }: typeof import('execa')): void {
    mkdirSync(dirname(this.options.workerLog), { recursive: true });
    const threads = String(this.options.threads);
    const proc = execaNode(WORKER_SCRIPT, [this.options.projectModule], {
      ipc: true,
      serialization: 'json',
      stdin: 'ignore',
      stdout: { file: this.options.workerLog, append: true },
      stderr: { file: this.options.workerLog, append: true },
      reject: false,
      buffer: false,
      cleanup: true,
      env: {
        ...this.options.env,
        DEFROST_THREADS: threads,
        OPENBLAS_NUM_THREADS: threads,
        OMP_NUM_THREADS: threads,
      },
    });
    const worker: Worker = { proc, pid: proc.pid ?? -1, info: null, ready: false, job: null, exited: false, announced: false };
    this.workers.add(worker);
    proc.on('message', (raw: unknown) => this.onMessage(worker, raw as FromWorker));
    proc.on('exit', (code: number | null, signal: string | null) => this.onExit(worker, code, signal));
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        worker.info = message.info;
        worker.ready = true;
        void this.dispatch();
        return;
      case 'fatal':
        this.fatal = message.message;
        for (const job of this.queue.splice(0)) job.resolve({ status: 'failed', reason: message.message });
        return;
      case 'progress':
        if (worker.job?.id === message.id) worker.job.events.progress(worker.job.req, message.update);
        return;
      case 'waiting':
        if (worker.job?.id === message.id) worker.job.events.waiting?.(worker.job.req);
        return;
      case 'result': {
        const job = worker.job;
        if (!job || job.id !== message.id) return;
        worker.job = null;
        job.resolve(message.result);
        void this.dispatch();
        return;
      }
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    worker.exited = true;
    this.workers.delete(worker);
    const job = worker.job;
    worker.job = null;
    if (job) {
      releaseLockOf(job.req, worker.pid);
      removeStagingOf(job.req, worker.pid);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      job.resolve({
        status: 'failed',
        reason: this.stopping ? 'interrupted' : `worker process ${worker.pid} died (${how})`,
        logPath: new Store(job.req.store).logPath(job.req.stage, job.req.key),
      });
    }
    if (!worker.ready && !this.stopping && !this.fatal && this.queue.length > 0 && !job) {
      this.fatal = `a worker process exited during start-up (${signal ?? code}); see ${this.options.workerLog}`;
      for (const j of this.queue.splice(0)) j.resolve({ status: 'failed', reason: this.fatal });
      return;
    }
    void this.dispatch();
  }

  async shutdown(mode: 'done' | 'interrupt'): Promise<void> {
    this.stopping = true;
    for (const job of this.queue.splice(0)) job.resolve({ status: 'failed', reason: 'interrupted' });
    const workers = [...this.workers];
    const exits = workers.map((w) =>
      w.proc.then(
        () => undefined,
        () => undefined,
      ),
    );
    for (const w of workers) {
      if (mode === 'done') w.proc.disconnect?.();
      else w.proc.kill('SIGTERM');
    }
    // A worker stuck in synchronous compute ignores SIGTERM until it yields: kill it after 2 s.
    const timer = setTimeout(
      () => {
        for (const w of workers) if (!w.exited) w.proc.kill('SIGKILL');
      },
      mode === 'done' ? 5000 : 2000,
    );
    await Promise.all(exits);
    clearTimeout(timer);
  }
}

/** Removes the staging directories a dead worker `pid` left (a crash cannot clean up after itself). */
function removeStagingOf(req: ExecRequest, pid: number): void {
  try {
    const store = new Store(req.store);
    for (const staging of store.stagingDirs())
      if (staging.pid === pid && staging.host === thisHost)
        store.disposeLeftover(staging.stage, staging.key, staging.dir, 'a dead worker left it');
  } catch {
    // Best effort: the next run removes staging directories of dead processes anyway.
  }
}

/** Removes the lock of `req` if the dead worker `pid` still owns it. */
function releaseLockOf(req: ExecRequest, pid: number): void {
  try {
    const path = new Store(req.store).lockPath(req.key);
    const owner = readOwner(path);
    if (owner && owner.pid === pid) unlinkSync(path);
  } catch {
    // Gone already, or unreadable: the next run treats it as stale.
  }
}

/** Entry point of `--executor local` (see `registry.ts`): a pool of `--jobs` worker processes. */
export async function createExecutor(options: ExecutorOptions): Promise<Executor> {
  return new LocalExecutor({
    slots: options.jobs,
    threads: options.threads,
    projectModule: options.projectModule,
    workerLog: new Store(options.store).workersLogPath,
    env: options.env,
  });
}
