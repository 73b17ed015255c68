/**
 * One lock per instance key, so that concurrent runs (and `make -j` jobs) compute each instance
 * once. A lock is a file `<store>/.locks/<key>.lock` holding its owner `{host, pid, started, run,
 * token, pid_start, boot}`.
 *
 * Creation must be atomic on shared (NFS-like) filesystems where O_EXCL and flock are unreliable,
 * so the owner is written to a uniquely named temp file which is then `link()`ed to the lock name:
 * link fails with EEXIST if the lock exists, atomically, everywhere. Release is unlink.
 *
 * A lock whose owner is dead is stale and may be broken. An owner on this host is judged by its
 * process: gone (`kill(pid, 0)`), or a different process under the same pid (its start time, read
 * from /proc, differs from the one recorded; or the machine rebooted since) means dead. An owner
 * that cannot be judged that way (another host, or a lock without a start time, e.g. planted by
 * hand) holds a lease instead: the holder touches the lock file every few seconds (heartbeat), and
 * a lock not touched for `DEFROST_LOCK_LEASE_S` seconds (default 600) has expired. The Slurm
 * executor adds "the job is no longer in the queue". Breaking is itself guarded by a short-lived
 * `.break` lock so two processes cannot both break a lock and then delete each other's new one.
 * Every owner carries a random token, so a holder never removes a lock that is no longer its own.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { readRegularText, uniqueSuffix } from './fsutil.js';

export interface LockOwner {
  readonly host: string;
  readonly pid: number;
  /** ISO time the lock was taken. */
  readonly started: string;
  /** Id of the run (or `exec`) that took it. */
  readonly run: string;
  /** Executor-specific identity, e.g. a Slurm job id. */
  readonly job?: string;
  /** Random per-lock token: only the holder with this token releases or heartbeats the lock. */
  readonly token?: string;
  /** Start time of the owner process (clock ticks after boot, from /proc/<pid>/stat). */
  readonly pid_start?: string;
  /** /proc/sys/kernel/random/boot_id of the owner's host when it took the lock. */
  readonly boot?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Start time of a process of this host (field 22 of /proc/<pid>/stat), or undefined. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const thisBoot = readProc('/proc/sys/kernel/random/boot_id');

/** How long a lock that cannot be judged by its process lives without a heartbeat. */
export function leaseMs(): number {
  const s = Number(process.env.DEFROST_LOCK_LEASE_S ?? 600);
  return (Number.isFinite(s) && s > 0 ? s : 600) * 1000;
}

/**
 * What this host can tell about an owner's process: `alive` (that very process runs), `dead`
 * (gone, its pid now belongs to another process, or the host rebooted), or `unknown` (another
 * host, or no recorded start time to tell the owner from an unrelated process with its pid).
 */
export function localProcessState(owner: LockOwner): 'alive' | 'dead' | 'unknown' {
  if (owner.host !== hostname() || !Number.isInteger(owner.pid) || owner.pid <= 0) return 'unknown';
  if (owner.boot !== undefined && thisBoot !== undefined && owner.boot !== thisBoot) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  if (owner.pid_start === undefined) return 'unknown';
  const start = processStartTime(owner.pid);
  if (start === undefined) return 'unknown';
  return start === owner.pid_start ? 'alive' : 'dead';
}

/** `false`: the owner is certainly dead. `true`: alive, or cannot tell (then it is respected). */
export type LivenessCheck = (owner: LockOwner) => boolean;

const livenessChecks: LivenessCheck[] = [];

/** Adds a liveness check (e.g. Slurm's queue); an owner any check declares dead is stale. */
export function addLivenessCheck(check: LivenessCheck): void {
  livenessChecks.push(check);
}

/**
 * Whether an owner still holds what it took. `lastBeatMs` is the time of its last heartbeat (the
 * lock or record file's mtime); without it only the process and the added checks are asked.
 */
export function isOwnerAlive(owner: LockOwner, lastBeatMs?: number): boolean {
  const local = localProcessState(owner);
  if (local === 'dead') return false;
  if (!livenessChecks.every((check) => check(owner))) return false;
  if (local === 'alive') return true;
  return lastBeatMs === undefined || Date.now() - lastBeatMs <= leaseMs();
}

export function newOwner(run: string): LockOwner {
  // Inside a Slurm job the job id is recorded too: the Slurm lock check (executors/slurm-lock.ts)
  // declares the lock stale once that job has left the queue, from any host.
  const job = process.env.SLURM_JOB_ID;
  const pidStart = processStartTime(process.pid);
  return {
    host: hostname(),
    pid: process.pid,
    started: new Date().toISOString(),
    run,
    ...(job ? { job } : {}),
    token: randomBytes(8).toString('hex'),
    ...(pidStart !== undefined ? { pid_start: pidStart } : {}),
    ...(thisBoot !== undefined ? { boot: thisBoot } : {}),
  };
}

/** Same owner: the token when either has one, else host, pid and start. */
export function sameOwner(a: LockOwner, b: LockOwner): boolean {
  if (a.token !== undefined || b.token !== undefined) return a.token === b.token;
  return a.pid === b.pid && a.host === b.host && a.started === b.started;
}

/**
 * Keeps touching `path` (its mtime is the heartbeat) while `stillOurs()`; returns the stopper.
 * The timer is unref'd: it never keeps a process alive.
 */
export function startHeartbeat(path: string, stillOurs: () => boolean): () => void {
  const every = Math.max(200, Math.min(30_000, leaseMs() / 4));
  const timer = setInterval(() => {
    try {
      if (stillOurs()) {
        const now = new Date();
        utimesSync(path, now, now);
      }
    } catch {
      // Gone or unwritable: the lease lapses, which is the safe direction.
    }
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}

export class HeldLock {
  private released = false;
  private readonly stopHeartbeat: () => void;
  constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {
    this.stopHeartbeat = startHeartbeat(path, () => {
      const current = readOwner(path);
      return current !== null && sameOwner(current, owner);
    });
  }
  /** Idempotent; safe to call from exit handlers (synchronous). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.stopHeartbeat();
    try {
      const current = readOwner(this.path);
      // Never delete a lock that someone else took after ours was broken.
      if (current && !sameOwner(current, this.owner)) return;
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}

/** A lock file's owner and the time of its last heartbeat (mtime); null if absent. */
export function readLock(path: string): { owner: LockOwner | null; beatMs: number } | null {
  let beatMs: number;
  try {
    // lstat, not open: a FIFO planted as a lock must not block anything.
    beatMs = lstatSync(path).mtimeMs;
  } catch {
    return null;
  }
  return { owner: readOwner(path), beatMs };
}

export function readOwner(path: string): LockOwner | null {
  try {
    // A FIFO or device planted as a lock must not block or exhaust memory: it reads as "no owner".
    const owner = JSON.parse(readRegularText(path, 64 * 1024)) as LockOwner;
    return typeof owner === 'object' && owner !== null && typeof owner.host === 'string' && typeof owner.pid === 'number' ? owner : null;
  } catch {
    return null;
  }
}

/** Whether the lock at `path` is held by a live owner (its process and its heartbeat considered). */
export function isLockHeld(path: string): boolean {
  const lock = readLock(path);
  return lock !== null && lock.owner !== null && isOwnerAlive(lock.owner, lock.beatMs);
}

/** Atomically creates `path` with `content` unless it exists. */
function linkCreate(path: string, content: string): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${uniqueSuffix()}.tmp`;
  try {
    // 'wx': never write through anything planted under the temp name. A failed write (ENOSPC)
    // must not leave the temp file behind: the finally below removes it in every case.
    writeFileSync(tmp, content, { flag: 'wx' });
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export type LockAttempt =
  { readonly acquired: true; readonly lock: HeldLock } | { readonly acquired: false; readonly owner: LockOwner | null };

/** One attempt: take the lock, or break it if its owner is dead and try once more. */
export function tryAcquire(path: string, owner: LockOwner): LockAttempt {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (linkCreate(path, JSON.stringify(owner))) return { acquired: true, lock: new HeldLock(path, owner) };
    const lock = readLock(path);
    const current = lock?.owner ?? null;
    if (lock && current && isOwnerAlive(current, lock.beatMs)) return { acquired: false, owner: current };
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
    const lock = readLock(path);
    const current = lock?.owner ?? null;
    const same = JSON.stringify(current) === JSON.stringify(seen);
    if (same && (current === null || !isOwnerAlive(current, lock?.beatMs))) {
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
