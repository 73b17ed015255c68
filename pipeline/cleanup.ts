/**
 * Removes what crashed attempts leave behind, at the start of a run that has work to do:
 * instance directories without a manifest (never results) whose key is not locked by a live
 * process (a live one may be between its rename and its manifest), and staging directories of
 * dead processes of this host. Directories whose manifest exists but is damaged (edited,
 * truncated) are moved to `<store>/.quarantine/` instead of deleted.
 */
import { hostname } from 'node:os';
import { quarantine } from './integrity.js';
import { isOwnerAlive, readOwner } from './lock.js';
import { isKey, type Store } from './store.js';

export interface CleanupReport {
  /** Unfinished attempts (no manifest) and dead processes' staging dirs: never results. */
  readonly removed: string[];
  /** Directories with a damaged manifest (edited, truncated): moved to `.quarantine/`, not deleted. */
  readonly quarantined: { from: string; to: string; reason: string }[];
}

export function cleanupLeftovers(store: Store): CleanupReport {
  const removed: string[] = [];
  const quarantined: { from: string; to: string; reason: string }[] = [];
  const lockedByLive = (key: string): boolean => {
    if (!isKey(key)) return false;
    const owner = readOwner(store.lockPath(key));
    return owner !== null && isOwnerAlive(owner);
  };
  for (const leftover of store.scan().leftovers) {
    if (leftover.reason === 'not an instance key') continue; // not ours: leave it alone
    if (lockedByLive(leftover.name)) continue;
    if (leftover.reason === 'no manifest.json') {
      store.remove(leftover.dir);
      removed.push(leftover.dir);
    } else {
      // A manifest was written, so this was a result once: keep the evidence, out of the way.
      const to = quarantine(store.root, leftover.stage, leftover.name, leftover.dir, leftover.reason);
      quarantined.push({ from: leftover.dir, to, reason: leftover.reason });
    }
  }
  for (const staging of store.stagingDirs()) {
    if (staging.host !== hostname()) continue;
    if (isOwnerAlive({ host: staging.host, pid: staging.pid, started: '', run: '' })) continue;
    store.remove(staging.dir);
    removed.push(staging.dir);
  }
  return { removed, quarantined };
}
