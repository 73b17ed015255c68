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
import { isLockHeld } from '../lock.js';
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
      if (!existsSync(store.root)) {
        ctx.err(`nothing to delete: no store at ${store.root}`);
        return 0;
      }
      // gc deletes: only in a marked store (an older defrost's store is adopted; anything else refused).
      if (!options.dryRun) store.ensureMarked(ctx.err);
      const { published } = store.scan();
      // Instances a running `run` planned (it may be reading them) are kept like configured ones.
      // (and a running `exec`, and a Makefile build exported by `defrost make`: see active-runs.ts).
      const inUse = instancesInUse(store, { removeStale: !options.dryRun });
      const doomed = published.filter((p) => !keep.has(`${p.stage}/${p.key}`));
      const locked: string[] = [];
      const deleted: { stage: string; key: string; id: string }[] = [];
      // Every path is built and validated (no symlinked `.plans` or `.logs`...) before anything
      // is deleted: a refusal leaves the store as it was.
      const targets: { dir: string; plan: string; log: string }[] = [];
      for (const p of doomed) {
        if (isLockHeld(store.lockPath(p.key)) || inUse.has(`${p.stage}/${p.key}`)) {
          locked.push(`${p.stage}/${p.key}`);
          continue;
        }
        deleted.push({ stage: p.stage, key: p.key, id: p.manifest.id });
        targets.push({ dir: store.instanceDir(p.stage, p.key), plan: store.planPath(p.stage, p.key), log: store.logPath(p.stage, p.key) });
      }
      if (!options.dryRun)
        for (const t of targets) {
          store.remove(t.dir);
          rmSync(t.plan, { force: true });
          rmSync(t.log, { force: true });
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
