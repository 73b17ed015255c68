/** `defrost status [CONFIG]`: per instance, cached or why not (new / params / code / input changed). */
import { readdirSync } from 'node:fs';
import type { Command } from 'commander';
import { isOwnerAlive, readLock } from '../lock.js';
import type { Store } from '../store.js';
import { findCached } from '../scheduler.js';
import { describeReason, explain, indexByStage, type NotCachedReason } from '../why.js';
import { DEFAULT_CONFIG, act, addSetOption, addStoreOption, storeFrom, type CliContext } from './context.js';
import { planConfig } from './plan.js';
import { resolveConfigPath } from '../project-root.js';
import { readRunRecords } from '../run-records.js';
import type { PublishedInstance } from '../store.js';

interface StatusOptions {
  set: string[];
  store?: string;
  json?: boolean;
  changed?: boolean;
}

/** Not-cached instances per reason, in a fixed order (reasons with none are left out). */
function countReasons(rows: readonly { reason: NotCachedReason | null }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of ['new', 'params changed', 'input changed', 'code changed', 'unknown']) {
    const n = rows.filter((r) => r.reason?.kind === kind).length;
    if (n > 0) counts[kind] = n;
  }
  return counts;
}

/**
 * The published instances a planned instance may be compared with: those of earlier runs of the
 * same config file, so that a config never run before reads `new` rather than "params changed"
 * against another config's instances. A store without run records (made by `exec` or `make`, or
 * by an older defrost) compares with everything published, as before.
 */
function comparable(storeRoot: string, published: readonly PublishedInstance[], config: string): PublishedInstance[] {
  const { records } = readRunRecords(storeRoot);
  if (records.length === 0) return [...published];
  const path = resolveConfigPath(config);
  const planned = new Set(records.filter((r) => r.config_path === path).flatMap((r) => r.instances));
  return published.filter((p) => planned.has(`${p.stage}/${p.key}`));
}

export function registerStatusCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('status')
    .argument('[config]', 'experiment config (YAML)', DEFAULT_CONFIG)
    .description('show, per instance, whether it is cached and why not')
    .option('--json', 'print {"total","cached","by_reason","instances":[...]} as JSON')
    .option('--changed', 'only what would run, grouped by reason (new, params changed, input changed, code changed) with counts');
  addSetOption(cmd);
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (config: string, options: StatusOptions) => {
      const project = await ctx.project();
      const instances = planConfig(project, config, options.set);
      const store = storeFrom(options, [resolveConfigPath(config)]);
      const cached = findCached(store, instances);
      const byStage = indexByStage(comparable(store.root, store.scan().published, config));
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
            by_reason: countReasons(rows),
            instances: (options.changed ? rows.filter((r) => !r.isCached) : rows).map((r) => ({
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
      const counts = countReasons(rows);
      const line = (r: (typeof rows)[number], reason: string): string =>
        `${r.inst.key} ${r.inst.id}${reason}` +
        (r.lock ? `  [${r.lock.live ? 'locked by' : 'stale lock of'} ${r.lock.host} pid ${r.lock.pid}]` : '');
      if (options.changed) {
        for (const kind of Object.keys(counts)) {
          ctx.out(`${kind} (${counts[kind]}):`);
          for (const r of rows.filter((x) => x.reason?.kind === kind))
            ctx.out(`  ${line(r, kind === 'new' ? '' : `  (${describeReason(r.reason!).replace(`${kind}: `, '')})`)}`);
        }
      } else
        for (const r of rows)
          ctx.out(
            `${r.isCached ? 'cached ' : r.lock?.live ? 'running' : 'pending'} ${line(r, r.reason ? `  (${describeReason(r.reason)})` : '')}`,
          );
      const n = rows.filter((r) => r.isCached).length;
      const reasons = Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      ctx.out(`${rows.length} instances: ${n} cached, ${rows.length - n} to run${reasons ? ` (${reasons})` : ''}`);
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
