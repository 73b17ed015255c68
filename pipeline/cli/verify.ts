/**
 * `defrost verify`: checks every published instance — manifest valid and unedited (integrity
 * digest), every listed file a regular file with the recorded size and sha256; every plan record
 * content-addressed (it hashes to its key); no symbolic link or special file where the store keeps
 * its own directories or instances. Exit 1 naming each damaged instance and file. Directories
 * without a manifest are unfinished attempts (never results) and are only reported.
 */
import { lstatSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { StoreLayoutError } from '../errors.js';
import { kindOf } from '../fsutil.js';
import { INTERNAL_DIRS } from '../store-dirs.js';
import { checkInstanceFiles } from '../integrity.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';

interface VerifyOptions {
  store?: string;
  json?: boolean;
}

interface Damage {
  stage: string;
  key: string;
  file: string;
  problem: string;
}

export function registerVerifyCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('verify')
    .description('check every published instance: manifest valid, files present, sizes and sha256 match')
    .option('--json', 'print {"instances","ok","damaged":[...],"unfinished":[...]} as JSON');
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (options: VerifyOptions) => {
      const store = storeFrom(options);
      const { published, leftovers } = store.scan();
      const damaged: Damage[] = [];
      const unfinished: string[] = [];
      for (const l of leftovers) {
        if (l.reason === 'no manifest.json') unfinished.push(`${l.stage}/${l.name}`);
        else damaged.push({ stage: l.stage, key: l.name, file: 'manifest.json', problem: l.reason });
      }
      // The engine's own directories: plain directories, never links out of the store.
      for (const name of INTERNAL_DIRS) {
        try {
          store.internal(name);
        } catch (error) {
          if (!(error instanceof StoreLayoutError)) throw error;
          const stat = lstatSync(join(store.root, name));
          damaged.push({ stage: '', key: '', file: name, problem: `is ${kindOf(stat)} (never followed or written through)` });
        }
      }
      for (const stage of store.stageNames())
        if (lstatSync(join(store.root, stage)).isSymbolicLink())
          damaged.push({ stage, key: '', file: stage, problem: 'stage directory is a symbolic link (never followed)' });
      // Plan records: what `exec` would run must hash to the key it runs under.
      let plans = 0;
      try {
        for (const { stage, key } of store.planRecords()) {
          plans++;
          const checked = store.checkPlanRecord(stage, key);
          if (!checked.ok) damaged.push({ stage, key, file: relative(store.root, store.planPath(stage, key)), problem: checked.problem });
        }
      } catch (error) {
        // A planted plans folder (or stage folder in it) is reported above, never read through.
        if (!(error instanceof StoreLayoutError)) throw error;
      }
      let ok = 0;
      for (const p of published) {
        const damage = checkInstanceFiles(p.dir, p.manifest);
        for (const d of damage) damaged.push({ stage: p.stage, key: p.key, file: d.file, problem: d.problem });
        if (damage.length === 0) ok++;
      }
      if (options.json) ctx.out(JSON.stringify({ instances: published.length, ok, plan_records: plans, damaged, unfinished }));
      else {
        for (const d of damaged)
          ctx.out(`DAMAGED ${[d.stage, d.key].filter(Boolean).join(' ')}${d.stage ? ': ' : ''}${d.file}: ${d.problem}`);
        for (const u of unfinished) ctx.out(`unfinished ${u} (no manifest: not a result; the next run removes it)`);
        ctx.err(
          `${ok} of ${published.length} instance(s) and ${plans} plan record(s) verified${damaged.length ? `; ${damaged.length} problem(s)` : ''}`,
        );
      }
      return damaged.length > 0 ? 1 : 0;
    }),
  );
}
