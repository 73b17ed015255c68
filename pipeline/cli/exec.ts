/**
 * `defrost exec STAGE KEY [KEY...]`: runs planned instances in this process, in turn (what
 * exported Makefiles and Slurm jobs call; pool workers run the same `execInstance`). Exit 0 all
 * executed or already cached, 1 any failed, 2 unknown stage/key or no plan record.
 */
import { availableParallelism, hostname } from 'node:os';
import type { Command } from 'commander';
import { registerActiveRun, touchBuildsOf } from '../active-runs.js';
import { abandonAll, execInstance } from '../exec.js';
import { writeExecRecord } from '../exec-record.js';
import type { ExecResult } from '../executor.js';
import { publishedManifest } from '../manifest.js';
import { formatSeconds } from '../progress.js';
import { act, addStoreOption, storeFrom, type CliContext } from './context.js';

interface ExecOptions {
  store?: string;
  force?: boolean;
  verbose?: boolean;
}

export function registerExecCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('exec')
    .argument('<stage>', 'stage name')
    .argument(
      '<keys...>',
      'instance key(s) (from the plan: `defrost make`/`run` write the plan records); several run in turn in this process',
    )
    .description('run planned instances of one stage (what `make` and cluster jobs call)')
    .option('--force', 'recompute even if already published')
    .option('--verbose', "also show the stage's output on stderr");
  addStoreOption(cmd);
  cmd.action(
    act(ctx, async (stage: string, keys: string[], options: ExecOptions) => {
      const store = storeFrom(options);
      const records = keys.map((key) => store.readPlanRecord(stage, key)); // exit 2 if unknown
      store.ensureMarked(ctx.err);
      // An exported Makefile's build stays protected from `gc` while its execs run.
      for (const key of keys) touchBuildsOf(store, stage, key);
      const isCached = (key: string): boolean => !options.force && publishedManifest(store.instanceDir(stage, key), key) !== null;
      /** exec's structured word on each key, read by executors that run exec out of process. */
      const recordResult = (key: string, result: ExecResult, started: Date): void => {
        try {
          writeExecRecord(store, stage, key, result, started);
        } catch (error) {
          // The manifest stays the truth; without a record a Slurm run cannot tell cached from executed.
          ctx.err(`note: could not record the result of ${key}: ${(error as Error).message}`);
        }
      };
      if (keys.every(isCached)) {
        for (const [i, key] of keys.entries()) {
          ctx.err(`cached   ${records[i].id} ${key}`);
          recordResult(key, { status: 'cached', seconds: 0 }, new Date());
        }
        return 0;
      }
      // In a Slurm job, locks of other jobs are judged by the queue too (see executors/slurm-lock.ts).
      if (process.env.SLURM_JOB_ID) (await import('../executors/slurm-lock.js')).installSlurmLockCheck();
      const project = await ctx.project();
      const threads = Math.max(1, Number(process.env.DEFROST_THREADS ?? availableParallelism()) || 1);
      const runtime = await project.initRuntime(threads);
      const stop = (code: number) => () => {
        abandonAll();
        process.exit(code);
      };
      process.once('SIGINT', stop(130));
      process.once('SIGTERM', stop(143));
      // Several keys (a Slurm `--group` job) share one process, so the runtime is initialised once.
      // While it works, `gc` keeps what this exec computes and reads.
      const used = records.flatMap((r) => [{ stage: r.stage, key: r.key }, ...Object.values(r.inputs)]);
      const active = registerActiveRun(store, used, 'exec');
      let exitCode = 0;
      for (const [i, key] of keys.entries()) {
        const record = records[i];
        const started = new Date();
        const result = await execInstance({
          project,
          store,
          stage,
          key,
          threads,
          runtime,
          runId: `exec-${hostname()}-${process.pid}`,
          force: options.force,
          echo: options.verbose,
          onWait: () => ctx.err(`waiting  ${record.id} ${key} (another process is computing it)`),
        });
        recordResult(key, result, started);
        switch (result.status) {
          case 'executed':
            ctx.err(`executed ${record.id} ${key} in ${formatSeconds(result.seconds)}`);
            break;
          case 'cached':
            ctx.err(`cached   ${record.id} ${key}`);
            break;
          case 'failed':
            ctx.err(`FAILED   ${record.id} ${key}: ${result.reason}${result.logPath ? `\n  log: ${result.logPath}` : ''}`);
            exitCode = 1;
            break;
        }
      }
      active.end();
      for (const key of keys) touchBuildsOf(store, stage, key);
      return exitCode;
    }),
  );
}
