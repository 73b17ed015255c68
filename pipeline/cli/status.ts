/** `defrost status [CONFIG]`: per instance, cached or why not (new / params / code / input changed). */
import type { Command } from 'commander';
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
      const rows = instances.map((inst) => {
        const isCached = cached.has(inst.id);
        const reason: NotCachedReason | null = isCached ? null : explain(inst, byStage);
        return { inst, isCached, reason };
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
            })),
          }),
        );
        return 0;
      }
      for (const r of rows)
        ctx.out(`${r.isCached ? 'cached ' : 'pending'} ${r.inst.key} ${r.inst.id}${r.reason ? `  (${describeReason(r.reason)})` : ''}`);
      const n = rows.filter((r) => r.isCached).length;
      ctx.out(`${rows.length} instances: ${n} cached, ${rows.length - n} to run`);
      return 0;
    }),
  );
}
