/**
 * Removes what crashed attempts leave behind, at the start of a run that has work to do:
 * instance directories without a valid manifest (never results) whose key is not locked by a
 * live process (a live one may be between its rename and its manifest), and staging
 * directories of dead processes of this host.
 */
import { hostname } from 'node:os';
import { isOwnerAlive, readOwner } from './lock.js';
import { isKey, type Store } from './store.js';

export interface CleanupReport {
  readonly removed: string[];
}

export function cleanupLeftovers(store: Store): CleanupReport {
  const removed: string[] = [];
  const lockedByLive = (key: string): boolean => {
    if (!isKey(key)) return false;
    const owner = readOwner(store.lockPath(key));
    return owner !== null && isOwnerAlive(owner);
  };
  for (const leftover of store.scan().leftovers) {
    if (leftover.reason === 'not an instance key') continue; // not ours: leave it alone
    if (lockedByLive(leftover.name)) continue;
    store.remove(leftover.dir);
    removed.push(leftover.dir);
  }
  for (const staging of store.stagingDirs()) {
    if (staging.host !== hostname()) continue;
    if (isOwnerAlive({ host: staging.host, pid: staging.pid, started: '', run: '' })) continue;
    store.remove(staging.dir);
    removed.push(staging.dir);
  }
  return { removed };
}
