/**
 * Configuration of the Slurm executor (`--executor slurm`): checks that sbatch exists, parses
 * `--slurm-args`, `--group` and `DEFROST_SLURM_POLL_MS`, and builds the executor with the
 * project's per-stage resources (see `registry.ts`). The executor itself is `slurm.ts`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { Executor } from '../executor.js';
import type { ExecutorOptions } from './registry.js';
import { SlurmExecutor } from './slurm.js';
import { DEFAULT_TOOLS, splitArgs } from './slurm-commands.js';

/** The `defrost` entry point jobs run: this build's own `bin/defrost.js` (dist/pipeline/executors/ -> bin/). */
export const CLI_PATH = fileURLToPath(new URL('../../../bin/defrost.js', import.meta.url));

/** `DEFROST_SLURM_POLL_MS` (200..60000), else the default of one squeue per second. */
function pollIntervalFromEnv(): number | undefined {
  const raw = process.env.DEFROST_SLURM_POLL_MS;
  if (raw === undefined || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 200 || ms > 60_000)
    throw new UsageError(`DEFROST_SLURM_POLL_MS: got ${JSON.stringify(raw)}; allowed: milliseconds from 200 to 60000`);
  return ms;
}

/** Entry point of `--executor slurm` (see `registry.ts`). */
export async function createExecutor(options: ExecutorOptions): Promise<Executor> {
  try {
    execFileSync(DEFAULT_TOOLS.sbatch, ['--version'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new UsageError('--executor slurm: sbatch is not available here (run on a Slurm submit host, or use --executor local)');
  }
  let slurmArgs: string[] = [];
  try {
    slurmArgs = splitArgs(options.slurmArgs ?? '');
  } catch (error) {
    throw new UsageError(`--slurm-args: got ${JSON.stringify(options.slurmArgs)}; ${(error as Error).message}`);
  }
  const group = options.group ?? 1;
  if (!Number.isInteger(group) || group < 1) throw new UsageError(`--group: got ${String(options.group)}; allowed: a whole number >= 1`);
  return new SlurmExecutor({
    store: options.store,
    cliPath: CLI_PATH,
    resources: options.resources,
    slurmArgs,
    group,
    // A site (or a test on a one-node cluster) may poll faster or slower than once a second.
    pollMs: pollIntervalFromEnv(),
    env: { ...options.env, DEFROST_PROJECT_MODULE: options.projectModule },
    note: (line) => process.stderr.write(`slurm: ${line}\n`),
  });
}
