/**
 * Executors by name, for `--executor`. Each is loaded lazily (the scheduler's import graph stays
 * light). `slurm` is provided by `executors/slurm.ts` once it exists: that module must export
 * `createExecutor(options: ExecutorOptions): Promise<Executor>`; until then `--executor slurm`
 * says it is not available.
 */
import { UsageError } from '../errors.js';
import type { Executor } from '../executor.js';

export interface ExecutorOptions {
  /** Instances at a time (`--jobs`). */
  readonly jobs: number;
  /** Compute threads per instance. */
  readonly threads: number;
  /** Absolute store directory. */
  readonly store: string;
  /** URL of the project module (workers import it). */
  readonly projectModule: string;
  /** Extra environment for whatever runs the instances (DEFROST_BACKEND...). */
  readonly env: Readonly<Record<string, string>>;
  /** Slurm only (`executors/slurm.ts`): `--slurm-args`, `--group`, and the validated config (its `resources`). */
  readonly slurmArgs?: string;
  readonly group?: number;
  readonly config?: unknown;
}

export const EXECUTORS = ['local', 'slurm'] as const;

export async function createExecutor(name: string, options: ExecutorOptions): Promise<Executor> {
  if (name === 'local') {
    const { LocalExecutor } = await import('./local.js');
    const { join } = await import('node:path');
    return new LocalExecutor({
      slots: options.jobs,
      threads: options.threads,
      projectModule: options.projectModule,
      workerLog: join(options.store, '.logs', 'workers.log'),
      env: options.env,
    });
  }
  if (name === 'slurm') {
    let mod: { createExecutor?: (o: ExecutorOptions) => Promise<Executor> };
    try {
      // A variable specifier: the module may not exist yet, and tsc must not insist that it does.
      const specifier = './slurm.js';
      mod = (await import(specifier)) as typeof mod;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
        throw new UsageError('--executor slurm is not available in this build (use --executor local)');
      throw error;
    }
    if (!mod.createExecutor) throw new UsageError('--executor slurm is not available in this build (use --executor local)');
    return mod.createExecutor(options);
  }
  throw new UsageError(`--executor: got ${JSON.stringify(name)}; allowed: ${EXECUTORS.join(', ')}`);
}
