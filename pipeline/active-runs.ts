/**
 * Which instances running processes use, so that `gc` never deletes one from under them.
 *
 * A run holds a lock only on the instances it is computing, but it also reads cached ones (the
 * inputs of what it computes). Each `run`, and each `exec` (what exported Makefiles and cluster
 * jobs call), therefore records what it uses in `<store>/.runs/<host>-<pid>-<rand>.json` while it
 * works and removes the record when it ends; the record's mtime is a heartbeat (see lock.ts), so
 * the record of a process that died (kill -9), or of an unrelated process that reuses its pid, is
 * ignored and removed by the next `gc`.
 *
 * An exported Makefile build (`defrost make`) runs many short `exec`s with gaps between them, so
 * `make` also writes a build record, `<store>/.runs/build-<hash>.json`, naming every instance of
 * the Makefile; each `exec` of one of those instances touches it. `gc` keeps the instances of a
 * build record touched within `BUILD_LEASE_MS` (docs/reliability.md).
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularText, uniqueSuffix, writeFileAtomic } from './fsutil.js';
import { isOwnerAlive, newOwner, startHeartbeat, type LockOwner } from './lock.js';
import type { Store } from './store.js';

interface ActiveRunRecord {
  readonly owner: LockOwner;
  /** `stage/key` of every planned instance. */
  readonly instances: readonly string[];
  /** Who is running, for `defrost runs` (absent for `exec`, and in records of older versions). */
  readonly run?: RunIdentity;
}

/** What `defrost runs` lists about a run in progress: what its record will say when it ends. */
export interface RunIdentity {
  readonly id: string;
  readonly name: string | null;
  /** ISO date of the start. */
  readonly date: string;
  readonly config: string;
  readonly overrides: readonly string[];
}

interface BuildRecord {
  readonly build: string;
  readonly created: string;
  readonly instances: readonly string[];
}

/** A Makefile build not touched by any of its `exec`s for this long no longer protects its instances. */
export const BUILD_LEASE_MS = 24 * 3600 * 1000;

export interface ActiveRun {
  /** Removes the record; idempotent and synchronous (safe in exit paths). */
  end(): void;
}

export function registerActiveRun(
  store: Store,
  instances: readonly { stage: string; key: string }[],
  label = 'run',
  run?: RunIdentity,
): ActiveRun {
  // Records of runs that died without cleaning up (kill -9) protect nothing; drop them.
  instancesInUse(store, { removeStale: true });
  const path = join(store.runsDir, `${uniqueSuffix()}.json`);
  const owner = newOwner(`${label}-${process.pid}`);
  const record: ActiveRunRecord = { owner, instances: instances.map((i) => `${i.stage}/${i.key}`), ...(run ? { run } : {}) };
  writeFileAtomic(path, JSON.stringify(record));
  const stopHeartbeat = startHeartbeat(path, () => true);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    stopHeartbeat();
    rmSync(path, { force: true });
  };
  process.once('exit', end);
  return { end };
}

const buildName = (instances: readonly string[]): string =>
  `build-${createHash('sha256').update(instances.join('\n')).digest('hex').slice(0, 16)}.json`;

/** Records an exported Makefile's instances (`defrost make`), so `gc` keeps them while it builds. */
export function registerBuild(store: Store, instances: readonly { stage: string; key: string }[]): string {
  const list = instances.map((i) => `${i.stage}/${i.key}`);
  const name = buildName(list);
  const record: BuildRecord = { build: name.slice(0, -5), created: new Date().toISOString(), instances: list };
  writeFileAtomic(join(store.runsDir, name), JSON.stringify(record));
  return name;
}

/** Touches every build record naming `stage/key`: an `exec` of that build is alive now. */
export function touchBuildsOf(store: Store, stage: string, key: string): void {
  const id = `${stage}/${key}`;
  for (const { path, record } of readRecords(store)) {
    if (!isBuildRecord(record) || !record.instances.includes(id)) continue;
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // A record we cannot touch protects for its remaining lease.
    }
  }
}

function isBuildRecord(record: unknown): record is BuildRecord {
  const r = record as Partial<BuildRecord>;
  return typeof r.build === 'string' && Array.isArray(r.instances);
}
function isRunRecord(record: unknown): record is ActiveRunRecord {
  const r = record as Partial<ActiveRunRecord>;
  return typeof r.owner === 'object' && r.owner !== null && Array.isArray(r.instances);
}

/** Every parseable record under `.runs` (regular files only: a FIFO or symlink is never opened). */
function readRecords(store: Store): { path: string; record: unknown; mtimeMs: number }[] {
  const dir = store.runsDir;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: { path: string; record: unknown; mtimeMs: number }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const mtimeMs = lstatSync(path).mtimeMs;
      out.push({ path, record: JSON.parse(readRegularText(path, 64 * 1024 * 1024)) as unknown, mtimeMs });
    } catch {
      continue; // being written, damaged, or not a regular file: not evidence of use
    }
  }
  return out;
}

function isRunIdentity(value: unknown): value is RunIdentity {
  const r = value as Partial<RunIdentity> | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.id === 'string' &&
    (r.name === null || typeof r.name === 'string') &&
    typeof r.date === 'string' &&
    typeof r.config === 'string' &&
    Array.isArray(r.overrides) &&
    r.overrides.every((o) => typeof o === 'string')
  );
}

/** The runs in progress now (live `run` and `recommend` commands), oldest first. */
export function runningRuns(store: Store): RunIdentity[] {
  const out: RunIdentity[] = [];
  for (const { record, mtimeMs } of readRecords(store))
    if (isRunRecord(record) && isRunIdentity(record.run) && isOwnerAlive(record.owner, mtimeMs)) out.push(record.run);
  return out.sort((a, b) => a.date.localeCompare(b.date) || a.id.localeCompare(b.id));
}

/**
 * `stage/key` of every instance used by a live run or `exec`, or by a Makefile build touched
 * within its lease; removes records of dead runs if asked (never anything but those records).
 */
export function instancesInUse(store: Store, options: { removeStale?: boolean } = {}): Set<string> {
  const out = new Set<string>();
  for (const { path, record, mtimeMs } of readRecords(store)) {
    let live: boolean;
    if (isRunRecord(record)) live = isOwnerAlive(record.owner, mtimeMs);
    else if (isBuildRecord(record)) live = Date.now() - mtimeMs <= BUILD_LEASE_MS;
    else continue;
    if (!live) {
      if (options.removeStale) rmSync(path, { force: true });
      continue;
    }
    for (const i of record.instances) if (typeof i === 'string') out.add(i);
  }
  return out;
}
