/** `defrost status [CONFIG]`: per instance, cached or why not (new / params / code / input changed). */
import { readdirSync } from 'node:fs';
import type { Command } from 'commander';
import { isOwnerAlive, readLock } from '../lock.js';
import type { Store } from '../store.js';
import { findCached } from '../scheduler.js';
import { describeReason, explain, indexByStage, type NotCachedReason } from '../why.js';
import { DEFAULT_CONFIG, act, addSetOption, addStoreOption, storeFrom, type CliContext } from './context.js';
import { planConfig } from './plan.js';

interface StatusOptions {
  set: string[];
  store?: string;
  json?: boolean;
}

export function registerStatusCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('status')
    .argument('[config]', 'experiment config (YAML)', DEFAULT_CONFIG)
    .description('show, per instance, whether it is cached and why not')
    .option('--json', 'print {"total","cached","instances":[...]} as JSON');
  addSetOption(cmd);
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (config: string, options: StatusOptions) => {
      const project = await ctx.project();
      const instances = planConfig(project, config, options.set);
      const store = storeFrom(options);
      const cached = findCached(store, instances);
      const byStage = indexByStage(store.scan().published);
      const locks = lockStates(store);
      const rows = instances.map((inst) => {
        const isCached = cached.has(inst.id);
        const reason: NotCachedReason | null = isCached ? null : explain(inst, byStage);
        return { inst, isCached, reason, lock: isCached ? undefined : locks.get(inst.key) };
      });
      if (options.json) {
        ctx.out(
          JSON.stringify({
            total: rows.length,
            cached: rows.filter((r) => r.isCached).length,
            instances: rows.map((r) => ({
              id: r.inst.id,
              stage: r.inst.stage,
              key: r.inst.key,
              cached: r.isCached,
              reason: r.reason ? r.reason.kind : null,
              detail: r.reason ? describeReason(r.reason) : null,
              ...(r.reason?.kind === 'params changed' ? { changes: r.reason.changes } : {}),
              ...(r.reason?.kind === 'input changed' ? { inputs: r.reason.inputs } : {}),
              ...(r.lock ? { lock: r.lock } : {}),
            })),
          }),
        );
        return 0;
      }
      for (const r of rows)
        ctx.out(
          `${r.isCached ? 'cached ' : r.lock?.live ? 'running' : 'pending'} ${r.inst.key} ${r.inst.id}${r.reason ? `  (${describeReason(r.reason)})` : ''}` +
            (r.lock ? `  [${r.lock.live ? 'locked by' : 'stale lock of'} ${r.lock.host} pid ${r.lock.pid}]` : ''),
        );
      const n = rows.filter((r) => r.isCached).length;
      ctx.out(`${rows.length} instances: ${n} cached, ${rows.length - n} to run`);
      return 0;
    }),
  );
}

interface LockState {
  readonly host: string;
  readonly pid: number;
  /** Held by a live owner (its process, or a fresh heartbeat): being computed now. */
  readonly live: boolean;
}

/**
 * The lock of every key that has one, read once from `.locks/` (not once per instance): a locked
 * instance is being computed, not "new"; a stale lock is broken by the next run.
 */
function lockStates(store: Store): Map<string, LockState> {
  const out = new Map<string, LockState>();
  let names: string[];
  try {
    names = readdirSync(store.locksDir);
  } catch {
    return out;
  }
  for (const name of names) {
    const m = /^([0-9a-f]{16})\.lock$/.exec(name);
    if (!m) continue;
    const lock = readLock(store.lockPath(m[1]));
    if (lock?.owner) out.set(m[1], { host: lock.owner.host, pid: lock.owner.pid, live: isOwnerAlive(lock.owner, lock.beatMs) });
  }
  return out;
}
