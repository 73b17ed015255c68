/**
 * Removes what crashed attempts leave behind, at the start of every run: instance directories
 * without a manifest (never results) whose key is not locked by a live process (a live one may be
 * between its rename and its manifest), staging directories whose key's lock is no longer held by
 * the process that made them, and the temp files of lock and record writes that a kill or a full
 * disk interrupted.
 *
 * Only what provably is defrost's is deleted (docs/reliability.md, "What defrost deletes"): a
 * directory carrying its `.defrost-attempt` mark or a sealed manifest (attempt-mark.ts), an empty
 * directory, a temp file named the way defrost names them. Everything else found where such
 * leftovers live — a directory with a damaged manifest, one without any evidence, a planted
 * symlink, FIFO or device — is moved to `<store>/.quarantine/` with a note, never deleted. Nothing
 * happens outside a marked store (the Store refuses), and nothing is followed through a symlink.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { quarantine } from './integrity.js';
import { isLockHeld, localProcessState, readLock } from './lock.js';
import { isKey, type Store } from './store.js';

export interface CleanupReport {
  /** Unfinished attempts (no manifest), orphaned staging dirs and temp files: never results. */
  readonly removed: string[];
  /** Directories with a damaged manifest (edited, truncated): moved to `.quarantine/`, not deleted. */
  readonly quarantined: { from: string; to: string; reason: string }[];
}

/** Temp files of atomic writes live microseconds; one this old belongs to an interrupted write. */
const TEMP_FILE_AGE_MS = 60_000;

export function cleanupLeftovers(store: Store, options: { leftovers?: boolean } = {}): CleanupReport {
  const removed: string[] = [];
  const quarantined: { from: string; to: string; reason: string }[] = [];
  const dispose = (stage: string, key: string, dir: string, reason: string): void => {
    const done = store.disposeLeftover(stage, key, dir, reason);
    if (done.removed) removed.push(dir);
    else quarantined.push({ from: dir, to: done.to, reason: done.why });
  };
  if (options.leftovers ?? true) {
    for (const leftover of store.scan().leftovers) {
      if (leftover.reason === 'not an instance key') continue; // not ours: leave it alone
      if (isKey(leftover.name) && isLockHeld(store.lockPath(leftover.name))) continue;
      if (leftover.reason === 'no manifest.json') dispose(leftover.stage, leftover.name, leftover.dir, 'no manifest.json');
      else {
        // A manifest was written (so this was a result once), or something was planted under a
        // key's name: keep the evidence, out of the way.
        const to = quarantine(store, leftover.stage, leftover.name, leftover.dir, leftover.reason);
        quarantined.push({ from: leftover.dir, to, reason: leftover.reason });
      }
    }
  }
  for (const staging of store.stagingDirs()) {
    // A staging dir lives only while its key's lock is held by the process that made it (it is
    // made after the lock is taken and removed before the lock is released).
    const lock = readLock(store.lockPath(staging.key));
    const owner = lock?.owner ?? null;
    if (owner !== null && owner.host === staging.host && owner.pid === staging.pid && isLockHeld(store.lockPath(staging.key))) continue;
    const maker = localProcessState({ host: staging.host, pid: staging.pid, started: '', run: '' });
    // A maker that may still live but holds no lock: give it a minute (it may be about to remove it).
    if (maker !== 'dead' && store.ageMs(staging.dir) < TEMP_FILE_AGE_MS) continue;
    dispose(staging.stage, staging.key, staging.dir, 'an abandoned staging directory');
  }
  removed.push(...removeStaleTempFiles(store, quarantined));
  return { removed, quarantined };
}

/**
 * Lock temp files and `.break` guards, and atomic-write temps in `.plans` and `.runs`, left by
 * kills or ENOSPC (named exactly as `fsutil.uniqueSuffix` names them); special files planted
 * there are quarantined, never opened.
 */
function removeStaleTempFiles(store: Store, quarantined: { from: string; to: string; reason: string }[]): string[] {
  const removed: string[] = [];
  const sweep = (dir: string, isTemp: (name: string) => boolean): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const stat = lstatSync(path);
        if (stat.isDirectory()) continue;
        if (!stat.isFile() && !stat.isSymbolicLink()) {
          // A FIFO, socket or device planted among the engine's records is never opened (see
          // fsutil.readRegularFile); it is moved aside by its name, inside the store.
          const reason = `a special file planted in ${basename(dir)}/`;
          quarantined.push({ from: path, to: quarantine(store, basename(dir).replace(/^\./, ''), name, path, reason), reason });
          continue;
        }
        if (!isTemp(name) || Date.now() - stat.mtimeMs < TEMP_FILE_AGE_MS) continue;
        rmSync(path, { force: true });
        removed.push(path);
      } catch {
        // vanished meanwhile
      }
    }
  };
  // `<name>.tmp-<host>-<pid>-<8 hex>` (writeFileAtomic) and `<name>.<host>-<pid>-<8 hex>.tmp` (lock.ts).
  const tempName = (name: string): boolean => /\.tmp-.+-\d+-[0-9a-f]{8}$|\..+-\d+-[0-9a-f]{8}\.tmp$/.test(name);
  sweep(store.locksDir, (name) => tempName(name) || /^[0-9a-f]{16}\.lock\.break$/.test(name));
  sweep(store.runsDir, tempName);
  for (const { stage } of store.planStages()) sweep(store.planStageDir(stage), tempName);
  return removed;
}
