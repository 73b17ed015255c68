/**
 * Lock staleness on a cluster. An instance lock records its owner's host and pid; on a shared
 * filesystem the owner usually runs on another node, where `kill(pid, 0)` cannot reach. When the
 * owner ran inside a Slurm job, its lock also records the job id (`LockOwner.job`, from
 * `SLURM_JOB_ID`), and Slurm itself can tell whether that job still exists: a lock whose job is
 * no longer in the queue (or has finished) is stale, whatever host it names.
 *
 * The engine's lock checks are synchronous (they run between two filesystem operations), so this
 * one calls `squeue` synchronously, and remembers answers for a few seconds because a waiter
 * polls a held lock several times a second.
 */
import { execFileSync } from 'node:child_process';
import { addLivenessCheck, type LivenessCheck, type LockOwner } from '../lock.js';
import { isTerminalState } from './slurm-commands.js';

const CACHE_MS = 3_000;
const answers = new Map<string, { alive: boolean; at: number }>();

/**
 * `undefined` when Slurm cannot be asked (no squeue here, controller unreachable): not knowing is
 * never evidence that an owner is dead.
 */
function jobStillQueued(jobId: string, squeue: string): boolean | undefined {
  try {
    const out = execFileSync(squeue, ['--noheader', '--states=all', `--jobs=${jobId}`, '--format=%i|%T'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = out
      .split('\n')
      .map((l) => l.trim().split('|'))
      .find(([id]) => id === jobId);
    return line !== undefined && !isTerminalState(line[1] ?? '');
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    // squeue exits non-zero with "Invalid job id" once the job has been purged from the queue.
    if (/Invalid job id/i.test(stderr)) return false;
    return undefined;
  }
}

/** A liveness check: an owner that names a Slurm job is alive only while that job is queued or running. */
export function slurmJobLivenessCheck(squeue = 'squeue'): LivenessCheck {
  return (owner: LockOwner) => {
    const job = owner.job;
    if (!job || !/^\d+(_\d+)?$/.test(job)) return true;
    // The caller's own job is alive by definition (a re-entrant check from inside it).
    if (job === process.env.SLURM_JOB_ID) return true;
    const cached = answers.get(job);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.alive;
    const queued = jobStillQueued(job, squeue);
    const alive = queued !== false;
    answers.set(job, { alive, at: Date.now() });
    return alive;
  };
}

let installed = false;

/**
 * Adds the Slurm check to the engine's lock liveness checks, once per process. Called by the
 * Slurm executor (the scheduler side) and by `exec` when it runs inside a Slurm job.
 */
export function installSlurmLockCheck(): void {
  if (installed) return;
  installed = true;
  addLivenessCheck(slurmJobLivenessCheck());
}

/** The job id to record in a lock taken by this process: set when it runs inside a Slurm job. */
export function currentSlurmJob(): string | undefined {
  const id = process.env.SLURM_JOB_ID;
  return id && /^\d+$/.test(id) ? id : undefined;
}
