/**
 * `defrost gc [CONFIG...] [--dry-run] [--yes] [--keep-last N]`: deletes published instances that
 * nothing still needs, with their plan records and logs (the rule: docs/engine.md#clean-up-gc).
 *
 * Kept: every instance a recorded run planned (all recorded runs; with `--keep-last N` only the
 * last N runs and every named one), every instance a CONFIG given here plans, every instance a
 * running `run` planned, and every key locked by a live process. Deleting needs `--yes` or a `y`
 * typed at a terminal; without a terminal and without `--yes` gc lists and deletes nothing
 * (exit 0). `--dry-run` lists what would go and the compute time it cost.
 */
import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { instancesInUse } from '../active-runs.js';
import { isLockHeld } from '../lock.js';
import { formatSeconds } from '../progress.js';
import { readRunRecords, runRecordsDir, type RunRecord } from '../run-records.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';
import { resolveConfigPath } from '../project-root.js';
import { confirm } from './confirm.js';
import { planConfig } from './plan.js';

interface GcOptions {
  store?: string;
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
  keepLast?: string;
}

/** The runs whose instances gc keeps: all of them, or the last N plus every named one. */
export function protectedRuns(records: readonly RunRecord[], keepLast: number | null): RunRecord[] {
  if (keepLast === null) return [...records];
  const last = new Set(records.slice(Math.max(0, records.length - keepLast)).map((r) => r.id));
  return records.filter((r) => last.has(r.id) || r.name !== null);
}

function parseKeepLast(value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--keep-last: got ${JSON.stringify(value)}; allowed: a whole number >= 0`);
  return n;
}

export function registerGcCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('gc')
    .argument('[configs...]', 'configs whose instances to keep as well (besides every recorded run)')
    .description('delete published instances that no recorded run, given config or running run needs')
    .option('--dry-run', 'list what would be deleted and the compute time it cost; delete nothing')
    .option('--yes', 'delete without asking (needed when there is no terminal to ask on)')
    .option('--keep-last <n>', 'keep only the last N recorded runs (and every named run) instead of all')
    .option('--json', 'print {"dry_run","deleted":[...],"kept":N,"locked":[...],"compute_s","confirmed"} as JSON');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (configs: string[], options: GcOptions) => {
      const keepLast = parseKeepLast(options.keepLast);
      const store = storeFrom(
        options,
        configs.map((c) => resolveConfigPath(c)),
      );
      if (!existsSync(store.root)) {
        ctx.err(`nothing to delete: no store at ${store.root}`);
        return 0;
      }
      // gc deletes: only in a marked store (an older defrost's store is adopted; anything else refused).
      if (!options.dryRun) store.ensureMarked(ctx.err);
      const { records, damaged } = readRunRecords(store.root);
      // A record that cannot be read may have protected anything: with one, nothing is provably
      // unneeded, so gc keeps every instance (and says which records and what to do).
      for (const path of damaged) ctx.err(`not a valid run record (damaged or edited): ${path}`);
      if (damaged.length > 0) {
        ctx.err(
          `kept everything: ${damaged.length} run record(s) cannot be read, so what their runs needed is unknown and nothing is ` +
            `provably unneeded. Restore them, or move them out of ${runRecordsDir(store.root)} if those runs need nothing, then run gc again.`,
        );
        if (options.json)
          ctx.out(
            JSON.stringify({
              dry_run: Boolean(options.dryRun),
              confirmed: false,
              deleted: [],
              would_delete: [],
              kept: store.scan().published.length,
              locked: [],
              compute_s: 0,
              damaged_records: damaged,
            }),
          );
        return 0;
      }
      const runs = protectedRuns(records, keepLast);
      const keep = new Set<string>();
      for (const r of runs) for (const id of r.instances) keep.add(id);
      if (configs.length > 0) {
        const project = await ctx.project();
        for (const file of configs) for (const inst of planConfig(project, file, [])) keep.add(`${inst.stage}/${inst.key}`);
      }
      const { published } = store.scan();
      // Instances a running `run` planned (it may be reading them) are kept like recorded ones
      // (and a running `exec`, and a Makefile build exported by `defrost make`: see active-runs.ts).
      const inUse = instancesInUse(store, { removeStale: !options.dryRun });
      // Only what a defrost publish sealed is defrost's to delete (docs/reliability.md).
      const doomed = published.filter((p) => !keep.has(`${p.stage}/${p.key}`) && p.manifest.integrity !== undefined);
      const locked: string[] = [];
      const candidates: typeof doomed = [];
      for (const p of doomed) {
        if (isLockHeld(store.lockPath(p.key)) || inUse.has(`${p.stage}/${p.key}`)) locked.push(`${p.stage}/${p.key}`);
        else candidates.push(p);
      }
      // Every path is built and validated (no symlinked `.plans` or `.logs`...) before anything
      // is deleted or even asked about: a refusal leaves the store as it was.
      const targets = candidates.map((p) => ({
        dir: store.instanceDir(p.stage, p.key),
        plan: store.planPath(p.stage, p.key),
        log: store.logPath(p.stage, p.key),
      }));
      const computeS = candidates.reduce((s, p) => s + p.manifest.duration_s, 0);
      const kept = published.length - candidates.length;
      const why =
        `kept ${kept}: needed by ${runs.length} recorded run(s)` +
        `${keepLast !== null ? ` (last ${keepLast} and named; ${records.length - runs.length} older run(s) not protected)` : ''}` +
        `${configs.length > 0 ? ` and ${configs.join(', ')}` : ''}${locked.length > 0 ? `, ${locked.length} in use by a running process` : ''}`;

      // Decide whether to delete: --dry-run never; --yes always; otherwise only after a yes at a terminal.
      let confirmed = false;
      if (!options.dryRun && candidates.length > 0) {
        if (options.yes) confirmed = true;
        else if (process.stdin.isTTY && process.stderr.isTTY && !options.json) {
          for (const p of candidates)
            ctx.err(`  ${p.stage} ${p.key} ${formatSeconds(p.manifest.duration_s).padStart(6)}  ${p.manifest.id}`);
          confirmed = await confirm(`Delete these ${candidates.length} instance(s) (${formatSeconds(computeS)} of compute)? [y/N] `);
        }
      }
      const deleted = candidates.map((p) => ({ stage: p.stage, key: p.key, id: p.manifest.id, duration_s: p.manifest.duration_s }));
      if (confirmed) {
        for (const t of targets) {
          store.remove(t.dir);
          rmSync(t.plan, { force: true });
          rmSync(t.log, { force: true });
        }
      }
      if (options.json) {
        ctx.out(
          JSON.stringify({
            dry_run: Boolean(options.dryRun),
            confirmed,
            // `deleted`: what went, or with --dry-run what would go; `would_delete` when unconfirmed.
            deleted: confirmed || options.dryRun ? deleted : [],
            would_delete: confirmed ? [] : deleted,
            kept,
            locked,
            compute_s: Math.round(computeS * 1000) / 1000,
          }),
        );
        return 0;
      }
      const verb = confirmed ? 'deleted' : 'would delete';
      if (!(process.stdin.isTTY && process.stderr.isTTY && !options.yes && !options.dryRun))
        for (const d of deleted) ctx.out(`${verb} ${d.stage} ${d.key} ${formatSeconds(d.duration_s).padStart(6)}  ${d.id}`);
      for (const l of locked) ctx.out(`kept (in use by a running process) ${l}`);
      ctx.err(`${verb} ${deleted.length} instance(s) (${formatSeconds(computeS)} of compute); ${why}`);
      if (!confirmed && !options.dryRun && candidates.length > 0)
        ctx.err(
          process.stdin.isTTY
            ? 'nothing deleted'
            : 'nothing deleted: no terminal to confirm on; run `defrost gc --yes` to delete them (`--dry-run` to only list)',
        );
      return 0;
    }),
  );
}
