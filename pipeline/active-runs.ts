/**
 * Which instances running `defrost run`s use, so that `gc` never deletes one from under them.
 *
 * A run holds a lock only on the instances it is computing, but it also reads cached ones (the
 * inputs of what it computes). Each run therefore records its whole plan in
 * `<store>/.runs/<host>-<pid>-<rand>.json` while it works and removes the record when it ends; a
 * record whose process is dead (killed with -9) is ignored and removed by the next `gc`.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueSuffix, writeFileAtomic } from './fsutil.js';
import { isOwnerAlive, newOwner, type LockOwner } from './lock.js';

interface ActiveRunRecord {
  readonly owner: LockOwner;
  /** `stage/key` of every planned instance. */
  readonly instances: readonly string[];
}

export interface ActiveRun {
  /** Removes the record; idempotent and synchronous (safe in exit paths). */
  end(): void;
}

const runsDir = (storeRoot: string): string => join(storeRoot, '.runs');

export function registerActiveRun(storeRoot: string, instances: readonly { stage: string; key: string }[]): ActiveRun {
  // Records of runs that died without cleaning up (kill -9) protect nothing; drop them.
  instancesInUse(storeRoot, { removeStale: true });
  const path = join(runsDir(storeRoot), `${uniqueSuffix()}.json`);
  const record: ActiveRunRecord = { owner: newOwner(`run-${process.pid}`), instances: instances.map((i) => `${i.stage}/${i.key}`) };
  writeFileAtomic(path, JSON.stringify(record));
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    rmSync(path, { force: true });
  };
  process.once('exit', end);
  return { end };
}

/** `stage/key` of every instance planned by a live run; removes records of dead ones if asked. */
export function instancesInUse(storeRoot: string, options: { removeStale?: boolean } = {}): Set<string> {
  const out = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(runsDir(storeRoot)).filter((n) => n.endsWith('.json'));
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(runsDir(storeRoot), name);
    let record: ActiveRunRecord;
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as ActiveRunRecord;
    } catch {
      continue; // being written (atomic rename makes this rare) or damaged: not evidence of use
    }
    if (!record.owner || !Array.isArray(record.instances)) continue;
    if (!isOwnerAlive(record.owner)) {
      if (options.removeStale) rmSync(path, { force: true });
      continue;
    }
    for (const i of record.instances) if (typeof i === 'string') out.add(i);
  }
  return out;
}
