/**
 * `defrost verify`: checks every published instance — manifest valid and unedited (integrity
 * digest), every listed file a regular file with the recorded size and sha256. Exit 1 naming each damaged instance and file. Directories
 * without a manifest are unfinished attempts (never results) and are only reported.
 */
import type { Command } from 'commander';
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
      let ok = 0;
      for (const p of published) {
        const damage = checkInstanceFiles(p.dir, p.manifest);
        for (const d of damage) damaged.push({ stage: p.stage, key: p.key, file: d.file, problem: d.problem });
        if (damage.length === 0) ok++;
      }
      if (options.json) ctx.out(JSON.stringify({ instances: published.length, ok, damaged, unfinished }));
      else {
        for (const d of damaged) ctx.out(`DAMAGED ${d.stage} ${d.key}: ${d.file}: ${d.problem}`);
        for (const u of unfinished) ctx.out(`unfinished ${u} (no manifest: not a result; the next run removes it)`);
        ctx.err(`${ok} of ${published.length} instance(s) verified${damaged.length ? `; ${damaged.length} problem(s)` : ''}`);
      }
      return damaged.length > 0 ? 1 : 0;
    }),
  );
}
