/**
 * One lock per instance key, so that concurrent runs (and `make -j` jobs) compute each instance
 * once. A lock is a file `<store>/.locks/<key>.lock` holding its owner `{host, pid, started, run}`.
 *
 * Creation must be atomic on shared (NFS-like) filesystems where O_EXCL and flock are unreliable,
 * so the owner is written to a uniquely named temp file which is then `link()`ed to the lock name:
 * link fails with EEXIST if the lock exists, atomically, everywhere. Release is unlink.
 *
 * A lock whose owner is dead is stale and may be broken. Whether an owner is alive is decided by
 * pluggable checks: the default knows only processes on this host (`kill(pid, 0)`); the Slurm
 * executor adds "the job is no longer in the queue". Breaking is itself guarded by a short-lived
 * `.break` lock so two processes cannot both break a lock and then delete each other's new one.
 */
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { uniqueSuffix } from './fsutil.js';

export interface LockOwner {
  readonly host: string;
  readonly pid: number;
  /** ISO time the lock was taken. */
  readonly started: string;
  /** Id of the run (or `exec`) that took it. */
  readonly run: string;
  /** Executor-specific identity, e.g. a Slurm job id. */
  readonly job?: string;
}

/** `false`: the owner is certainly dead. `true`: alive, or cannot tell (then it is respected). */
export type LivenessCheck = (owner: LockOwner) => boolean;

/** Alive unless it is a process of this host that no longer exists. */
export const sameHostProcessCheck: LivenessCheck = (owner) => {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
};

const livenessChecks: LivenessCheck[] = [sameHostProcessCheck];

/** Adds a liveness check (e.g. Slurm's queue); an owner any check declares dead is stale. */
export function addLivenessCheck(check: LivenessCheck): void {
  livenessChecks.push(check);
}

export function isOwnerAlive(owner: LockOwner): boolean {
  return livenessChecks.every((check) => check(owner));
}

export function newOwner(run: string): LockOwner {
  // Inside a Slurm job the job id is recorded too: the Slurm lock check (executors/slurm-lock.ts)
  // declares the lock stale once that job has left the queue, from any host.
  const job = process.env.SLURM_JOB_ID;
  return { host: hostname(), pid: process.pid, started: new Date().toISOString(), run, ...(job ? { job } : {}) };
}

export class HeldLock {
  private released = false;
  constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {}
  /** Idempotent; safe to call from exit handlers (synchronous). */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      const current = readOwner(this.path);
      // Never delete a lock that someone else took after ours was broken.
      if (current && (current.pid !== this.owner.pid || current.host !== this.owner.host || current.started !== this.owner.started)) return;
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

export function readOwner(path: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

/** Atomically creates `path` with `content` unless it exists. */
function linkCreate(path: string, content: string): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${uniqueSuffix()}.tmp`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
  }
}

export type LockAttempt =
  { readonly acquired: true; readonly lock: HeldLock } | { readonly acquired: false; readonly owner: LockOwner | null };

/** One attempt: take the lock, or break it if its owner is dead and try once more. */
export function tryAcquire(path: string, owner: LockOwner): LockAttempt {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (linkCreate(path, JSON.stringify(owner))) return { acquired: true, lock: new HeldLock(path, owner) };
    const current = readOwner(path);
    if (current && isOwnerAlive(current)) return { acquired: false, owner: current };
    if (!breakStale(path, current)) return { acquired: false, owner: current };
  }
  return { acquired: false, owner: readOwner(path) };
}

/** Removes a stale lock under a `.break` guard; true if the lock is gone afterwards. */
function breakStale(path: string, seen: LockOwner | null): boolean {
  const guard = `${path}.break`;
  if (!linkCreate(guard, JSON.stringify({ startedMs: Date.now(), pid: process.pid }))) {
    // A breaker that died mid-break leaves its guard; guards live milliseconds, so an old one is stale.
    try {
      const age = Date.now() - Number(JSON.parse(readFileSync(guard, 'utf8')).startedMs ?? 0);
      if (!(age < 10_000)) unlinkSync(guard);
    } catch {
      // vanished meanwhile
    }
    return false;
  }
  try {
    const current = readOwner(path);
    const same = JSON.stringify(current) === JSON.stringify(seen);
    if (same && (current === null || !isOwnerAlive(current))) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
    return true;
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      // ignore
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `done()` is true (another process published) or the lock can be taken.
 * Returns the lock, or null when `done()` became true first.
 */
export async function acquireOrWait(
  path: string,
  owner: LockOwner,
  done: () => boolean,
  options: { signal?: AbortSignal; pollMs?: number; onWait?: (holder: LockOwner | null) => void } = {},
): Promise<HeldLock | null> {
  let told = false;
  for (;;) {
    if (done()) return null;
    const attempt = tryAcquire(path, owner);
    if (attempt.acquired) return attempt.lock;
    if (!told) {
      options.onWait?.(attempt.owner);
      told = true;
    }
    if (options.signal?.aborted) throw new Error('interrupted while waiting for a lock');
    await sleep(options.pollMs ?? 150);
  }
}
