/**
 * `defrost gc [CONFIG...] [--dry-run]`: deletes published instances that no given config
 * (default: every `experiments/*.yaml`) plans, with their plan records and logs. An instance
 * whose key is locked by a live process, or planned by a running `run`, is never deleted. `--dry-run` lists exactly what would go.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { instancesInUse } from '../active-runs.js';
import { isOwnerAlive, readOwner } from '../lock.js';
import { formatSeconds } from '../progress.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';
import { planConfig } from './plan.js';

interface GcOptions {
  store?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerGcCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('gc')
    .argument('[configs...]', 'configs whose instances to keep (default: experiments/*.yaml)')
    .description('delete published instances that no config plans')
    .option('--dry-run', 'list what would be deleted; delete nothing')
    .option('--json', 'print {"deleted":[...],"kept":N,"locked":[...]} as JSON');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (configs: string[], options: GcOptions) => {
      let files = configs;
      if (files.length === 0) {
        if (!existsSync('experiments')) throw new UsageError('no configs given and no experiments/ directory here');
        files = readdirSync('experiments')
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join('experiments', f));
      }
      const project = await ctx.project();
      const keep = new Set<string>();
      for (const file of files) for (const inst of planConfig(project, file, [])) keep.add(`${inst.stage}/${inst.key}`);
      const store = storeFrom(options);
      const { published } = store.scan();
      // Instances a running `run` planned (it may be reading them) are kept like configured ones.
      const inUse = instancesInUse(store.root, { removeStale: !options.dryRun });
      const doomed = published.filter((p) => !keep.has(`${p.stage}/${p.key}`));
      const locked: string[] = [];
      const deleted: { stage: string; key: string; id: string }[] = [];
      for (const p of doomed) {
        const owner = readOwner(store.lockPath(p.key));
        if ((owner && isOwnerAlive(owner)) || inUse.has(`${p.stage}/${p.key}`)) {
          locked.push(`${p.stage}/${p.key}`);
          continue;
        }
        deleted.push({ stage: p.stage, key: p.key, id: p.manifest.id });
        if (!options.dryRun) {
          store.remove(p.dir);
          rmSync(store.planPath(p.stage, p.key), { force: true });
          rmSync(store.logPath(p.stage, p.key), { force: true });
        }
      }
      if (options.json) {
        ctx.out(JSON.stringify({ dry_run: Boolean(options.dryRun), deleted, kept: published.length - doomed.length, locked }));
        return 0;
      }
      const verb = options.dryRun ? 'would delete' : 'deleted';
      for (const d of deleted) ctx.out(`${verb} ${d.stage} ${d.key} ${d.id}`);
      for (const l of locked) ctx.out(`kept (in use by a running process) ${l}`);
      const total = doomed.reduce((s, p) => s + p.manifest.duration_s, 0);
      ctx.err(
        `${verb} ${deleted.length} instance(s) (${formatSeconds(total)} of compute); kept ${published.length - doomed.length} planned by ${files.join(', ')}`,
      );
      return 0;
    }),
  );
}
