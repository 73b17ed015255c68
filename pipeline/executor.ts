/**
 * Where stage instances run. The scheduler decides *what* runs *when* (dependency order, caching,
 * locks, failures); an executor only runs `defrost exec STAGE KEY` units somewhere — a pool of
 * local worker processes, or Slurm jobs — and reports how each ended. Both run the same unit, so
 * a key computed on a cluster is byte-identical to one computed locally (same backend, threads).
 */
import type { ProgressUpdate } from './stage.js';

export interface ExecRequest {
  readonly stage: string;
  readonly key: string;
  /** Absolute store directory. The instance's plan record is already written there. */
  readonly store: string;
  /** Compute threads the instance may use. */
  readonly threads: number;
  /** Recompute even if already published (`--force STAGE`); the old instance is replaced. */
  readonly force?: boolean;
}

export type ExecResult =
  /** Computed and published by this request. */
  | { readonly status: 'executed'; readonly seconds: number }
  /** Already published, or published meanwhile by another run this request waited for. */
  | { readonly status: 'cached'; readonly seconds: number }
  /** Not published. `reason` is one line for the summary (error message, signal, Slurm state). */
  | { readonly status: 'failed'; readonly reason: string; readonly logPath?: string };

/** Facts a worker reports once, e.g. the compute backend it initialised. */
export interface WorkerInfo {
  readonly backend: string;
  readonly notes: readonly string[];
  /** Said only with --verbose (RuntimeInfo.details). */
  readonly details?: readonly string[];
}

export interface ExecutorEvents {
  progress(req: ExecRequest, update: ProgressUpdate): void;
  /** Another process holds the instance's lock; this request waits for it. */
  waiting?(req: ExecRequest): void;
  /** A worker initialised its runtime; the scheduler prints the backend once per run. */
  runtime?(info: WorkerInfo): void;
}

export interface Executor {
  readonly name: string;
  /** How many instances may run at once. */
  readonly slots: number;
  run(req: ExecRequest, events: ExecutorEvents): Promise<ExecResult>;
  /** `done`: release workers. `interrupt`: stop (kill, scancel) everything still running, now. */
  shutdown(mode: 'done' | 'interrupt'): Promise<void>;
}
